// The kernel layer: fusion fires where it must (on every golden spec and on blocks the stdlib does
// not have), every fused kernel computes what the unfused graph computes, the verifier refuses broken
// programs, the dump is reviewed as text, and the JS runtime is bit-identical for any thread count.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadSpec } from '../src/spec/load.js';
import { buildModel } from '../src/models/bind.js';
import { runPipeline } from '../src/passes/pipeline.js';
import { buildKernelProgram, buildKernelProgramWithValues, printKernels } from '../src/kernel/index.js';
import { verifyKernels } from '../src/kernel/verify.js';
import type { Kernel, KernelProgram, View } from '../src/kernel/types.js';
import type { Graph } from '../src/ir/graph.js';
import { evaluateGraph } from '../src/backends/js/reference.js';
import { kernelCode } from '../src/backends/js/codegen.js';
import { ProgramRunner } from '../src/backends/js/runtime/program.js';
import { UNARY } from '../src/backends/js/runtime/kernels.js';
import { parseSafetensors, weightReader } from '../src/runtime/safetensors.js';
import { compare, GOLDEN_SPECS, loadGolden } from './golden.js';
import { tempDir, vitc } from './helpers.js';
import { openSession, prepare } from '../src/runner.js';

const native = new Set(['attention']);
function graphOf(spec: string): Graph {
  return runPipeline(buildModel(loadSpec(spec)).graph, { nativeComposites: native, narrowRows: true }).graph;
}
function programOf(spec: string, lnPrologue = true): KernelProgram {
  return buildKernelProgram(graphOf(spec), { precision: 'fp32', lnPrologue });
}
function kinds(p: KernelProgram): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of p.kernels) out[k.kind] = (out[k.kind] ?? 0) + 1;
  return out;
}

describe('fusion fires on every golden spec', () => {
  it.each(GOLDEN_SPECS)('%s: no softmax or lone activation survives; every linear is a GEMM; one attention per block and per attention op', (spec) => {
    const g = graphOf(spec);
    const p = buildKernelProgram(g, { precision: 'fp32', lnPrologue: true });
    const k = kinds(p);
    const depth = loadSpec(spec).config.depth;
    expect(k.softmax ?? 0).toBe(0);
    // One attention per encoder block, and every attention of the graph (an attention-pooling head's
    // too, as in the gallery's map.vit) is an attention kernel.
    expect(p.kernels.filter((x) => x.kind === 'attention' && /^blocks\.\d+(\.|$)/.test(x.scope)).length).toBe(depth);
    expect(k.attention).toBe(g.nodes.filter((n) => n.op === 'attention').length);
    const linears = g.nodes.filter((n) => n.op === 'linear').map((n) => n.id);
    const gemmRoots = new Set(p.kernels.filter((x) => x.kind === 'gemm').flatMap((x) => x.covers));
    for (const l of linears) expect(gemmRoots.has(l), `linear %${l} is in a GEMM`).toBe(true);
    // Activations and residual adds after a GEMM live in its epilogue, never in an elementwise kernel.
    const lone = p.kernels.filter((x) => x.kind === 'elementwise').flatMap((x) => x.covers).map((id) => g.nodes.find((n) => n.id === id)!.op);
    expect(lone.filter((op) => ['gelu', 'gelu_tanh', 'relu', 'silu'].includes(op))).toEqual([]);
  });

  // Counted by hand from each model's structure (depth 2, pre-norm blocks: qkv, attention, proj+residual,
  // fc1+GELU, fc2+residual), not read off the implementation.
  it.each([
    ['spec/tiny/tiny-base.yaml', { gemm: 1 + 4 * 2 + 1, attention: 2, copy: 1, elementwise: 1, layernorm: 1 }],
    ['spec/tiny/tiny-distilled.yaml', { gemm: 1 + 4 * 2 + 2, attention: 2, copy: 2, elementwise: 1, layernorm: 1 }],
    ['spec/tiny/tiny-gap.yaml', { gemm: 1 + 4 * 2 + 1, attention: 2, elementwise: 1, reduce: 1 }],
    // The parallel block's one norm feeds qkv and fc1 as a prologue, except in the last block: narrow-rows
    // gives fc1 the class token's row only, so that norm is a kernel of its own that both read.
    ['spec/tiny/tiny-parallel.yaml', { gemm: 1 + 4 * 2 + 1, attention: 2, copy: 1, elementwise: 1, layernorm: 2 }],
    ['spec/tiny/tiny-postnorm.yaml', { gemm: 1 + 4 * 2 + 1, attention: 2, copy: 1, elementwise: 1, layernorm: 2 * 2 + 1 }],
    ['spec/tiny/tiny-layerscale.yaml', { gemm: 1 + 4 * 2 + 1, attention: 2, copy: 1, elementwise: 1, layernorm: 1 }],
  ])('%s has exactly the expected kernels', (spec, want) => {
    expect(kinds(programOf(spec))).toEqual(want);
  });

  it('ViT-B/16: five kernels per encoder block (with LayerNorm as a GEMM prologue), six with it as a kernel', () => {
    const js = programOf('spec/vit-b16.yaml', true);
    const gpu = programOf('spec/vit-b16.yaml', false);
    const perBlock = (p: KernelProgram) => p.kernels.filter((k) => k.scope.startsWith('blocks.3.') || k.scope === 'blocks.3').length;
    expect(perBlock(js)).toBe(5);
    expect(perBlock(gpu)).toBe(7);
    expect(js.kernels.length).toBe(12 * 5 + 5);
  });
});

