// A real ViT-H/14 (ImageNet-21k, 660M parameters, 2.6 GB in fp32) through the ONNX target: the
// weights pass the 2 GB protobuf limit, so they go to model.onnx.data automatically. Loads the
// model in onnxruntime-node and runs one image; when /usr/bin/python3 has torch, the weights come
// from the PyTorch reference (tools/golden/ref_run.py) and the logits are compared with its forward.
// Not a test (minutes, GBs of memory and disk). `npm run bench:onnx-h14`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const SPEC = 'spec/vit-h14-in21k.yaml';
const work = 'bench/.work';
const out = join(work, 'vit-h14-onnx');
mkdirSync(work, { recursive: true });
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch']).status === 0;
const secs = (a, b) => ((b - a) / 1000).toFixed(1);

const weights = join(work, 'vit-h14.safetensors');
const t0 = performance.now();
if (hasTorch) execFileSync('/usr/bin/python3', ['tools/golden/ref_run.py', '--spec', SPEC, '--random-weights', weights, '--seed', '14'], { stdio: 'inherit' });
const t1 = performance.now();
execFileSync(process.execPath, ['bin/vitc.js', 'build', SPEC, '--target', 'onnx', '-o', out, ...(hasTorch ? ['--weights', weights] : [])], { stdio: 'inherit' });
const t2 = performance.now();
const sizes = Object.fromEntries(readdirSync(out).map((f) => [f, statSync(join(out, f)).size]));
console.log(`vitc build: ${secs(t1, t2)} s (${hasTorch ? 'reference weights' : 'seeded random weights'}); ${Object.entries(sizes).map(([f, s]) => `${f} ${(s / 1e6).toFixed(1)} MB`).join(', ')}`);

const session = await ort.InferenceSession.create(join(out, 'model.onnx'), { intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
const t3 = performance.now();
console.log(`onnxruntime-node ${ort.env.versions.node}: session created in ${secs(t2, t3)} s`);
const x = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i / 97));
const times = [];
let y;
for (let r = 0; r < 3; r++) {
  const s = performance.now();
  y = (await session.run({ input: new ort.Tensor('float32', x, [1, 3, 224, 224]) })).logits;
  times.push(performance.now() - s);
}
const finite = y.data.every(Number.isFinite);
console.log(`logits [${y.dims.join(', ')}], all finite: ${finite}; one image: ${times.map((t) => t.toFixed(0)).join(', ')} ms (the first includes warm-up)`);
if (!finite || y.dims[1] !== 21843) process.exit(1);

if (hasTorch) {
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }`;
  const pad = ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const h = Buffer.from(header + pad, 'latin1');
  const npy = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]), h, Buffer.from(x.buffer)]);
  writeFileSync(join(work, 'h14-x.npy'), npy);
  const t4 = performance.now();
  execFileSync('/usr/bin/python3', ['tools/golden/ref_run.py', '--spec', SPEC, '--weights', weights, '--input', join(work, 'h14-x.npy'), '--output', join(work, 'h14-y.npy')], { stdio: 'inherit' });
  const raw = readFileSync(join(work, 'h14-y.npy'));
  const ref = new Float32Array(raw.buffer.slice(raw.byteOffset + 10 + raw.readUInt16LE(8)));
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < ref.length; i++) { maxErr = Math.max(maxErr, Math.abs(ref[i] - y.data[i])); maxRef = Math.max(maxRef, Math.abs(ref[i])); }
  console.log(`PyTorch reference forward: ${secs(t4, performance.now())} s; vitc's ONNX vs PyTorch: max|err| ${maxErr.toExponential(2)} = ${(maxErr / maxRef).toExponential(2)} x max|logit|`);
  if (maxErr / maxRef > 1e-4) process.exit(1);
}
