import { availableParallelism } from 'node:os';
import { fail } from '../../diag/diagnostic.js';
import { BACKENDS, featureTargets, targetOptionsHelp } from '../../backends/registry.js';
import { finetune } from '../../finetune/run.js';
import { loadSpec } from '../../spec/load.js';
import { flag, intOption, positionals, str, type Parsed } from '../args.js';
import type { Command, Io } from '../command.js';
import { precisionOption, refuseLayoutOptions, targetArgs, targetOptionSpecs } from './shared.js';
import { weightsHelp, WEIGHTS_OPTIONS } from './weights-input.js';

/** A number option: a decimal or exponent literal within [min, max) (or (min, max) when `open`). */
function numberOption(p: Parsed, name: string, dflt: number, min: number, open: boolean, max = Infinity): number {
  const v = str(p, name);
  if (v === undefined) return dflt;
  const x = Number(v);
  const ok = /^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) && Number.isFinite(x) && (open ? x > min : x >= min) && x < max;
  if (!ok) fail('cli/option-value', `vitc finetune: --${name} must be a number ${open ? '>' : '>='} ${min}${max < Infinity ? ` and < ${max}` : ''}; got "${v}"`);
  return x;
}

export const finetuneCmd: Command = {
  name: 'finetune',
  summary: 'train a classifier head on a folder of images, the backbone frozen (the tutorial\'s train.py)',
  help: `usage: vitc finetune SPEC --weights W --data DIR [-o OUT_DIR] [options]

The classic PyTorch ViT tutorial's training run, on compiled code: DIR holds one folder of images per
class (flower_photos/daisy/*.jpg, ...). As the tutorial's read_split_data does, 20 % of each class is
sampled for validation with Python's random.seed(0) (the same files as the tutorial's), and the class
folders are numbered in sorted order. The backbone (SPEC with the --weights) runs on --target and
produces features; the head (and pre_logits, when the spec has representation_size) starts fresh and
is trained in TypeScript: cross-entropy, SGD with momentum and weight decay as torch.optim.SGD, the
learning rate lr * (((1 + cos(epoch * pi / epochs)) / 2) * (1 - lrf) + lrf) per epoch. SPEC's
num_classes must be the number of class folders.

Training images get RandomResizedCrop + RandomHorizontalFlip (seeded: the same crops for the same
--seed), validation images the spec's preprocess (Resize(256), CenterCrop(224)), both normalized as
the spec says and decoded and resized exactly as PIL does.

OUT_DIR receives, after every epoch:
  best.safetensors     the full state dict (backbone + trained head) of the best validation accuracy,
                       for vitc build / vitc run --image
  class_indices.json   the class names as the tutorial writes them (for vitc run --labels)
  log.csv              epoch, train_loss, train_acc, val_loss, val_acc, lr (the epoch's), seconds
  steps.csv            epoch, step, loss: the loss of every step
  state.json           what --resume continues from (the head, SGD's momentum, the log)
  cache/               features computed once: validation always, training with --no-augment

options:
${weightsHelp(25, ['(required: the pre-trained backbone, e.g. ViT-B/16 in21k; head and',
  'pre_logits in it are left out, as the tutorial deletes them)'])}
  --data DIR             the image folder (required)
  -o, --out DIR          the run's folder (default runs/<spec name>)
  --epochs N             epochs (default 100)
  --batch-size N         images per step (default 16)
  --lr X                 initial learning rate (default 0.01)
  --lrf X                the final learning rate as a fraction of --lr (default 0.1)
  --momentum X           SGD momentum (default 0.9)
  --weight-decay X       SGD weight decay (default 4e-5)
  --freeze-layers B      true (default): train head and pre_logits only. false (training the whole
                         model) is not supported yet
  --no-augment           no random crops or flips: the training features are computed once, cached,
                         and every epoch reuses them (much faster; usually a little less accurate)
  --seed N               seed of the head's initial weights, the epochs' shuffles and the crops (default 0)
  --resume               continue the run in OUT_DIR after its last finished epoch (same settings)
  -t, --target TARGET    the backbone's runtime, a target that outputs the features (${featureTargets().join(', ')}):
                         onnx (default): onnxruntime on the CPU
                         cuda: model.cu on an NVIDIA GPU, built with nvcc for the GPU nvidia-smi
                         finds; without one, under vitc's CPU emulation (g++; exact but slow)
                         js: the standalone ES module's kernels in Node (worker threads)
  --precision P          fp32 (default), or another the target has (${BACKENDS.filter((b) => b.capabilities.features && b.precisions.length > 1).map((b) => `${b.name}: ${b.precisions.filter((x) => x !== 'fp32').join(', ')}`).join('; ')})
  --threads N            threads for the backbone on onnx and js (default: every core, ${availableParallelism()} here)
${targetOptionsHelp(25, { layout: false, only: featureTargets() })}
  -h, --help             this help

A progress line shows the step, loss, accuracy and learning rate when stderr is a terminal; each
epoch's summary goes to stdout.

example:
  vitc finetune flowers.yaml --weights jx_vit_base_patch16_224_in21k.pth --data flower_photos --epochs 10 -o runs/flowers
  vitc run flowers.yaml --weights runs/flowers/best.safetensors --labels runs/flowers/class_indices.json --image rose.jpg`,
  options: {
    ...WEIGHTS_OPTIONS,
    data: { type: 'string' },
    out: { type: 'string', short: 'o' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    lrf: { type: 'string' },
    momentum: { type: 'string' },
    'weight-decay': { type: 'string' },
    'freeze-layers': { type: 'string' },
    'no-augment': { type: 'boolean' },
    seed: { type: 'string' },
    resume: { type: 'boolean' },
    target: { type: 'string', short: 't' },
    precision: { type: 'string' },
    threads: { type: 'string' },
    ...targetOptionSpecs(),
  },
  async run(p: Parsed, io: Io) {
    const [spec] = positionals('finetune', p, ['SPEC']);
    refuseLayoutOptions(p, 'vitc finetune keeps no build directory of its backbone');
    const freeze = str(p, 'freeze-layers') ?? 'true';
    if (!/^(true|false)$/i.test(freeze)) fail('cli/option-value', `vitc finetune: --freeze-layers must be true or false; got "${freeze}"`);
    if (/^false$/i.test(freeze)) {
      fail('finetune/full', '--freeze-layers false (training every layer) is not supported: vitc computes no gradients through the backbone yet', undefined, 'train the head with --freeze-layers true (the default), or fine-tune the whole model in PyTorch and import the checkpoint with --weights');
    }
    const weights = str(p, 'weights');
    const data = str(p, 'data');
    if (weights === undefined) fail('cli/usage', 'vitc finetune: --weights is required (the pre-trained backbone)', undefined, 'see vitc finetune --help');
    if (data === undefined) fail('cli/usage', 'vitc finetune: --data is required (a folder with one sub-folder of images per class)', undefined, 'see vitc finetune --help');
    const epochs = intOption('finetune', p, 'epochs', 100, 1);
    const batchSize = intOption('finetune', p, 'batch-size', 16, 1);
    const lr = numberOption(p, 'lr', 0.01, 0, true);
    const lrf = numberOption(p, 'lrf', 0.1, 0, false);
    const momentum = numberOption(p, 'momentum', 0.9, 0, false, 1);
    const weightDecay = numberOption(p, 'weight-decay', 4e-5, 0, false);
    const seed = intOption('finetune', p, 'seed', 0);
    if (seed >= 2 ** 32) fail('cli/option-value', `vitc finetune: --seed must be below 2^32; got ${seed}`);
    const threads = intOption('finetune', p, 'threads', availableParallelism(), 1, availableParallelism(), 'the CPUs this machine has');
    const target = str(p, 'target') ?? 'onnx';
    const out = str(p, 'out') ?? `runs/${loadSpec(spec!).config.name}`;
    await finetune({
      spec: spec!, weights, key: str(p, 'key'), data, out, target, precision: precisionOption(p), targetArgs: targetArgs(p),
      epochs, batchSize, lr, lrf, momentum, weightDecay, seed, augment: !flag(p, 'no-augment'), resume: flag(p, 'resume'), threads,
    }, { out: io.out, err: io.err, tty: process.stderr.isTTY ? process.stderr : undefined, handleSignals: true });
    return 0;
  },
};
