// Kernels over every element of the output: elementwise expressions, copies and mean reductions.
// One thread per output element, in a loop over the grid so that any size runs with few workgroups.
import { numelA, type Affine } from '../../ir/strided.js';
import type { CopyKernel, ElementwiseKernel, Im2colKernel, KernelProgram, ReduceKernel, View } from '../../kernel/types.js';
import type { Dialect, KernelSource, Operand } from './dialect.js';
import { renderExpr } from './expr.js';
import { affine, coordinates, mergeDims, offsetOf } from './views.js';

export const ELEMENTWISE_WORKGROUP = 256;

export function operand(p: KernelProgram, name: string, v: View, write = false): Operand {
  return { name, dtype: p.bufs[v.buf]!.dtype, write, buf: v.buf, offset: v.offset };
}

/** The grid-stride loop over `n` items, with `i` the item: opening lines (closed by `}`). */
export function gridLoop(d: Dialect, i: string, n: string, wg: number): string[] {
  return [
    d.let('n', 'i32', n),
    d.forOpen(i, `${d.groupId} * ${wg} + ${d.localId}`, 'n', `${d.numGroups} * ${wg}`),
  ];
}

export function elementwiseKernel(d: Dialect, p: KernelProgram, k: ElementwiseKernel | CopyKernel, name: string): KernelSource {
  const ins = k.kind === 'copy' ? [k.x] : k.ins;
  const wg = ELEMENTWISE_WORKGROUP;
  const { shape, strides } = mergeDims(k.out.shape, [k.out.strides, ...ins.map((v) => v.strides)]);
  const out = operand(p, 'out', k.out, true);
  const inOps = ins.map((v, i) => operand(p, `in${i}`, v));
  const n: Affine = numelA(k.out);
  const coords = coordinates('i', shape, d.batch);
  const body = [
    ...gridLoop(d, 'i', affine(n, d.batch), wg),
    ...inOps.map((op, j) => `  ${d.let(`x${j}`, 'f32', d.load(op, offsetOf(coords, strides[j + 1]!, d.batch)))}`),
    `  ${d.store(out, offsetOf(coords, strides[0]!, d.batch), k.kind === 'copy' ? 'x0' : renderExpr(d, k.expr, (i) => `x${i}`))}`,
    '}',
  ];
  return {
    name, operands: [...inOps, out], workgroup: wg, grid: { items: n, per: wg }, shared: [], body,
    doc: k.kind === 'copy' ? 'out = in0, element by element' : 'out = an elementwise expression of the inputs',
  };
}

/** Mean over `axes`: one thread per output element, summing the reduced elements in f32. */
export function reduceKernel(d: Dialect, p: KernelProgram, k: ReduceKernel, name: string): KernelSource {
  const wg = ELEMENTWISE_WORKGROUP;
  const keptDims = k.x.shape.map((_, i) => i).filter((i) => !k.axes.includes(i));
  const kept = mergeDims(k.out.shape, [k.out.strides, keptDims.map((i) => k.x.strides[i]!)]);
  const red = mergeDims(k.axes.map((a) => k.x.shape[a]!), [k.axes.map((a) => k.x.strides[a]!)]);
  const count = red.shape.reduce((s, x) => s * x.c, 1);
  if (red.shape.some((x) => x.b !== 0)) throw new Error('reduce over the batch dim');
  const x = operand(p, 'x', k.x), out = operand(p, 'out', k.out, true);
  const n = numelA(k.out);
  const coords = coordinates('i', kept.shape, d.batch);
  const loops = red.shape.map((dim, j) => `${'  '.repeat(j + 1)}${d.forOpen(`r${j}`, '0', String(dim.c))}`);
  const rOff = offsetOf(red.shape.map((_, j) => `r${j}`), red.strides[0]!, d.batch);
  const body = [
    ...gridLoop(d, 'i', affine(n, d.batch), wg),
    `  ${d.let('base', 'i32', offsetOf(coords, kept.strides[1]!, d.batch))}`,
    `  ${d.var('s', 'f32', d.f32(0))}`,
    ...loops,
    `${'  '.repeat(red.shape.length + 1)}s += ${d.load(x, `base + ${rOff}`)};`,
    ...red.shape.map((_, j) => `${'  '.repeat(red.shape.length - j)}}`),
    `  ${d.store(out, offsetOf(coords, kept.strides[0]!, d.batch), `s / ${d.f32(count)}`)}`,
    '}',
  ];
  return { name, operands: [x, out], workgroup: wg, grid: { items: n, per: wg }, shared: [], body, doc: `out = the mean of x over axes [${k.axes.join(', ')}] (f32 sum)` };
}

/** A convolution's patches: one thread per patch element, zero outside the image. */
export function im2colKernel(d: Dialect, p: KernelProgram, k: Im2colKernel, name: string): KernelSource {
  const wg = ELEMENTWISE_WORKGROUP;
  const x = operand(p, 'x', k.x), out = operand(p, 'out', k.out, true);
  const n = numelA(k.out);
  const [ni, oy, ox, c, ky, kx] = coordinates('i', k.out.shape, d.batch);
  const [, , H, W] = k.x.shape.map((s) => affine(s, d.batch));
  const [sy, sx] = k.stride, [pt, pl] = k.pad, [dy, dx] = k.dilation;
  const src = offsetOf(['nn', 'cc', 'iy', 'ix'], k.x.strides, d.batch);
  const body = [
    ...gridLoop(d, 'i', affine(n, d.batch), wg),
    `  ${d.let('nn', 'i32', ni!)}`,
    `  ${d.let('cc', 'i32', c!)}`,
    `  ${d.let('iy', 'i32', `${oy} * ${sy} - ${pt} + ${ky} * ${dy}`)}`,
    `  ${d.let('ix', 'i32', `${ox} * ${sx} - ${pl} + ${kx} * ${dx}`)}`,
    `  ${d.let('inside', 'i32', d.select(`iy >= 0 && iy < ${H} && ix >= 0 && ix < ${W}`, '1', '0'))}`,
    `  ${d.store(out, offsetOf(coordinates('i', k.out.shape, d.batch), k.out.strides, d.batch), d.select('inside == 1', d.load(x, d.select('inside == 1', src, '0')), d.f32(0)))}`,
    '}',
  ];
  return { name, operands: [x, out], workgroup: wg, grid: { items: n, per: wg }, shared: [], body, doc: `the ${k.kernel.join('x')} patches of a convolution (stride ${k.stride.join('x')}), zero outside the image` };
}
