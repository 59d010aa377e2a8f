// Benchmark, not a test: ViT-B/16 at batch 1 through WebGPU in Node (Dawn, the `webgpu` package),
// vitc's wgsl build against onnxruntime-web's WebGPU backend running vitc's onnx build of the same
// weights, both on the same adapter (SwiftShader here: a CPU implementation of Vulkan, so these are
// CPU timings). One warm-up each, then RUNS interleaved rounds (rotating order); medians side by side
// with their ratio, load times, and the largest difference between the two outputs.
// `npm run bench:wgsl` (RUNS= to change the rounds, default 3: onnxruntime-web takes ~100 s a run here).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeGpu } from '../dist/backends/wgsl/dawn.js';
import { median, SPEC, vitB16Weights, vitc, WORK } from './work.mjs';

const RUNS = Number(process.env.RUNS ?? 3);
const weights = vitB16Weights();
const wgslDir = join(WORK, 'vit-b16.vitc-wgsl'), onnxDir = join(WORK, 'vit-b16.vitc-onnx');
vitc('build', SPEC, '--target', 'wgsl', '-o', wgslDir);
vitc('build', SPEC, '--target', 'onnx', '--weights', weights, '-o', onnxDir);

const { gpu, adapter } = await nodeGpu((line) => console.log(line));
// onnxruntime-web finds WebGPU at navigator.gpu; Dawn's Node binding copies only non-shared memory.
Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
const probe = await gpu.requestAdapter(adapter);
const probeDevice = await probe.requestDevice();
const queueProto = Object.getPrototypeOf(probeDevice.queue);
const writeBuffer = queueProto.writeBuffer;
probeDevice.destroy();
queueProto.writeBuffer = function (buffer, offset, data, dataOffset, size) {
  if (data.buffer instanceof SharedArrayBuffer) data = data.slice();
  else if (data instanceof SharedArrayBuffer) data = data.slice(0);
  return writeBuffer.call(this, buffer, offset, data, dataOffset, size);
};
const ort = await import('onnxruntime-web/webgpu');
ort.env.webgpu.adapter = probe;
ort.env.logLevel = 'error';

const x = new Float32Array(3 * 224 * 224);
for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.0137) * 0.9 + 0.1 * Math.cos(i * 0.71);

const models = [];
{
  const t0 = performance.now();
  const mod = await import(pathToFileURL(resolve(wgslDir, 'model.mjs')).href);
  const model = await mod.load(new Uint8Array(readFileSync(weights)), { gpu, adapter, onInfo: (l) => console.log(`vitc wgsl: ${l}`) });
  models.push({ name: 'vitc wgsl', load: performance.now() - t0, run: () => model.forward(x, 1), info: model.info });
}
{
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(onnxDir, 'model.onnx'))), { executionProviders: ['webgpu'] });
  const input = new ort.Tensor('float32', x, [1, 3, 224, 224]);
  models.push({
    name: `onnxruntime-web ${ort.env.versions.web} webgpu`, load: performance.now() - t0,
    run: async () => (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]].getData(),
  });
}

const info = models[0].info;
console.log(`ViT-B/16 batch 1 on ${info.adapter} (WebGPU through Dawn in Node), CPU ${cpus()[0]?.model ?? '?'} (${cpus().length} cores); vitc uses its ${info.kernels} kernels`);
console.log(`load: ${models.map((m) => `${m.name} ${(m.load / 1000).toFixed(1)} s`).join(', ')}; 1 warm-up each, then the median of ${RUNS} interleaved runs`);
const outs = [];
for (const m of models) {
  const t0 = performance.now();
  outs.push(await m.run());
  console.log(`  warm-up ${m.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const times = models.map(() => []);
for (let r = 0; r < RUNS; r++) {
  for (let k = 0; k < models.length; k++) {
    const i = (r + k) % models.length;
    const t0 = performance.now();
    await models[i].run();
    times[i].push(performance.now() - t0);
    console.log(`  run ${r + 1} ${models[i].name}: ${(times[i].at(-1) / 1000).toFixed(1)} s`);
  }
}
const [ours, peer] = times.map(median);
let diff = 0, scale = 0;
for (let i = 0; i < outs[0].length; i++) { diff = Math.max(diff, Math.abs(outs[0][i] - outs[1][i])); scale = Math.max(scale, Math.abs(outs[1][i])); }
console.log('');
console.log(`${models[0].name.padEnd(32)} ${(ours / 1000).toFixed(2).padStart(7)} s per image (median)`);
console.log(`${models[1].name.padEnd(32)} ${(peer / 1000).toFixed(2).padStart(7)} s per image (median)`);
console.log(`ratio: vitc is ${(peer / ours).toFixed(1)}x faster than onnxruntime-web on this adapter; outputs differ by at most ${(diff / scale).toExponential(1)} of the largest logit`);
process.exit(0);
