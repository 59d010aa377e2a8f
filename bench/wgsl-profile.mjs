// Benchmark tool, not a test: where vitc's wgsl build of ViT-B/16 spends its time on this machine's
// adapter (SwiftShader here). One warm-up forward, then RUNS forwards timed whole (wall and process
// CPU time) and RUNS profiles (one kernel per submit, waiting for each): per kind of kernel (qkv,
// attention, proj, fc1, fc2, LayerNorm, the rest) the median over runs of its summed CPU and wall
// time. SwiftShader runs inside this process, so CPU seconds are the kernels' cost even while other
// jobs load the machine; wall time is not.
// `npm run bench:wgsl-profile` (RUNS= to change the runs, default 3; KERNELS=register|subgroup|workgroup
// to force a variant; PER_KERNEL=1 to list every kernel of the median run).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeGpu } from '../dist/backends/wgsl/dawn.js';
import { median, SPEC, vitB16Weights, vitc, WORK } from './work.mjs';

const RUNS = Number(process.env.RUNS ?? 3);
const weights = vitB16Weights();
const dir = join(WORK, 'vit-b16.vitc-wgsl');
vitc('build', SPEC, '--target', 'wgsl', '-o', dir);
const { gpu, adapter } = await nodeGpu((line) => console.log(line));
const mod = await import(pathToFileURL(resolve(dir, 'model.mjs')).href);
const t0 = performance.now();
const model = await mod.load(new Uint8Array(readFileSync(weights)), { gpu, adapter, kernels: process.env.KERNELS, onInfo: (l) => console.log(l) });
console.log(`load ${((performance.now() - t0) / 1000).toFixed(1)} s; ${model.info.adapter}, ${model.info.kernels} kernels`);

const x = new Float32Array(3 * 224 * 224);
for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.0137) * 0.9 + 0.1 * Math.cos(i * 0.71);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** The kind of kernel i: a block's GEMMs come in the order qkv, proj, fc1, fc2. */
function kinds(labels) {
  let after = '';
  return labels.map((l) => {
    const [, kind, scope = ''] = l.split(' ');
    let k = kind;
    if (kind === 'gemm') {
      if (scope.endsWith('.attn.qkv')) k = 'qkv';
      else if (scope.endsWith('.mlp')) k = 'fc1';
      else if (/^blocks\.\d+$/.test(scope)) k = after === 'attention' ? 'proj' : 'fc2';
      else k = `gemm ${scope}`;
    } else if (kind === 'layernorm') k = 'layernorm';
    if (kind === 'attention' || k === 'fc1') after = kind === 'attention' ? 'attention' : 'fc1';
    return k;
  });
}

await model.forward(x, 1);
const whole = [];
for (let r = 0; r < RUNS; r++) {
  const c0 = cpu(), w0 = performance.now();
  await model.forward(x, 1);
  whole.push({ wall: performance.now() - w0, cpu: cpu() - c0 });
}
const profiles = [];
for (let r = 0; r < RUNS; r++) profiles.push((await model.profile(x, 1)).kernels);
const kindOf = kinds(profiles[0].map((k) => k.label));
const order = [...new Set(kindOf)];
const sums = profiles.map((p) => {
  const s = new Map(order.map((k) => [k, { cpu: 0, wall: 0, n: 0 }]));
  p.forEach((k, i) => { const e = s.get(kindOf[i]); e.cpu += k.cpuMs; e.wall += k.ms; e.n++; });
  return s;
});
const totalCpu = median(profiles.map((p) => p.reduce((a, k) => a + k.cpuMs, 0)));
console.log(`\nforward (one submit), median of ${RUNS}: ${(median(whole.map((w) => w.wall)) / 1000).toFixed(2)} s wall, ${(median(whole.map((w) => w.cpu)) / 1000).toFixed(2)} CPU-s`);
console.log(`profile (a submit per kernel), median of ${RUNS}: ${(totalCpu / 1000).toFixed(2)} CPU-s\n`);
console.log(`${'kind'.padEnd(26)} ${'kernels'.padStart(7)} ${'CPU-s'.padStart(8)} ${'share'.padStart(6)} ${'wall s'.padStart(8)}`);
for (const k of order) {
  const c = median(sums.map((s) => s.get(k).cpu)), w = median(sums.map((s) => s.get(k).wall));
  console.log(`${k.padEnd(26)} ${String(sums[0].get(k).n).padStart(7)} ${(c / 1000).toFixed(3).padStart(8)} ${`${((100 * c) / totalCpu).toFixed(1)}%`.padStart(6)} ${(w / 1000).toFixed(3).padStart(8)}`);
}
if (process.env.PER_KERNEL) {
  const mid = profiles[0];
  for (const k of mid) console.log(`  ${k.label.padEnd(40)} ${(k.cpuMs / 1000).toFixed(3)} CPU-s ${(k.ms / 1000).toFixed(3)} s`);
}
model.destroy();
process.exit(0);
