// Row-wise normalizations: LayerNorm over the last dim, softmax along one axis, GroupNorm over
// (image, channel group). One workgroup per row (in a loop over rows); statistics in f32, reduced
// through workgroup memory in a fixed tree order, so every dialect computes the same sums. `serial`
// rows instead give each thread whole rows of a LayerNorm or softmax, with no workgroup memory and no
// barrier: the fast form on CPU adapters (SwiftShader runs a workgroup with barriers as coroutines).
import { prodA, type Affine } from '../../ir/strided.js';
import type { AttrsOf } from '../../ir/ops/index.js';
import type { GenericKernel, GroupNormKernel, KernelProgram, LayerNormKernel, SoftmaxKernel, View } from '../../kernel/types.js';
import { renderExpr } from './expr.js';
import type { Dialect, KernelSource } from './dialect.js';
import { operand } from './elementwise.js';
import { affine, coordinates, mergeDims, offsetOf } from './views.js';

/** Threads per row: enough to give each a few elements of a row of n. */
export function rowWorkgroup(n: number): number {
  return n <= 64 ? 32 : n <= 256 ? 64 : n <= 2048 ? 128 : 256;
}

/** Sum (or max) `v` over the workgroup into `red[0]`; then every thread reads it into `into`. */
function reduceTree(d: Dialect, wg: number, v: string, into: string, op: 'sum' | 'max'): string[] {
  const out = [`${d.shared('red', d.localId)} = ${v};`, d.barrier];
  for (let s = wg / 2; s >= 1; s /= 2) {
    const a = d.shared('red', d.localId), b = d.shared('red', `${d.localId} + ${s}`);
    out.push(`if (${d.localId} < ${s}) { ${a} = ${op === 'sum' ? `${a} + ${b}` : d.call('max', a, b)}; }`, d.barrier);
  }
  out.push(d.let(into, 'f32', d.shared('red', '0')), d.barrier);
  return out;
}

interface Rows { rows: Affine; x: string; out: string; n: number; sx: Affine; so: Affine }

/** Rows over every dim but `axis`, with the row start of x and out (for row variable `row`). */
function rowsOf(d: Dialect, x: View, out: View, axis: number): Rows {
  const others = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const m = mergeDims(others.map((i) => x.shape[i]!), [others.map((i) => x.strides[i]!), others.map((i) => out.strides[i]!)]);
  const coords = coordinates('row', m.shape, d.batch);
  const n = x.shape[axis]!;
  if (n.b !== 0) throw new Error('normalization along the batch dim');
  const rows = prodA(m.shape);
  return { rows, x: offsetOf(coords, m.strides[0]!, d.batch), out: offsetOf(coords, m.strides[1]!, d.batch), n: n.c, sx: x.strides[axis]!, so: out.strides[axis]! };
}

const at = (j: string, s: Affine, batch: string) => (s.b === 0 && s.c === 1 ? j : `${j} * ${affine(s, batch)}`);

/** Threads per workgroup of serial rows. */
export const SERIAL_WORKGROUP = 64;

/** Rows of a serial kernel: `row` per thread in a grid-stride loop, its x and out starts. */
function serialRows(d: Dialect, r: Rows): string[] {
  const wg = SERIAL_WORKGROUP;
  return [
    d.forOpen('row', `${d.groupId} * ${wg} + ${d.localId}`, affine(r.rows, d.batch), `${d.numGroups} * ${wg}`),
    `  ${d.let('xb', 'i32', r.x)}`,
    `  ${d.let('ob', 'i32', r.out)}`,
  ];
}