describe('blocks of our own fuse like the stdlib', () => {
  const stdlib = kinds(programOf('spec/tiny/tiny-base.yaml'));
  it('operands commuted, scale on the left of q, LayerScale as an explicit product', () => {
    expect(kinds(programOf('test/fixtures/kernels/commuted.yaml'))).toEqual(stdlib);
  });
  it('a gated MLP: silu(gate) * up is the up GEMM epilogue, one more GEMM per block', () => {
    expect(kinds(programOf('test/fixtures/kernels/gated.yaml'))).toEqual({ ...stdlib, gemm: stdlib.gemm! + 2 });
  });
  it('a GELU formula that uses the product four times, residual scaling on both sides', () => {
    expect(kinds(programOf('test/fixtures/kernels/scaled.yaml'))).toEqual(stdlib);
  });
});

/** A runner for one thread over a plain Float32Array, with the generated code of each kernel. */
function runner(p: KernelProgram, weights: Uint8Array, batch: number) {
  const gen = p.kernels.map((k) => new Function('UNARY', `return ${kernelCode(k)}`)(UNARY));
  const r = new ProgramRunner(p, gen, { thread: 0, threads: 1 });
  r.attach(new Float32Array(r.layout(batch).top), null);
  const tensors = parseSafetensors(weights);
  const shapes = p.bufs.filter((b) => b.kind === 'param').map((b) => [b.name, b.shape.map((d) => d.c)] as [string, number[]]);
  r.load(weightReader(tensors, shapes));
  r.prepare(batch);
  return r;
}

/** A value's elements in row-major order of its shape, read through its view. */
function read(r: InstanceType<typeof ProgramRunner>, v: View, batch: number): Float32Array {
  const x = r.view(v, batch);
  const n = x.shape.reduce((a: number, b: number) => a * b, 1);
  const out = new Float32Array(n);
  const idx = new Array(x.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let o = x.off;
    for (let d = 0; d < idx.length; d++) o += idx[d] * x.strides[d];
    out[i] = r.mem[o];
    for (let d = idx.length - 1; d >= 0; d--) { if (++idx[d] < x.shape[d]) break; idx[d] = 0; }
  }
  return out;
}

