// Benchmark, not a test: the real ViT-H/14 (ImageNet-21k: 632M encoder + 28M head parameters,
// 2.6 GB of float32 weights) through the ONNX target. The weights pass protobuf's 2 GiB limit, so
// the build writes them to model.onnx.data (external data) by itself. Loads the model in
// onnxruntime-node, runs one image and prints sizes and times. When /usr/bin/python3 has torch, the
// weights come from the PyTorch reference's seeded init (tools/golden/ref_run.py) and the logits
// are compared with the reference's own forward; otherwise `vitc weights` makes them.
// Minutes, about 10 GB of memory and 6 GB of disk (bench/.work). `npm run bench:onnx-h14`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const SPEC = 'spec/vit-h14-in21k.yaml';
const WORK = 'bench/.work';
const PY = '/usr/bin/python3';
const OUT = join(WORK, 'vit-h14.vitc-onnx');
mkdirSync(WORK, { recursive: true });
const seconds = (t0) => ((performance.now() - t0) / 1000).toFixed(1);
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

const weights = join(WORK, hasTorch ? 'vit-h14.ref-seed14.safetensors' : 'vit-h14.safetensors');
if (!existsSync(weights)) {
  const t0 = performance.now();
  if (hasTorch) execFileSync(PY, ['tools/golden/ref_run.py', '--spec', SPEC, '--random-weights', weights, '--seed', '14'], { stdio: 'inherit' });
  else execFileSync(process.execPath, ['bin/vitc.js', 'weights', SPEC, '-o', weights], { stdio: 'inherit' });
  console.log(`weights: ${weights} (${mb(statSync(weights).size)}) written in ${seconds(t0)} s`);
}

let t0 = performance.now();
execFileSync(process.execPath, ['bin/vitc.js', 'build', SPEC, '--target', 'onnx', '--weights', weights, '-o', OUT], { stdio: 'inherit' });
console.log(`vitc build --target onnx: ${seconds(t0)} s; ${readdirSync(OUT).sort().map((f) => `${f} ${mb(statSync(join(OUT, f)).size)}`).join(', ')}`);

t0 = performance.now();
const session = await ort.InferenceSession.create(join(OUT, 'model.onnx'), { intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
console.log(`onnxruntime-node ${ort.env.versions.common}: session created in ${seconds(t0)} s; resident memory ${mb(process.memoryUsage().rss)}`);

const [C, H, W] = [3, 224, 224];
const x = new Float32Array(C * H * W).map((_, i) => Math.sin(i / 97) * 0.8);
let logits;
const times = [];
for (let r = 0; r < 3; r++) {
  const s = performance.now();
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [1, C, H, W]) });
  times.push(performance.now() - s);
  logits = out[session.outputNames[0]];
}
await session.release();
const finite = logits.data.every(Number.isFinite);
console.log(`one image: ${times.map((t) => `${t.toFixed(0)} ms`).join(', ')} (the first includes warm-up); logits [${logits.dims.join(', ')}], all finite: ${finite}`);
if (!finite || logits.dims[1] !== 21843) process.exit(1);

if (hasTorch) {
  // The same image as .npy for the reference (format 1.0, 64-byte aligned header).
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1, ${C}, ${H}, ${W}), }`;
  const padded = header + ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const npy = Buffer.concat([Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, padded.length & 0xff, padded.length >> 8]), Buffer.from(padded, 'latin1'), Buffer.from(x.buffer)]);
  const xFile = join(WORK, 'h14-input.npy');
  const yFile = join(WORK, 'h14-torch-logits.npy');
  writeFileSync(xFile, npy);
  t0 = performance.now();
  execFileSync(PY, ['tools/golden/ref_run.py', '--spec', SPEC, '--weights', weights, '--input', xFile, '--output', yFile], { stdio: 'inherit' });
  const raw = readFileSync(yFile);
  const ref = new Float32Array(raw.buffer.slice(raw.byteOffset + 10 + raw.readUInt16LE(8), raw.byteOffset + raw.length));
  let err = 0, top = 0;
  for (let i = 0; i < ref.length; i++) { err = Math.max(err, Math.abs(ref[i] - logits.data[i])); top = Math.max(top, Math.abs(ref[i])); }
  console.log(`PyTorch reference forward: ${seconds(t0)} s; vitc's ONNX vs PyTorch: max|Δlogit| ${err.toExponential(2)} = ${(err / top).toExponential(2)} x max|logit|`);
  if (err > 1e-4 * top) process.exit(1);
}
