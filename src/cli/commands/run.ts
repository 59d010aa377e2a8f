import { BACKENDS, getBackend, targetOptionsHelp } from '../../backends/registry.js';
import { checkNpyOut, precisionOption, refuseLayoutOptions, targetArgs, targetOptionSpecs, unusedTensors } from './shared.js';
import { formatDiagnostic, note, fail, fileSpan } from '../../diag/diagnostic.js';
import { prepare, randomWeightsFor, validateWeights, openSession, isBuildDir, readManifest } from '../../runner.js';
import type { Session } from '../../backends/backend.js';
import { expectedFromManifest, expectedFromSpec } from '../../import/index.js';
import { weightsHelp, WEIGHTS_OPTIONS, weightsInput } from './weights-input.js';
import { IMAGE_BATCH, imageArgs, runInput, runLabels } from './run-input.js';
import { ttyStatus, type TtyStatus } from '../../util/progress.js';
import { formatJson, formatText, predictions } from './predictions.js';
import { writeNpy } from '../../weights/npy.js';
import { flag, intOption, MAX_SEED, positionals, str, type Parsed } from '../args.js';
import { availableParallelism } from 'node:os';
import type { Command, Io } from '../command.js';
import { loadSpec } from '../../spec/load.js';
import { checkOutputFile, refuseOverwritingInputs, writeFileAtomic } from '../../io/files.js';
import type { Manifest } from '../../backends/manifest.js';

/**
 * Options that would change nothing are refused rather than ignored: --threads where the runner has
 * none, --seed where no random weights are made, build options given with a built directory, and
 * with a spec the options that shape only a build directory's files (its own is temporary).
 */
function checkRunOptions(p: Parsed, what: string, m: Manifest | undefined): void {
  // Before anything is compiled or loaded: the target is the built directory's, else --target's.
  const target = m?.target ?? str(p, 'target') ?? 'js';
  const caps = getBackend(target).capabilities;
  if (str(p, 'threads') !== undefined && caps.threads === false) {
    fail('cli/option', `--threads does not apply to the ${target} target: its runner takes no CPU thread count`);
  }
  if (str(p, 'seed') !== undefined && p.values.weights !== undefined) {
    fail('cli/option', '--seed applies only without --weights (it seeds the random weights used when none are given)');
  }
  if (m === undefined) return refuseLayoutOptions(p, 'vitc run builds into a temporary directory that it removes');
  const precision = str(p, 'precision');
  if (precision !== undefined && precision !== m.precision) {
    fail('run/build-option', `${what} was built in ${m.precision}, not ${precision}`, undefined, `rebuild it with vitc build --precision ${precision}, or run the spec`);
  }
  const [option] = Object.keys(targetArgs(p));
  if (option !== undefined) fail('run/build-option', `--${option} is an option of vitc build; ${what} is already built`, undefined, `rebuild it with vitc build --${option}, or run the spec`);
  if (str(p, 'seed') !== undefined && caps.embedsWeights) {
    fail('run/build-option', `--seed does not apply to ${what}: it embeds the weights it was built with`, undefined, 'rebuild it with vitc build --seed N, or run the spec');
  }
}