describe('every fused kernel computes what the unfused graph computes', () => {
  it.each([
    ['spec/tiny/tiny-distilled.yaml', 'test/golden/tiny-distilled/weights.safetensors'],
    ['spec/tiny/tiny-gap.yaml', 'test/golden/tiny-gap/weights.safetensors'],
    ['spec/tiny/tiny-parallel.yaml', 'test/golden/tiny-parallel/weights.safetensors'],
    ['spec/tiny/tiny-postnorm.yaml', 'test/golden/tiny-postnorm/weights.safetensors'],
    ['spec/tiny/tiny-r50-short.yaml', 'test/golden/tiny-r50-short/weights.safetensors'],
    ['test/fixtures/kernels/commuted.yaml', ''],
    ['test/fixtures/kernels/gated.yaml', ''],
    ['test/fixtures/kernels/scaled.yaml', ''],
    ['test/fixtures/cuda/mixer.yaml', ''],
  ])('%s, on random inputs, kernel by kernel', async (spec, weightsFile) => {
    const g = graphOf(spec);
    const { program: p, values } = buildKernelProgramWithValues(g, { precision: 'fp32', lnPrologue: true });
    let weights: Uint8Array;
    if (weightsFile) weights = new Uint8Array(readFileSync(weightsFile));
    else {
      const out = join(tempDir(), 'w.safetensors');
      expect((await vitc('weights', spec, '-o', out, '--seed', '3')).code).toBe(0);
      weights = new Uint8Array(readFileSync(out));
    }
    const batch = 2;
    const inputBuf = p.bufs[p.inputs[0]!]!;
    const input = new Float32Array(inputBuf.size.b * batch + inputBuf.size.c).map((_, i) => Math.sin(i * 0.37) * 1.3);
    const r = runner(p, weights, batch);
    const read0 = weightReader(parseSafetensors(weights), p.bufs.filter((b) => b.kind === 'param').map((b) => [b.name, b.shape.map((d) => d.c)] as [string, number[]]));
    const ref = evaluateGraph(g, input, batch, read0);
    r.setInput(input);
    const order = new Map(g.nodes.map((n, i) => [n.id, i]));
    let checked = 0;
    for (const k of p.kernels as readonly Kernel[]) {
      r.runKernel(k.id);
      if (k.kind === 'copy' || k.kind === 'im2col') continue; // they write part of a value, or a GEMM operand
      const outNode = [...k.covers].sort((a, b) => order.get(b)! - order.get(a)!)[0]!;
      const got = read(r, values.get(outNode)!, batch);
      const want = ref.get(outNode)!;
      expect(compare(got, want).rel, `kernel ${k.id} (${k.kind} ${k.scope}) against %${outNode}`).toBeLessThan(1e-5);
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });
});

describe('the verifier', () => {
  const good = programOf('spec/tiny/tiny-base.yaml');
  it('accepts what the lowering produces', () => {
    expect(verifyKernels(good)).toEqual([]);
  });
  it('refuses a view with two factors of B, an out-of-bounds view, a write to a weight, and overlapping live temps', () => {
    const k0 = good.kernels[3]!;
    const bad = (k: Kernel): KernelProgram => ({ ...good, kernels: good.kernels.map((x) => (x.id === k.id ? k : x)) });
    const bb = { ...k0.out, strides: k0.out.strides.map((s, i) => (i === 0 ? { b: 1, c: 0 } : s)) };
    expect(verifyKernels(bad({ ...k0, out: bb } as Kernel)).join('\n')).toMatch(/more than one factor of B/);
    const oob = { ...k0.out, offset: { b: 0, c: 100000 } };
    expect(verifyKernels(bad({ ...k0, out: oob } as Kernel)).join('\n')).toMatch(/out of bounds/);
    const param = good.bufs.find((b) => b.kind === 'param')!;
    expect(verifyKernels(bad({ ...k0, out: { ...k0.out, buf: param.id } } as Kernel)).join('\n')).toMatch(/writes to param buffer/);
    const temps = good.bufs.filter((b) => b.kind === 'temp');
    const clash = { ...good, bufs: good.bufs.map((b) => (b.kind === 'temp' ? { ...b, offset: temps[0]!.offset } : b)) };
    expect(verifyKernels(clash).join('\n')).toMatch(/are live together .* and overlap/);
  });
});

describe('--dump-kernels (test/snapshots, reviewed as text; UPDATE_SNAPSHOTS=1 rewrites them)', () => {
  it.each(['tiny-base', 'tiny-distilled'])('%s matches its snapshot', (name) => {
    const text = printKernels(programOf(`spec/tiny/${name}.yaml`));
    const file = `test/snapshots/${name}.kernels.txt`;
    if (process.env.UPDATE_SNAPSHOTS || !existsSync(file)) writeFileSync(file, text);
    expect(text).toBe(readFileSync(file, 'utf8'));
  });
  it('vitc build --dump-kernels prints it, and refuses for a target that renders the graph', async () => {
    const dir = tempDir();
    const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', join(dir, 'o'), '--dump-kernels');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(printKernels(programOf('spec/tiny/tiny-base.yaml')).trimEnd());
    const onnx = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '-o', join(dir, 'p'), '--dump-kernels');
    expect(onnx.code).toBe(1);
    expect(onnx.stderr).toMatch(/--dump-kernels: the onnx target renders the graph, not a KernelProgram/);
    // Like the other option checks, before the spec is read (or a whole model compiled) at all.
    const before = await vitc('build', join(dir, 'no-such-spec.yaml'), '--target', 'onnx', '-o', join(dir, 'q'), '--dump-kernels');
    expect([before.code, before.stderr]).toEqual([1, 'error: --dump-kernels: the onnx target renders the graph, not a KernelProgram (targets with kernels: js, cuda, wgsl)']);
  });
});

describe('the JS runtime', () => {
  it('gives bit-identical results for 1, 2 and 3 threads (tiny-mid: full tiles)', async () => {
    const gld = loadGolden('tiny-mid');
    const p = await prepare(gld.spec, 'js', { precision: 'fp32', seed: 0 });
    try {
      const outs: Float32Array[] = [];
      for (const threads of [1, 2, 3]) {
        const s = await openSession(p, gld.weights, threads);
        outs.push(await s.forward(gld.input.data, gld.input.shape[0]!));
        await s.close();
      }
      expect(compare(outs[0]!, gld.logits.data).rel).toBeLessThan(1e-5);
      expect(Buffer.from(outs[1]!.buffer)).toEqual(Buffer.from(outs[0]!.buffer));
      expect(Buffer.from(outs[2]!.buffer)).toEqual(Buffer.from(outs[0]!.buffer));
      // The plain-JS micro-kernel (engines without WebAssembly SIMD): the same goldens, and thread-invariant too.
      const mod = await import(pathToFileURL(join(p.dir, 'model.mjs')).href);
      const plain: Float32Array[] = [];
      for (const threads of [1, 2]) {
        const m = await mod.load(gld.weights, { threads, simd: false });
        expect(m.simd).toBe(false);
        plain.push(await m.forward(gld.input.data, gld.input.shape[0]!));
        await m.dispose();
      }
      expect(compare(plain[0]!, gld.logits.data).rel).toBeLessThan(1e-5);
      expect(Buffer.from(plain[1]!.buffer)).toEqual(Buffer.from(plain[0]!.buffer));
    } finally {
      p.cleanup();
    }
  });
});