export function layernormKernel(d: Dialect, p: KernelProgram, k: LayerNormKernel, name: string, serial = false): KernelSource {
  const r = rowsOf(d, k.x, k.out, k.x.shape.length - 1);
  if (serial) return layernormSerial(d, p, k, name, r);
  const wg = rowWorkgroup(r.n);
  const x = operand(p, 'x', k.x), out = operand(p, 'out', k.out, true);
  const w = k.w && operand(p, 'w', k.w), b = k.b && operand(p, 'b', k.b);
  const xj = d.load(x, `xb + ${at('j', r.sx, d.batch)}`);
  let y = '(v - mean) * rstd';
  if (w) y = `${y} * ${d.load(w, at('j', k.w!.strides[0]!, d.batch))}`;
  if (b) y = `${y} + ${d.load(b, at('j', k.b!.strides[0]!, d.batch))}`;
  const loop = (inner: string[]) => [`  ${d.forOpen('j', d.localId, String(r.n), String(wg))}`, ...inner.map((s) => `    ${s}`), '  }'];
  const body = [
    d.forOpen('row', d.groupId, affine(r.rows, d.batch), d.numGroups),
    `  ${d.let('xb', 'i32', r.x)}`,
    `  ${d.let('ob', 'i32', r.out)}`,
    `  ${d.var('s', 'f32', d.f32(0))}`,
    ...loop([`s += ${xj};`]),
    ...reduceTree(d, wg, 's', 'total', 'sum').map((s) => `  ${s}`),
    `  ${d.let('mean', 'f32', `total / ${d.f32(r.n)}`)}`,
    `  ${d.var('q', 'f32', d.f32(0))}`,
    ...loop([d.let('c', 'f32', `${xj} - mean`), 'q += c * c;']),
    ...reduceTree(d, wg, 'q', 'sq', 'sum').map((s) => `  ${s}`),
    `  ${d.let('rstd', 'f32', d.call('rsqrt', `sq / ${d.f32(r.n)} + ${d.f32(k.eps)}`))}`,
    ...loop([d.let('v', 'f32', xj), d.store(out, `ob + ${at('j', r.so, d.batch)}`, y)]),
    '}',
  ];
  return {
    name, operands: [x, ...(w ? [w] : []), ...(b ? [b] : []), out], workgroup: wg, grid: { items: r.rows, per: 1 },
    shared: [{ name: 'red', count: wg }], body, doc: `LayerNorm over the last dim (${r.n}), f32 mean and variance, eps ${k.eps}`,
  };
}

function layernormSerial(d: Dialect, p: KernelProgram, k: LayerNormKernel, name: string, r: Rows): KernelSource {
  const x = operand(p, 'x', k.x), out = operand(p, 'out', k.out, true);
  const w = k.w && operand(p, 'w', k.w), b = k.b && operand(p, 'b', k.b);
  const xj = d.load(x, `xb + ${at('j', r.sx, d.batch)}`);
  let y = `(${xj} - mean) * rstd`;
  if (w) y = `${y} * ${d.load(w, at('j', k.w!.strides[0]!, d.batch))}`;
  if (b) y = `${y} + ${d.load(b, at('j', k.b!.strides[0]!, d.batch))}`;
  const loop = (inner: string) => [`  ${d.forOpen('j', '0', String(r.n))}`, `    ${inner}`, '  }'];
  const body = [
    ...serialRows(d, r),
    `  ${d.var('s', 'f32', d.f32(0))}`,
    ...loop(`s += ${xj};`),
    `  ${d.let('mean', 'f32', `s / ${d.f32(r.n)}`)}`,
    `  ${d.var('q', 'f32', d.f32(0))}`,
    ...loop(`${d.let('c', 'f32', `${xj} - mean`)} q += c * c;`),
    `  ${d.let('rstd', 'f32', d.call('rsqrt', `q / ${d.f32(r.n)} + ${d.f32(k.eps)}`))}`,
    ...loop(d.store(out, `ob + ${at('j', r.so, d.batch)}`, y)),
    '}',
  ];
  return {
    name, operands: [x, ...(w ? [w] : []), ...(b ? [b] : []), out], workgroup: SERIAL_WORKGROUP, grid: { items: r.rows, per: SERIAL_WORKGROUP },
    shared: [], body, doc: `LayerNorm over the last dim (${r.n}), f32 mean and variance, eps ${k.eps}; one row per thread`,
  };
}