export const runCmd: Command = {
  name: 'run',
  summary: 'build (to a temporary directory) and execute a model on photos or tensors',
  help: `usage: vitc run SPEC|BUILD_DIR [--weights W] [--image A.jpg [B.png ...]] [--labels L] [options]

Builds SPEC for the target into a temporary directory (or uses BUILD_DIR from vitc build) and runs it
with that target's runner (${BACKENDS.map((b) => b.name).join(', ')}). Prints each image's class and probability
as the PyTorch tutorial's predict script does, the top classes, and the time taken.

input (one of):
  --image FILE ...  photos (JPEG, PNG, WebP, TIFF, GIF), 32 to a batch. Each is decoded and
                    preprocessed as PIL + torchvision do it: Image.open(f).convert('RGB'), then the
                    spec's preprocess section: Resize(resize) of the shorter side (interpolation,
                    antialiased like PIL), CenterCrop(crop), ToTensor(), Normalize(mean, std).
                    Without resize and crop the photo is resized to img_size. Same bytes as PIL.
  --input X.npy     a float32 NCHW tensor [N, C, H, W] matching the spec; any batch size N.
  (neither)         a synthetic sample image (--batch copies), normalized with the spec's mean/std.

weights:
${weightsHelp(20, ['Every tensor the model expects must be present with its shape. Without',
  '--weights, seeded random weights are used (and the run says so).'])}

output:
  --labels FILE     class names: the tutorial's class_indices.json ({"0": "daisy", ...}), a JSON
                    list, or one name per line (default: the spec's labels file, which a build
                    directory carries, else indices)
  --top K           classes to print per image (default 5; 0 prints only the tutorial's line)
  --json            print the results as JSON on stdout (class, label, prob, logit, and the top K)
  --output Y.npy    also write the logits [N, classes] as float32 .npy

options:
  --exif-rotate         turn photos as their EXIF orientation says (ImageOps.exif_transpose);
                        by default it is ignored, as PIL's Image.open ignores it (except in
                        TIFFs, which Image.open turns as it loads them, and so does vitc)
  -t, --target TARGET   target (default js; with BUILD_DIR, the directory's target)
  --precision P         fp32 (default), tf32, fp16 or bf16 where the target has it (BUILD_DIR: as built)
  --seed N              seed of the random weights used without --weights (default 0)
  --batch N             batch size of the synthetic input (default 1)
  --threads N           intra-op threads of the ${BACKENDS.filter((b) => b.capabilities.threads !== false).map((b) => b.name).join(' and ')} runners (default 2; 1 on a one-core machine)
${targetOptionsHelp(24, { layout: false })}
  -h, --help            this help

examples:
  vitc run flowers.yaml --weights model-9.pth --image tulip.jpg --labels class_indices.json
  vitc run spec/vit-b16.yaml --weights vit-b16.safetensors --input batch.npy --output logits.npy`,
  options: {
    target: { type: 'string', short: 't' },
    precision: { type: 'string' },
    ...WEIGHTS_OPTIONS,
    image: { type: 'string', multiple: true },
    labels: { type: 'string' },
    json: { type: 'boolean' },
    'exif-rotate': { type: 'boolean' },
    input: { type: 'string' },
    output: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    top: { type: 'string' },
    threads: { type: 'string' },
    ...targetOptionSpecs(),
  },
  async run(p: Parsed, io: Io) {
    const images = imageArgs(p);
    const [what] = positionals('run', images.length ? { ...p, positionals: p.positionals.slice(0, 1) } : p, ['SPEC|BUILD_DIR']);
    const seed = intOption('run', p, 'seed', 0, 0, MAX_SEED);
    const top = intOption('run', p, 'top', 5);
    const cpus = availableParallelism();
    const threads = intOption('run', p, 'threads', Math.min(2, cpus), 1, cpus, 'the CPUs this machine has');
    const precision = precisionOption(p);
    const outFile = str(p, 'output');
    if (outFile !== undefined) {
      checkOutputFile(outFile, '--output');
      refuseOverwritingInputs(outFile, [['the spec', what!], ['--weights', str(p, 'weights')], ['--input', str(p, 'input')], ['--labels', str(p, 'labels')], ...images.map((f): [string, string] => ['--image', f])], 'the logits', '--output');
      checkNpyOut(outFile);
    }
    const dirGiven = isBuildDir(what!);
    checkRunOptions(p, what!, dirGiven ? readManifest(what!) : undefined);
    const spec = dirGiven ? undefined : loadSpec(what!);
    const imported = await weightsInput(p, () => (dirGiven ? expectedFromManifest(readManifest(what!)) : expectedFromSpec(spec!)));
    const prepared = await prepare(what!, str(p, 'target'), { precision, seed, weights: imported ? { bytes: imported.bytes, file: imported.file } : undefined, targetArgs: targetArgs(p) });
    try {
      const m = prepared.manifest;
      // Everything is validated before anything is printed, so an error is the only line.
      const info: string[] = [...(imported?.notes ?? [])];
      if (dirGiven && imported && prepared.backend.capabilities.embedsWeights) {
        fail('run/weights', `${what} embeds its weights; rebuild it with vitc build --weights ${imported.file}`);
      }
      const input = await runInput(p, m, spec);
      info.push(...input.info);
      const labels = runLabels(p, m);
      let weights: Uint8Array;
      if (imported) {
        const unused = validateWeights(m, imported.file, imported.bytes);
        if (unused.length) info.push(formatDiagnostic(note('run/unused-weights', unusedTensors(unused, m.spec.name), fileSpan(imported.file))));
        weights = imported.bytes;
      } else if (dirGiven && prepared.backend.capabilities.embedsWeights) {
        info.push(`${what}: using the weights built into it`);
        weights = new Uint8Array();
      } else {
        info.push(`${m.spec.name}: no --weights given: using seeded random weights (seed ${seed}); the classes below say nothing about real images`);
        // Targets that embed weights were built with these same seeded weights.
        weights = prepared.backend.capabilities.embedsWeights ? new Uint8Array() : randomWeightsFor(m, seed);
      }
      const t0 = performance.now();
      // The runner's own lines (what it chose) follow the notes; a model that fails to load is the only line.
      const runnerInfo: string[] = [];
      const session = await openSession(prepared, weights, threads, (line) => runnerInfo.push(line));
      const t1 = performance.now();
      for (const line of [...info, ...runnerInfo]) io.err(line);
      let logits: Float32Array;
      try {
        logits = input.images ? await forwardInBatches(session, input.data, input.batch, ttyStatus()) : await session.forward(input.data, input.batch);
      } finally {
        await session.close();
      }
      const t2 = performance.now();
      const batch = input.batch;
      const classes = logits.length / batch;
      if (outFile) writeFileAtomic(outFile, writeNpy([batch, classes], logits), '--output');
      const ps = predictions(logits, batch, input.images);
      if (flag(p, 'json')) {
        io.out(formatJson(ps, labels, top, { model: m.spec.name, target: m.target, precision: m.precision, preprocess: input.preprocess, loadMs: t1 - t0, forwardMs: t2 - t1 }));
        return 0;
      }
      for (const line of formatText(ps, labels, top)) io.out(line);
      io.out(`${m.spec.name} on ${m.target} (${m.precision}): forward ${(t2 - t1).toFixed(0)} ms for batch ${batch} (${((t2 - t1) / batch).toFixed(0)} ms/image); load ${(t1 - t0).toFixed(0)} ms${outFile ? `; logits [${batch}, ${classes}] written to ${outFile}` : ''}`);
      return 0;
    } finally {
      prepared.cleanup();
    }
  },
};

/** The photos' forward, IMAGE_BATCH at a time, with `forward: done/total images` on a terminal; the logits in order. */
async function forwardInBatches(session: Session, data: Float32Array, batch: number, status: TtyStatus | undefined): Promise<Float32Array> {
  if (batch <= IMAGE_BATCH) return session.forward(data, batch);
  const perImage = data.length / batch;
  const parts: Float32Array[] = [];
  for (let i = 0; i < batch; i += IMAGE_BATCH) {
    const n = Math.min(IMAGE_BATCH, batch - i);
    status?.update(`forward: ${i}/${batch} images`, true);
    parts.push(await session.forward(data.slice(i * perImage, (i + n) * perImage), n));
  }
  status?.clear();
  const out = new Float32Array(parts.reduce((t, q) => t + q.length, 0));
  parts.reduce((at, q) => (out.set(q, at), at + q.length), 0);
  return out;
}
