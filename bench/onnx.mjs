// Benchmark, not a test: ViT-B/16 in onnxruntime-node, vitc's model.onnx against the PyTorch
// reference's own torch.onnx.export of the same weights, batch 1 and 8, the same session options
// as `vitc run` (2 intra-op threads). Each model gets warm-up runs, then RUNS rounds of one timed
// run each, interleaved in rotating order with an idle gap before every run (so no session's
// spinning worker threads steal cores from the next); medians side by side with their ratio.
// A third row runs vitc's model with its value_info removed (onnxruntime then infers the shapes
// itself): the graph alone, without the shape annotations the target writes for other tools.
// Also checks that the models agree on the output. `npm run bench:onnx` (RUNS=, GAP_MS= to tune).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { median, SPEC, vitB16Weights, vitc, WORK } from './work.mjs';

const { onnx } = onnxProto;
const RUNS = Number(process.env.RUNS ?? 12);
const WARMUP = 2;
const GAP_MS = Number(process.env.GAP_MS ?? 100);
const PY = '/usr/bin/python3';
const weights = vitB16Weights();
const reference = join(WORK, 'vit-b16.torch.onnx');
const built = join(WORK, 'vit-b16.vitc-onnx');
vitc('build', SPEC, '--target', 'onnx', '--weights', weights, '-o', built);
if (!existsSync(reference) || statSync(reference).mtimeMs < statSync(weights).mtimeMs) {
  console.log('exporting the PyTorch reference with torch.onnx.export ...');
  execFileSync(PY, ['tools/golden/export_onnx.py', '--spec', SPEC, '--weights', weights, '-o', reference], { stdio: 'inherit' });
}

const ours = join(built, 'model.onnx');
const stripped = onnx.ModelProto.decode(readFileSync(ours));
stripped.graph.valueInfo = [];
const options = { intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
const models = [
  { name: 'vitc', source: ours },
  { name: 'torch.onnx.export', source: reference },
  { name: 'vitc without value_info', source: onnx.ModelProto.encode(stripped).finish() },
];
for (const m of models) m.session = await ort.InferenceSession.create(m.source, options);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function image(batch) {
  const x = new Float32Array(batch * 3 * 224 * 224);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.0137) * 0.9 + 0.1 * Math.cos(i * 0.71);
  return new ort.Tensor('float32', x, [batch, 3, 224, 224]);
}
async function run(m, x) {
  await sleep(GAP_MS);
  const t0 = performance.now();
  const out = await m.session.run({ [m.session.inputNames[0]]: x });
  return { ms: performance.now() - t0, y: out[m.session.outputNames[0]].data };
}

console.log(`ViT-B/16, onnxruntime-node ${ort.env.versions.common}, CPU ${cpus()[0]?.model ?? '?'} (${cpus().length} cores), ${options.intraOpNumThreads} intra-op threads`);
console.log(`files: vitc ${(statSync(ours).size / 1e6).toFixed(1)} MB, torch.onnx.export ${(statSync(reference).size / 1e6).toFixed(1)} MB; ${WARMUP} warm-ups, then the median of ${RUNS} interleaved runs each, ${GAP_MS} ms apart`);
let failed = false;
for (const batch of [1, 8]) {
  const x = image(batch);
  const times = new Map(models.map((m) => [m.name, []]));
  const outs = new Map();
  for (let i = 0; i < WARMUP; i++) for (const m of models) outs.set(m.name, (await run(m, x)).y);
  for (let r = 0; r < RUNS; r++) {
    for (let k = 0; k < models.length; k++) {
      const m = models[(r + k) % models.length];
      times.get(m.name).push((await run(m, x)).ms);
    }
  }
  const ref = outs.get('torch.onnx.export');
  const maxRef = ref.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  const torchMs = median(times.get('torch.onnx.export'));
  console.log(`\nbatch ${batch}:`);
  for (const m of models) {
    const ms = median(times.get(m.name));
    const y = outs.get(m.name);
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(y[i] - ref[i]));
    if (err > 1e-4 * maxRef) failed = true;
    console.log(`  ${m.name.padEnd(24)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / batch).toFixed(1).padStart(6)} ms/image  ratio to torch ${(ms / torchMs).toFixed(3)}  (min ${Math.min(...times.get(m.name)).toFixed(1)})  max|Δlogit| ${(err / maxRef).toExponential(1)} x max|logit|`);
  }
}
for (const m of models) await m.session.release();
if (failed) {
  console.error('error: the models disagree by more than 1e-4 x max|logit|');
  process.exit(1);
}