export function softmaxKernel(d: Dialect, p: KernelProgram, k: SoftmaxKernel, name: string, serial = false): KernelSource {
  const r = rowsOf(d, k.x, k.out, k.axis);
  if (serial) return softmaxSerial(d, p, k, name, r);
  const wg = rowWorkgroup(r.n);
  const x = operand(p, 'x', k.x), out = operand(p, 'out', k.out, true);
  const xj = d.load(x, `xb + ${at('j', r.sx, d.batch)}`);
  const loop = (inner: string[]) => [`  ${d.forOpen('j', d.localId, String(r.n), String(wg))}`, ...inner.map((s) => `    ${s}`), '  }'];
  const body = [
    d.forOpen('row', d.groupId, affine(r.rows, d.batch), d.numGroups),
    `  ${d.let('xb', 'i32', r.x)}`,
    `  ${d.let('ob', 'i32', r.out)}`,
    `  ${d.var('mx', 'f32', d.f32(-Infinity))}`,
    ...loop([`mx = ${d.call('max', 'mx', xj)};`]),
    ...reduceTree(d, wg, 'mx', 'rowmax', 'max').map((s) => `  ${s}`),
    `  ${d.var('s', 'f32', d.f32(0))}`,
    ...loop([`s += ${d.call('exp', `${xj} - rowmax`)};`]),
    ...reduceTree(d, wg, 's', 'total', 'sum').map((s) => `  ${s}`),
    ...loop([d.store(out, `ob + ${at('j', r.so, d.batch)}`, `${d.call('exp', `${xj} - rowmax`)} / total`)]),
    '}',
  ];
  return {
    name, operands: [x, out], workgroup: wg, grid: { items: r.rows, per: 1 },
    shared: [{ name: 'red', count: wg }], body, doc: `softmax along axis ${k.axis} (${r.n}), f32 max and sum`,
  };
}

/**
 * The GroupNorm kernels' register budget. Given only the threads per block, ptxas 13 for sm_90 squeezes
 * some of them into 32 registers by spilling (the hybrid models' shapes; an odd one even with the
 * division-free indexing below); with 64 allowed (half of the threads resident) it uses 32 to 48 and
 * spills none, on sm_80 as on sm_90.
 */
const GROUPNORM_REGISTERS = 64;

/**
 * GroupNorm of x [N, C, ...]: a workgroup per (image, group), normalizing its C/groups channels over
 * every position with f32 mean and variance, then a per-channel weight and bias, then the kernel's
 * epilogue (ReLU, a residual) at the store. Renders the GroupNorm kernel kind and the generic op alike.
 */
