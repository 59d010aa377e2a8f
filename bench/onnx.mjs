// Benchmark, not a test: ViT-B/16 in onnxruntime-node, vitc's model.onnx variants against the
// PyTorch reference's own torch.onnx.export of the same weights, batch 1 and 8, with the session
// options of `vitc run` (2 intra-op threads, all graph optimizations).
//   vitc                      the default build (standard operators, opset 17)
//   vitc --opset 23           the standard Attention operator
//   vitc --onnx-ops ort       onnxruntime's fused Attention (com.microsoft)
//   vitc without narrow-rows  the default build with the narrow-rows pass off (what that pass buys)
//   vitc without value_info   the default build with its value_info removed (does the annotation cost?)
//   vitc --precision fp16     float16 weights and activations (onnxruntime's CPU provider casts around ops without fp16 kernels)
//   bound: Gemm biases deleted  the default build with every Gemm's bias input removed: wrong outputs, so not a
//                             variant but a bound on what moving the biases out of the Gemms could buy (onnxruntime's
//                             Gemm copies a bias into every output row before MLAS accumulates onto it)
// The weights are `vitc weights` with every bias and LayerNorm parameter perturbed too (timm's init
// leaves them 0 and 1), so the output comparison means something. Each model gets warm-up runs, then
// RUNS rounds of one timed run each, interleaved in rotating order with an idle gap before every run
// (so no session's spinning worker threads steal cores from the next); medians side by side with
// their ratio to torch's, and the outputs against torch's. Then the kernel-time floor: onnxruntime's
// own profiler on torch's export and the two fp32 vitc variants splits each run into GEMM kernels and
// the rest, which bounds what any graph built from the same kernels can reach (PROFILE=0 skips it),
// and sets each graph's GEMM rate (its multiply-adds over its GEMM time) against the machine's fp32
// multiply-add peak on as many cores as onnxruntime has threads (bench/fma-peak.c, built with cc).
// `npm run bench:onnx` (RUNS=, GAP_MS=, BATCHES=1,8, PROFILE_RUNS= to tune).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { buildGraph, compile, writeBuildDir } from '../dist/compile.js';
import { getBackend } from '../dist/backends/registry.js';
import { loadSpec } from '../dist/spec/load.js';
import { params } from '../dist/ir/graph.js';
import { countMacs } from '../dist/analysis/cost.js';
import { randomTensor } from '../dist/weights/random.js';
import { writeSafetensors } from '../dist/weights/safetensors.js';
import { median, SPEC, vitc, WORK } from './work.mjs';

const { onnx } = onnxProto;
const RUNS = Number(process.env.RUNS ?? 12);
const WARMUP = 2;
const GAP_MS = Number(process.env.GAP_MS ?? 100);
const BATCHES = (process.env.BATCHES ?? '1,8').split(',').map(Number);
const PROFILE_RUNS = process.env.PROFILE === '0' ? 0 : Number(process.env.PROFILE_RUNS ?? 6);
const PY = '/usr/bin/python3';

const weights = join(WORK, 'vit-b16.perturbed.safetensors');
if (!existsSync(weights)) {
  // Seeded weights (seed 0), plus normal(0.02) noise on the parameters timm initializes to a constant.
  const tensors = params(buildGraph(loadSpec(SPEC))).map(({ attrs: p }) => {
    const data = randomTensor(p.name, p.shape, p.init, 0);
    if (p.init.kind === 'constant') {
      const noise = randomTensor(`${p.name}/noise`, p.shape, { kind: 'normal', std: 0.02 }, 0);
      for (let i = 0; i < data.length; i++) data[i] += noise[i];
    }
    return { name: p.name, shape: p.shape, data };
  });
  writeFileSync(weights, writeSafetensors(tensors));
}
const reference = join(WORK, 'vit-b16.perturbed.torch.onnx');
if (!existsSync(reference) || statSync(reference).mtimeMs < statSync(weights).mtimeMs) {
  console.log('exporting the PyTorch reference with torch.onnx.export ...');
  execFileSync(PY, ['tools/golden/export_onnx.py', '--spec', SPEC, '--weights', weights, '-o', reference], { stdio: 'inherit' });
}
const build = (name, ...args) => {
  const dir = join(WORK, `vit-b16.${name}`);
  vitc('build', SPEC, '--target', 'onnx', '--weights', weights, ...args, '-o', dir);
  return join(dir, 'model.onnx');
};
const standard = build('vitc-onnx');
// The ablation: the same build with the onnx backend's narrowRows capability switched off, in this
// process only (the CLI has no switch for it: the pass is exact, so there is nothing to choose).
const wide = await (async () => {
  const backend = getBackend('onnx');
  const saved = backend.capabilities;
  backend.capabilities = { ...saved, narrowRows: false };
  try {
    const dir = join(WORK, 'vit-b16.vitc-onnx-wide');
    const c = await compile(SPEC, 'onnx', { precision: 'fp32', seed: 0, weights: { bytes: readFileSync(weights), file: weights } });
    writeBuildDir(dir, c.files);
    return join(dir, 'model.onnx');
  } finally {
    backend.capabilities = saved;
  }
})();
const stripped = onnx.ModelProto.decode(readFileSync(standard));
stripped.graph.valueInfo = [];
const unbiased = onnx.ModelProto.decode(readFileSync(standard));
const dropped = new Set();
for (const n of unbiased.graph.node) if (n.opType === 'Gemm' && n.input.length === 3) dropped.add(n.input.pop());
for (const n of unbiased.graph.node) for (const i of n.input) dropped.delete(i);
unbiased.graph.initializer = unbiased.graph.initializer.filter((t) => !dropped.has(t.name));

