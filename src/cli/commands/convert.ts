import { basename } from 'node:path';
import { checkOutputFile, refuseOverwritingInputs, writeFileAtomic } from '../../io/files.js';
import { fail, fileSpan, formatDiagnostic, note } from '../../diag/diagnostic.js';
import { expectedFromSpec, importWeights } from '../../import/index.js';
import { schemeLabel } from '../../import/names.js';
import { parseSafetensors } from '../../runtime/safetensors.js';
import { loadSpec } from '../../spec/load.js';
import { ttyProgress } from '../../util/progress.js';
import { checkWeights } from '../../weights/safetensors.js';
import { positionals, str, type Parsed } from '../args.js';
import type { Command, Io } from '../command.js';
import { checkSafetensorsOut, counted, fmtBytes, unusedTensors } from './shared.js';

const FORMAT_NAMES = { safetensors: 'safetensors', pth: 'PyTorch checkpoint', npz: 'NumPy .npz' } as const;

export const convertCmd: Command = {
  name: 'convert',
  summary: 'convert weights (.pth, .pt, .npz, safetensors) to safetensors with timm names',
  help: `usage: vitc convert IN -o OUT.safetensors [--spec SPEC] [--key NAME]

Reads IN and writes its tensors as safetensors under timm state-dict names, keeping each tensor's
dtype (F32, F16, BF16, F64). IN may be:
  - a PyTorch checkpoint (.pth, .pt) written by torch.save (PyTorch 1.6 to 2.x, the zip format),
    from the CPU or a GPU, possibly wrapped ({'model': state_dict, 'epoch': ...}, timm's train.py
    checkpoints) and with DataParallel's "module." prefix. It is read by vitc's own restricted
    unpickler, which accepts only tensor and storage rebuilds, OrderedDict, Parameter,
    argparse.Namespace and NumPy scalars (kept as data): anything else is refused and nothing in
    the file is ever run;
  - a NumPy .npz, such as the original ViT's JAX checkpoints (Transformer/encoderblock_0/...);
  - safetensors, e.g. a Hugging Face model.safetensors.
Hugging Face (ViTForImageClassification), JAX and torchvision names are mapped to timm's, with
q, k and v merged into qkv. vitc build and vitc run take all of these directly with --weights;
convert makes the safetensors file once.

options:
  -o, --out OUT     the safetensors file to write, named .safetensors (written whole, then
                    renamed into place)
  --spec SPEC       check the weights against SPEC: its num_classes, depth, embed_dim, ... must
                    match (a mismatch says which key to set), and pos_embed is resampled
                    (bicubic, as timm does) when SPEC's img_size has another grid of patches
  --key NAME        the entry of a wrapped checkpoint holding the state dict, or a path of nested
                    keys (ckpt.model) (default: found by name: state_dict, model_state_dict, ...)
  -h, --help        this help

examples:
  vitc convert model-9.pth -o model-9.safetensors
  vitc convert ViT-B_16.npz -o vit-b16.safetensors --spec spec/vit-b16.yaml
  vitc convert checkpoint.pt --key ema -o ema.safetensors`,
  options: {
    out: { type: 'string', short: 'o' },
    spec: { type: 'string' },
    key: { type: 'string' },
  },
  async run(p: Parsed, io: Io) {
    const [input] = positionals('convert', p, ['IN']);
    const out = str(p, 'out');
    if (!out) return fail('cli/usage', 'vitc convert: missing -o OUT.safetensors', undefined, 'see vitc convert --help');
    refuseOverwritingInputs(out, [['the input', input]], 'its conversion', '-o');
    checkOutputFile(out, '-o');
    checkSafetensorsOut(out, 'convert');
    const specPath = str(p, 'spec');
    const spec = specPath ? loadSpec(specPath) : undefined;
    const model = spec ? expectedFromSpec(spec) : undefined;
    const imported = await importWeights(input!, { key: str(p, 'key'), model, progress: ttyProgress(`reading ${basename(input!)}`) });
    const unused = model ? checkWeights(input!, imported.bytes, model.weights.map((w) => [w.name, w.shape] as const)) : [];
    for (const n of imported.notes) io.err(formatDiagnostic(n));
    if (unused.length) io.err(formatDiagnostic(note('convert/unused', unusedTensors(unused, spec!.config.name, 'kept in the output'), fileSpan(input!))));
    const tensors = Object.values(parseSafetensors(imported.bytes));
    const dtypes = [...new Set(tensors.map((t) => t.dtype))].sort().join(', ');
    writeFileAtomic(out, imported.bytes, '-o');
    const names = imported.scheme === 'timm' ? 'timm names' : `${schemeLabel(imported.scheme)} names mapped to timm's`;
    io.out(`${out}: ${counted(tensors.length, 'tensor')} (${dtypes}), ${fmtBytes(imported.bytes.length)}, from a ${FORMAT_NAMES[imported.format]} with ${names}${spec ? `; matches ${spec.config.name}` : ''}`);
    return 0;
  },
};
