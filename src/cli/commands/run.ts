import { BACKENDS, targetOptionsHelp } from '../../backends/registry.js';
import { precisionOption, targetArgs, targetOptionSpecs } from './shared.js';
import { formatDiagnostic, note, fail, fileSpan } from '../../diag/diagnostic.js';
import { prepare, randomWeightsFor, sampleInput, validateWeights, openSession, isBuildDir, readManifest } from '../../runner.js';
import { expectedFromManifest, expectedFromSpec } from '../../import/index.js';
import { weightsHelp, WEIGHTS_OPTIONS, weightsInput } from './weights-input.js';
import { readNpy, writeNpy } from '../../weights/npy.js';
import { readFileOrFail } from '../../weights/safetensors.js';
import { intOption, positionals, str, type Parsed } from '../args.js';
import type { Command, Io } from '../command.js';
import { displayPath, loadSpec } from '../../spec/load.js';
import { checkOutputFile, readTextFile, writeFileAtomic } from '../../io/files.js';

export const runCmd: Command = {
  name: 'run',
  summary: 'build (to a temporary directory) and execute a model',
  help: `usage: vitc run SPEC|BUILD_DIR [--weights W] [--input X.npy] [--output Y.npy] [options]

Builds SPEC for the target into a temporary directory (or uses BUILD_DIR from vitc build) and runs it
with that target's runner: ${BACKENDS.map((b) => b.name).join(', ')}. Prints the top classes of each image and the time taken.

${weightsHelp(16)}
                Every tensor the model expects must be present with its shape. Without
                --weights, seeded random weights are used (and the run says so).
  --input X     float32 NCHW .npy [N, C, H, W] matching the spec; any batch size N. Without it, a
                synthetic sample image (batch --batch) normalized with the spec's preprocess mean/std.
  --output Y    write the logits [N, classes] as float32 .npy.

options:
  -t, --target TARGET   target (default js; with BUILD_DIR, the directory's target)
  --precision P         fp32 (default), tf32, fp16 or bf16 where the target has it
  --seed N              seed of the random weights (default 0)
  --batch N             batch size of the synthetic input (default 1)
  --top K               classes to print per image (default 5; 0 prints none)
  --threads N           intra-op threads for runtimes that have them (default 2)
${targetOptionsHelp().replace(/^  /gm, '  ')}
  -h, --help            this help

examples:
  vitc run spec/vit-b16.yaml
  vitc run spec/vit-b16.yaml --weights vit-b16.safetensors --input batch.npy --output logits.npy`,
  options: {
    target: { type: 'string', short: 't' },
    precision: { type: 'string' },
    ...WEIGHTS_OPTIONS,
    input: { type: 'string' },
    output: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    top: { type: 'string' },
    threads: { type: 'string' },
    ...targetOptionSpecs(),
  },
  async run(p: Parsed, io: Io) {
    const [what] = positionals('run', p, ['SPEC|BUILD_DIR']);
    const seed = intOption('run', p, 'seed', 0);
    const top = intOption('run', p, 'top', 5);
    const threads = intOption('run', p, 'threads', 2, 1);
    const precision = precisionOption(p);
    const outFile = str(p, 'output');
    if (outFile !== undefined) checkOutputFile(outFile, '--output');
    const dirGiven = isBuildDir(what!);
    const imported = await weightsInput(p, () => (dirGiven ? expectedFromManifest(readManifest(what!)) : expectedFromSpec(loadSpec(what!))));
    const weightsFile = imported?.file;
    const userWeights = imported?.bytes;
    const prepared = await prepare(what!, str(p, 'target'), { precision, seed, weights: imported ? { bytes: imported.bytes, file: imported.file } : undefined, targetArgs: targetArgs(p) });
    try {
      const m = prepared.manifest;
      // Everything is validated before anything is printed, so an error is the only line.
      const info: string[] = [...(imported?.notes ?? [])];
      if (dirGiven && userWeights && prepared.backend.capabilities.embedsWeights) {
        fail('run/weights', `${what} embeds its weights; rebuild it with vitc build --weights ${weightsFile}`);
      }
      const inShape = m.inputs[0]!.shape;
      let input: Float32Array;
      let batch: number;
      const inputFile = str(p, 'input');
      if (inputFile) {
        const arr = readNpy(inputFile, readFileOrFail(inputFile, 'input'));
        const want = inShape.slice(1) as number[];
        if (arr.shape.length !== 4 || arr.shape.slice(1).some((d, i) => d !== want[i]) || arr.shape[0] === 0) {
          fail('run/input-shape', `input has shape (${arr.shape.join(', ')}); ${m.spec.name} expects (N, ${want.join(', ')}) float32 NCHW`, fileSpan(inputFile));
        }
        input = arr.data;
        batch = arr.shape[0]!;
      } else {
        batch = intOption('run', p, 'batch', 1, 1);
        input = sampleInput(m, batch);
        info.push(`input: a synthetic ${inShape[2]}x${inShape[3]} sample image${batch > 1 ? ` (batch ${batch})` : ''}, normalized with the spec's mean/std`);
      }
      let weights: Uint8Array;
      if (userWeights) {
        const unused = validateWeights(m, weightsFile!, userWeights);
        if (unused.length) info.push(formatDiagnostic(note('run/unused-weights', `${unused.length} tensors are not used by ${m.spec.name}: ${unused.slice(0, 4).join(', ')}${unused.length > 4 ? ', ...' : ''}`, fileSpan(weightsFile!))));
        weights = userWeights;
      } else {
        info.push(`${m.spec.name}: no --weights given: using seeded random weights (seed ${seed}); the classes below say nothing about real images`);
        // Targets that embed weights were built with these same seeded weights.
        weights = prepared.backend.capabilities.embedsWeights ? new Uint8Array() : randomWeightsFor(m, seed);
      }
      const labels = loadLabels(what!, dirGiven);
      const t0 = performance.now();
      // The runner's own lines (what it chose) follow the notes; a model that fails to load is the only line.
      const runnerInfo: string[] = [];
      const session = await openSession(prepared, weights, threads, (line) => runnerInfo.push(line));
      const t1 = performance.now();
      for (const line of [...info, ...runnerInfo]) io.err(line);
      let logits: Float32Array;
      try {
        logits = await session.forward(input, batch);
      } finally {
        await session.close();
      }
      const t2 = performance.now();
      const classes = logits.length / batch;
      if (outFile) writeFileAtomic(outFile, writeNpy([batch, classes], logits), '--output');
      for (let b = 0; b < batch && top > 0; b++) {
        const row = logits.subarray(b * classes, (b + 1) * classes);
        const mx = row.reduce((a, v) => Math.max(a, v), -Infinity);
        const z = row.reduce((a, v) => a + Math.exp(v - mx), 0);
        const order = [...row.keys()].sort((i, j) => row[j]! - row[i]! || i - j).slice(0, top);
        io.out(`image ${b}: top-${Math.min(top, classes)} of ${classes} classes`);
        order.forEach((c, r) => io.out(`  ${r + 1}. class ${String(c).padEnd(5)} p=${(Math.exp(row[c]! - mx) / z).toFixed(4)}  logit=${row[c]!.toFixed(4)}${labels?.[c] ? `  ${labels[c]}` : ''}`));
      }
      io.out(`${m.spec.name} on ${m.target} (${m.precision}): forward ${(t2 - t1).toFixed(0)} ms for batch ${batch} (${((t2 - t1) / batch).toFixed(0)} ms/image); load ${(t1 - t0).toFixed(0)} ms${outFile ? `; logits [${batch}, ${classes}] written to ${outFile}` : ''}`);
      return 0;
    } finally {
      prepared.cleanup();
    }
  },
};

/** Class names from the spec's `labels` file, when it has one (spec runs only). */
function loadLabels(what: string, isDir: boolean): string[] | undefined {
  if (isDir) return undefined;
  const spec = loadSpec(what);
  const labels = spec.config.labels;
  if (!labels) return undefined;
  return readTextFile(labels, 'labels file', { display: displayPath(labels), referencedFrom: spec.spans.value('/labels') }).split('\n').map((s) => s.trim());
}
