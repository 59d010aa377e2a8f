// Benchmark (not a test): ViT-B/16 in onnxruntime-node, vitc's ONNX model versus the PyTorch
// reference's own torch.onnx.export of the same weights, same session options, batch 1 and 8.
// Warm-up, then interleaved runs; medians and their ratio. Run with `npm run bench:onnx`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const RUNS = Number(process.env.RUNS ?? 12);
const SPEC = process.env.SPEC ?? 'spec/vit-b16.yaml';
const work = 'bench/.work';
mkdirSync(work, { recursive: true });
const vitc = (...args) => execFileSync(process.execPath, ['bin/vitc.js', ...args], { stdio: ['ignore', 'pipe', 'inherit'] }).toString();

const weights = join(work, 'vit-b16.safetensors');
if (!existsSync(weights)) vitc('weights', SPEC, '-o', weights, '--seed', '1');
vitc('build', SPEC, '--target', 'onnx', '--weights', weights, '-o', join(work, 'vitc-onnx'));
const refPath = join(work, 'reference.onnx');
if (!existsSync(refPath)) {
  execFileSync('/usr/bin/python3', ['tools/golden/export_onnx.py', '--spec', SPEC, '--weights', weights, '-o', refPath], { stdio: 'inherit' });
}

const options = { intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
const models = {
  vitc: { path: join(work, 'vitc-onnx', 'model.onnx') },
  'torch.onnx.export': { path: refPath },
};
for (const m of Object.values(models)) {
  m.session = await ort.InferenceSession.create(m.path, options);
  m.bytes = statSync(m.path).size;
  m.nodes = null;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
function input(batch) {
  const x = new Float32Array(batch * 3 * 224 * 224);
  let s = 1;
  for (let i = 0; i < x.length; i++) { s = (s * 16807) % 2147483647; x[i] = s / 2147483647 * 2 - 1; }
  return new ort.Tensor('float32', x, [batch, 3, 224, 224]);
}
async function run(m, x) {
  const t0 = performance.now();
  const out = await m.session.run({ [m.session.inputNames[0]]: x });
  return { ms: performance.now() - t0, y: out[m.session.outputNames[0]].data };
}

console.log(`ViT-B/16 in onnxruntime-node ${ort.env.versions.node}, ${options.intraOpNumThreads} intra-op threads, median of ${RUNS} interleaved runs after 2 warm-ups`);
console.log(`model files: vitc ${(models.vitc.bytes / 1e6).toFixed(1)} MB, torch.onnx.export ${(models['torch.onnx.export'].bytes / 1e6).toFixed(1)} MB`);
for (const batch of [1, 8]) {
  const x = input(batch);
  const times = { vitc: [], 'torch.onnx.export': [] };
  let outs = {};
  for (let i = 0; i < 2; i++) for (const [name, m] of Object.entries(models)) outs[name] = (await run(m, x)).y;
  let maxRef = 0, maxErr = 0;
  for (let i = 0; i < outs.vitc.length; i++) { maxRef = Math.max(maxRef, Math.abs(outs['torch.onnx.export'][i])); maxErr = Math.max(maxErr, Math.abs(outs.vitc[i] - outs['torch.onnx.export'][i])); }
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 ? ['torch.onnx.export', 'vitc'] : ['vitc', 'torch.onnx.export'];
    for (const name of order) times[name].push((await run(models[name], x)).ms);
  }
  const a = median(times.vitc), b = median(times['torch.onnx.export']);
  console.log(`batch ${batch}: vitc ${a.toFixed(0)} ms (${(a / batch).toFixed(0)} ms/image), torch.onnx.export ${b.toFixed(0)} ms (${(b / batch).toFixed(0)} ms/image), ratio vitc/torch ${(a / b).toFixed(3)}; outputs agree to ${(maxErr / maxRef).toExponential(1)} x max|logit|`);
}