const builtMacs = JSON.parse(readFileSync(join(standard, '..', 'manifest.json'), 'utf8')).stats.macs_per_image;
const options = { intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
const models = [
  { name: 'torch.onnx.export', source: reference },
  { name: 'vitc', source: standard },
  { name: 'vitc --opset 23', source: build('vitc-onnx23', '--opset', '23') },
  { name: 'vitc --onnx-ops ort', source: build('vitc-onnx-ort', '--onnx-ops', 'ort') },
  { name: 'vitc without narrow-rows', source: wide },
  { name: 'vitc without value_info', source: onnx.ModelProto.encode(stripped).finish() },
  { name: 'vitc --precision fp16', source: build('vitc-onnx-fp16', '--precision', 'fp16'), fp16: true },
  { name: 'bound: Gemm biases deleted', source: onnx.ModelProto.encode(unbiased).finish(), bound: true },
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

console.log(`ViT-B/16, onnxruntime-node ${ort.env.versions.common}, CPU ${cpus()[0]?.model ?? '?'} (${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the start), ${options.intraOpNumThreads} intra-op threads`);
console.log(`${WARMUP} warm-ups, then the median of ${RUNS} interleaved runs each, ${GAP_MS} ms apart; outputs as max|Δlogit| / max|logit| against torch.onnx.export`);
let failed = false;
for (const batch of BATCHES) {
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
  const vitcMs = median(times.get('vitc'));
  console.log(`\nbatch ${batch}:`);
  for (const m of models) {
    const ms = median(times.get(m.name));
    const y = outs.get(m.name);
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(y[i] - ref[i]));
    const rel = err / maxRef;
    if (!m.bound && rel > (m.fp16 ? 5e-3 : 1e-5)) failed = true;
    const extra = m.fp16 ? `  fp16/fp32 ${(ms / vitcMs).toFixed(3)}` : '';
    console.log(`  ${m.name.padEnd(27)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / batch).toFixed(1).padStart(6)} ms/image  ratio to torch ${(ms / torchMs).toFixed(3)}  (min ${Math.min(...times.get(m.name)).toFixed(1)})  ${m.bound ? 'outputs wrong by design (a bound)' : `Δ ${rel.toExponential(1)}`}${extra}`);
  }
}
for (const m of models) await m.session.release();
if (PROFILE_RUNS > 0) await kernelFloor(models.filter((m) => ['torch.onnx.export', 'vitc', 'vitc --onnx-ops ort', 'bound: Gemm biases deleted'].includes(m.name)));
if (failed) {
  console.error('error: a model disagrees with torch.onnx.export by more than 1e-5 (fp16: 5e-3) x max|logit|');
  process.exit(1);
}

/**
 * The kernel-time floor. onnxruntime's profiler (one event per kernel, wall time) on fresh sessions,
 * interleaved like the timing above: per model the summed kernel time of the GEMM-class kernels
 * (Gemm, MatMul, FusedMatMul, Attention, Conv: the multiply-adds, run by MLAS in every graph) and of
 * everything else. "floor" is a model's GEMM time over torch's whole kernel time: the ratio it would
 * reach if every other kernel and all per-node overhead cost nothing.
 */
async function kernelFloor(chosen) {
  const peak = await fmaPeak(options.intraOpNumThreads);
  // Multiply-adds per image: torch's export computes the whole model; vitc's builds what narrow-rows leaves.
  const modelMacs = countMacs(buildGraph(loadSpec(SPEC)));
  const macsOf = (m) => (m.name === 'torch.onnx.export' ? modelMacs : builtMacs);
  const GEMM = new Set(['Gemm', 'MatMul', 'FusedMatMul', 'Attention', 'MultiHeadAttention', 'Conv', 'FusedConv']);
  console.log(`\nkernel time from onnxruntime's profiler, median of ${PROFILE_RUNS} interleaved runs after ${WARMUP} warm-ups (ms per run):`);
  console.log(peak ? `fp32 multiply-add peak of this machine: ${peak.perCore.map((g) => g.toFixed(1)).join(' + ')} = ${peak.total.toFixed(1)} GMAC/s on ${peak.perCore.length} cores at once (${peak.lanes}-lane FMAs, bench/fma-peak.c)`
    : 'fp32 multiply-add peak: not measured (no C compiler: cc)');
  for (const batch of BATCHES) {
    const x = image(batch);
    const dir = mkdtempSync(join(tmpdir(), 'vitc-bench-prof-'));
    const profiled = [];
    for (const [i, m] of chosen.entries()) {
      const session = await ort.InferenceSession.create(m.source, { ...options, enableProfiling: true, profileFilePrefix: join(dir, `m${i}`) });
      profiled.push({ name: m.name, session, prefix: `m${i}` });
    }
    for (let r = 0; r < WARMUP + PROFILE_RUNS; r++) {
      for (let k = 0; k < profiled.length; k++) await run(profiled[(r + k) % profiled.length], x);
    }
    for (const p of profiled) { p.session.endProfiling(); await p.session.release(); }
    const rows = profiled.map((p) => {
      const file = readdirSync(dir).find((f) => f.startsWith(`${p.prefix}_`) && f.endsWith('.json'));
      const events = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts).slice(WARMUP);
      const per = runs.map((run) => {
        let gemm = 0, other = 0;
        for (const e of events) {
          if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < run.ts || e.ts > run.ts + run.dur) continue;
          if (GEMM.has(e.args?.op_name)) gemm += e.dur; else other += e.dur;
        }
        return { run: run.dur / 1000, gemm: gemm / 1000, other: other / 1000 };
      });
      const med = (k) => median(per.map((q) => q[k]));
      return { name: p.name, run: med('run'), gemm: med('gemm'), other: med('other'), macs: macsOf(p) * batch };
    });
    rmSync(dir, { recursive: true, force: true });
    const torch = rows[0];
    const torchKernels = torch.gemm + torch.other;
    console.log(`batch ${batch}:`);
    for (const q of rows) {
      const kernels = q.gemm + q.other;
      const rate = q.macs / q.gemm / 1e6; // GMAC/s
      const ofPeak = peak ? ` (${(100 * rate / peak.total).toFixed(0)} % of peak)` : '';
      console.log(`  ${q.name.padEnd(27)} run ${q.run.toFixed(1).padStart(7)}  GEMM ${q.gemm.toFixed(1).padStart(7)} (${(100 * q.gemm / kernels).toFixed(1)} %)  other ${q.other.toFixed(1).padStart(6)}  GEMM/torch's GEMM ${(q.gemm / torch.gemm).toFixed(3)}  floor ${(q.gemm / torchKernels).toFixed(3)}  ${rate.toFixed(1)} GMAC/s${ofPeak}`);
    }
  }
}

/**
 * The fp32 multiply-add peak: bench/fma-peak.c built with cc -O2 -march=native and run on `cores`
 * cores at once (each copy prints its GMAC/s); undefined when there is no C compiler.
 */
async function fmaPeak(cores) {
  const exe = join(WORK, 'fma-peak');
  try {
    execFileSync('cc', ['-O2', '-march=native', '-ffp-contract=fast', 'bench/fma-peak.c', '-o', exe], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const outs = await Promise.all(Array.from({ length: cores }, () => promisify(execFile)(exe)));
  const perCore = outs.map((o) => Number(o.stdout.split(' ')[0]));
  return { perCore, total: perCore.reduce((a, b) => a + b, 0), lanes: Number(outs[0].stdout.split(' ')[1]) };
}
