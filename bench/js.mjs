// Benchmark, not a test: ViT-B/16 from vitc's JS target (model.mjs: WebAssembly SIMD on every core,
// and its plain-JS fallback) side by side with onnxruntime-web's WASM backend (what a browser user
// would pick; same threads) and onnxruntime-node (the native ceiling), on the same weights, at
// batch 1 and 8. Warm-ups, then RUNS rounds of one timed run of each, interleaved in rotating order
// with an idle gap before every run; medians side by side with ratios. Also checks that every
// runtime gives the same logits. `npm run bench:js` (RUNS=, GAP_MS=, THREADS=, BATCHES=1,8).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ortNode from 'onnxruntime-node';
import { median, SPEC, vitB16Weights, vitc, WORK } from './work.mjs';

const RUNS = Number(process.env.RUNS ?? 7);
const WARMUP = 1;
// onnxruntime keeps its threads spinning for a while after a run; a short gap lets them slow whichever
// runtime comes next (vitc at batch 1: 850 ms with 200 ms gaps, 733 ms with 1500 ms, 672 ms alone).
const GAP_MS = Number(process.env.GAP_MS ?? 1500);
const THREADS = Number(process.env.THREADS ?? 2);
const BATCHES = (process.env.BATCHES ?? '1,8').split(',').map(Number);
const weights = vitB16Weights();
const jsDir = join(WORK, 'vit-b16.vitc-js');
const onnxDir = join(WORK, 'vit-b16.vitc-onnx');
vitc('build', SPEC, '--target', 'js', '-o', jsDir);
vitc('build', SPEC, '--target', 'onnx', '--weights', weights, '-o', onnxDir);
const onnxFile = join(onnxDir, 'model.onnx');

const mod = await import(pathToFileURL(resolve(jsDir, 'model.mjs')).href);
const bytes = new Uint8Array(readFileSync(weights));
const ortWeb = await import('onnxruntime-web');
ortWeb.env.wasm.numThreads = THREADS;
ortWeb.env.wasm.simd = true;

const image = (batch) => {
  const x = new Float32Array(batch * 3 * 224 * 224);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.0137) * 0.9 + 0.1 * Math.cos(i * 0.71);
  return x;
};
const runtimes = [
  { name: 'vitc js (WebAssembly SIMD)', load: async () => { const m = await mod.load(bytes, { threads: THREADS }); return { run: (x, b) => m.forward(x, b), close: () => m.dispose(), info: `${m.threads} threads, simd ${m.simd}` }; } },
  { name: 'vitc js (plain JS fallback)', slow: true, load: async () => { const m = await mod.load(bytes, { threads: THREADS, simd: false }); return { run: (x, b) => m.forward(x, b), close: () => m.dispose(), info: `${m.threads} threads, simd ${m.simd}` }; } },
  { name: 'onnxruntime-web wasm', load: async () => {
    const s = await ortWeb.InferenceSession.create(readFileSync(onnxFile), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return { run: async (x, b) => (await s.run({ [s.inputNames[0]]: new ortWeb.Tensor('float32', x, [b, 3, 224, 224]) }))[s.outputNames[0]].data, close: () => s.release(), info: `${ortWeb.env.wasm.numThreads} threads` };
  } },
  { name: 'onnxruntime-node', load: async () => {
    const s = await ortNode.InferenceSession.create(onnxFile, { intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    return { run: async (x, b) => (await s.run({ [s.inputNames[0]]: new ortNode.Tensor('float32', x, [b, 3, 224, 224]) }))[s.outputNames[0]].data, close: () => s.release(), info: `${THREADS} intra-op threads` };
  } },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

console.log(`ViT-B/16 (${SPEC}), CPU ${cpus()[0]?.model ?? '?'} (${cpus().length} cores), ${THREADS} threads each; ${WARMUP} warm-up, then the median of ${RUNS} interleaved runs, ${GAP_MS} ms apart`);
for (const r of runtimes) {
  const t0 = performance.now();
  r.session = await r.load();
  console.log(`  ${r.name.padEnd(30)} loaded in ${(performance.now() - t0).toFixed(0)} ms (${r.session.info})`);
}
let failed = false;
for (const batch of BATCHES) {
  const x = image(batch);
  const times = new Map(runtimes.map((r) => [r.name, []]));
  const outs = new Map();
  for (let w = 0; w < WARMUP; w++) for (const r of runtimes) outs.set(r.name, await r.session.run(x, batch));
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < runtimes.length; k++) {
      const r = runtimes[(i + k) % runtimes.length];
      if (r.slow && i >= Math.ceil(RUNS / 2)) continue; // the fallback is slow: half the rounds
      await sleep(GAP_MS);
      const t0 = performance.now();
      await r.session.run(x, batch);
      times.get(r.name).push(performance.now() - t0);
    }
  }
  const ref = outs.get('onnxruntime-node');
  const maxRef = ref.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  const web = median(times.get('onnxruntime-web wasm'));
  const native = median(times.get('onnxruntime-node'));
  console.log(`\nbatch ${batch}:                          median       per image   vs ort-web  vs ort-node  max|Δlogit|/max|logit|`);
  for (const r of runtimes) {
    const ms = median(times.get(r.name));
    let err = 0;
    const y = outs.get(r.name);
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(y[i] - ref[i]));
    const rel = err / maxRef;
    if (rel > 1e-4) failed = true;
    console.log(`  ${r.name.padEnd(30)} ${ms.toFixed(0).padStart(7)} ms ${(ms / batch).toFixed(0).padStart(8)} ms ${(ms / web).toFixed(2).padStart(10)} ${(ms / native).toFixed(2).padStart(11)}   ${rel.toExponential(1)}`);
  }
}
for (const r of runtimes) await r.session.close();
if (failed) {
  console.error('\nthe runtimes disagree on the logits by more than 1e-4');
  process.exitCode = 1;
}