export function groupnormKernel(d: Dialect, p: KernelProgram, k: GroupNormKernel | GenericKernel, name: string): KernelSource {
  const g = k.kind === 'groupnorm'
    ? { x: k.x, w: k.w, b: k.b, groups: k.groups, eps: k.eps, epi: k.epi }
    : { x: k.ins[0]!, w: k.ins[1], b: k.ins[2], groups: (k.attrs as AttrsOf<'groupnorm'>).groups, eps: (k.attrs as AttrsOf<'groupnorm'>).eps, epi: undefined };
  const xv = g.x, ins = g.epi?.ins ?? [];
  const C = xv.shape[1]!.c, G = g.groups, Cg = C / G;
  const S = xv.shape.slice(2).reduce((n, s) => n * s.c, 1), L = Cg * S;
  const wg = rowWorkgroup(L);
  const x = operand(p, 'x', xv), out = operand(p, 'out', k.out, true);
  const w = g.w && operand(p, 'w', g.w), b = g.b && operand(p, 'b', g.b);
  const inOps = ins.map((v, i) => operand(p, `in${i}`, v));
  const rows = prodA([xv.shape[0]!, { b: 0, c: G }]);
  // Element j of the group (channel c0 + j / S, position j % S) in each of `views`, over the group's
  // channels and positions merged wherever every view allows. Contiguous NCHW makes them one run: j
  // sits at j from the group's start, with no division. Besides the arithmetic this saves, it keeps the
  // per-thread values that the compiler hoists out of the row loop few: with (j / S, j % S) in every
  // loop, ptxas fitted the hybrid models' GroupNorms in 32 registers on sm_90 only by spilling.
  const inGroup = (views: readonly View[]) => {
    const m = mergeDims([{ b: 0, c: Cg }, ...xv.shape.slice(2)], views.map((v) => [v.strides[1]!, ...v.strides.slice(2)]));
    const coords = coordinates('j', m.shape, d.batch);
    return (i: number) => [at('bn', views[i]!.strides[0]!, d.batch), at('c0', views[i]!.strides[1]!, d.batch), offsetOf(coords, m.strides[i]!, d.batch)]
      .filter((t) => t !== '0').join(' + ') || '0';
  };
  // The statistics read x alone; the normalizing loop reads x and the epilogue's inputs and writes out.
  const stat = inGroup([xv]), norm = inGroup([xv, k.out, ...ins]);
  const xs = d.load(x, stat(0));
  let y = '(v - mean) * rstd';
  if (w) y = `${y} * ${d.load(w, at('c', g.w!.strides[0]!, d.batch))}`;
  if (b) y = `${y} + ${d.load(b, at('c', g.b!.strides[0]!, d.batch))}`;
  const channel = w || b ? [d.let('c', 'i32', Cg === 1 ? 'c0' : `c0 + j / ${S}`)] : [];
  const stored = g.epi ? renderExpr(d, g.epi.expr, (i) => d.load(inOps[i]!, norm(2 + i)), 'y') : 'y';
  const loop = (inner: string[]) => [`  ${d.forOpen('j', d.localId, String(L), String(wg))}`, ...inner.map((s) => `    ${s}`), '  }'];
  const body = [
    d.forOpen('row', d.groupId, affine(rows, d.batch), d.numGroups),
    `  ${d.let('bn', 'i32', `row / ${G}`)}`,
    `  ${d.let('c0', 'i32', `(row % ${G}) * ${Cg}`)}`,
    `  ${d.var('t', 'f32', d.f32(0))}`,
    ...loop([`t += ${xs};`]),
    ...reduceTree(d, wg, 't', 'total', 'sum').map((s) => `  ${s}`),
    `  ${d.let('mean', 'f32', `total / ${d.f32(L)}`)}`,
    `  ${d.var('q', 'f32', d.f32(0))}`,
    ...loop([d.let('e', 'f32', `${xs} - mean`), 'q += e * e;']),
    ...reduceTree(d, wg, 'q', 'sq', 'sum').map((s) => `  ${s}`),
    `  ${d.let('rstd', 'f32', d.call('rsqrt', `sq / ${d.f32(L)} + ${d.f32(g.eps)}`))}`,
    ...loop([...channel, d.let('v', 'f32', d.load(x, norm(0))), d.let('y', 'f32', y), d.store(out, norm(1), stored)]),
    '}',
  ];
  return {
    name, operands: [x, ...(w ? [w] : []), ...(b ? [b] : []), ...inOps, out], workgroup: wg, grid: { items: rows, per: 1 },
    shared: [{ name: 'red', count: wg }], body, registers: GROUPNORM_REGISTERS,
    doc: `GroupNorm, ${G} groups of ${Cg} channels x ${S} positions, f32 mean and variance, eps ${g.eps}${g.epi && g.epi.expr.k !== 'acc' ? ', then an epilogue' : ''}`,
  };
}

function softmaxSerial(d: Dialect, p: KernelProgram, k: SoftmaxKernel, name: string, r: Rows): KernelSource {
  const x = operand(p, 'x', k.x), out = operand(p, 'out', k.out, true);
  const xj = d.load(x, `xb + ${at('j', r.sx, d.batch)}`);
  const loop = (inner: string) => [`  ${d.forOpen('j', '0', String(r.n))}`, `    ${inner}`, '  }'];
  const body = [
    ...serialRows(d, r),
    `  ${d.var('mx', 'f32', d.f32(-Infinity))}`,
    ...loop(`mx = ${d.call('max', 'mx', xj)};`),
    `  ${d.var('s', 'f32', d.f32(0))}`,
    ...loop(`s += ${d.call('exp', `${xj} - mx`)};`),
    ...loop(d.store(out, `ob + ${at('j', r.so, d.batch)}`, `${d.call('exp', `${xj} - mx`)} / s`)),
    '}',
  ];
  return {
    name, operands: [x, out], workgroup: SERIAL_WORKGROUP, grid: { items: r.rows, per: SERIAL_WORKGROUP },
    shared: [], body, doc: `softmax along axis ${k.axis} (${r.n}), f32 max and sum; one row per thread`,
  };
}
