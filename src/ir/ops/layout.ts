// Data movement: reshape, transpose, concat, token slicing, selecting one index, broadcasting.
import { defineOp, formatPlainAttrs } from '../op.js';
import { broadcastTo, inversePerm, permute, reshapeTo, selectAxis, shapeOf, sliceAxis } from '../strided.js';
import { BATCH, broadcastShapes, fmtShape, normAxis, sameShape, shapeCheck, staticNumel, tensor, type Dim, type Shape } from '../types.js';

const countBatch = (s: Shape) => s.filter((d) => d === BATCH).length;

export const reshape = defineOp<{ readonly shape: Shape }>({
  name: 'reshape', kind: 'primitive', arity: 1, fusion: 'injective',
  view: (x, a) => reshapeTo(x, shapeOf(a.shape)),
  inverseView: (out, _a, inShape) => reshapeTo(out, shapeOf(inShape)),
  doc: 'Same elements, new shape (row-major); the batch dim B stays a dim of its own.',
  infer: ([x], a) => {
    shapeCheck(countBatch(a.shape) === countBatch(x!.shape), () => `reshape ${fmtShape(x!.shape)} -> ${fmtShape(a.shape)} must keep the batch dim B`);
    shapeCheck(a.shape.every((d) => d === BATCH || (Number.isInteger(d) && d >= 0)), () => `reshape target ${fmtShape(a.shape)} has an invalid dim`);
    shapeCheck(staticNumel(a.shape) === staticNumel(x!.shape), () => `cannot reshape ${fmtShape(x!.shape)} (${staticNumel(x!.shape)} elements per batch item) to ${fmtShape(a.shape)} (${staticNumel(a.shape)})`);
    return tensor(a.shape, x!.dtype);
  },
  formatAttrs: (a) => `shape=${fmtShape(a.shape)}`,
});

export const transpose = defineOp<{ readonly perm: readonly number[] }>({
  name: 'transpose', kind: 'primitive', arity: 1, fusion: 'injective',
  view: (x, a) => permute(x, a.perm),
  inverseView: (out, a) => permute(out, inversePerm(a.perm)),
  doc: 'Permute dims: out.shape[i] = x.shape[perm[i]].',
  infer: ([x], a) => {
    const r = x!.shape.length;
    shapeCheck(a.perm.length === r && [...a.perm].sort((p, q) => p - q).every((p, i) => p === i),
      () => `transpose perm [${a.perm.join(',')}] is not a permutation of ${r} dims`);
    return tensor(a.perm.map((p) => x!.shape[p]!), x!.dtype);
  },
  formatAttrs: formatPlainAttrs,
});

export const concat = defineOp<{ readonly axis: number }>({
  name: 'concat', kind: 'primitive', arity: [1, 64], fusion: 'injective',
  doc: 'Concatenate along an axis; other dims must agree.',
  infer: (xs, a) => {
    const first = xs[0]!;
    const axis = normAxis(a.axis, first.shape.length);
    let total = 0;
    for (const x of xs) {
      shapeCheck(x.shape.length === first.shape.length && x.shape.every((d, i) => i === axis || d === first.shape[i]),
        () => `concat along axis ${axis}: ${fmtShape(x.shape)} does not match ${fmtShape(first.shape)}`);
      const d = x.shape[axis]!;
      shapeCheck(d !== BATCH, () => 'concat along the batch dim is not supported');
      total += d;
    }
    return tensor(first.shape.map((d, i) => (i === axis ? total : d)), first.dtype);
  },
  formatAttrs: formatPlainAttrs,
});

export const slice = defineOp<{ readonly axis: number; readonly start: number; readonly end: number }>({
  name: 'slice', kind: 'primitive', arity: 1, fusion: 'injective',
  view: (x, a) => sliceAxis(x, a.axis < 0 ? a.axis + x.shape.length : a.axis, a.start, a.end),
  doc: 'x[..., start:end, ...] along one static axis (token slicing).',
  infer: ([x], a) => {
    const axis = normAxis(a.axis, x!.shape.length);
    const d = x!.shape[axis]!;
    shapeCheck(d !== BATCH, () => 'slicing the batch dim is not supported');
    shapeCheck(0 <= a.start && a.start <= d && 0 <= a.end && a.end <= d, () => `slice ${a.start}:${a.end} is out of range for a dim of size ${d}`);
    shapeCheck(a.start < a.end, () => `slice ${a.start}:${a.end} is empty: its start is not before its end`);
    return tensor(x!.shape.map((s, i) => (i === axis ? a.end - a.start : s)), x!.dtype);
  },
  formatAttrs: formatPlainAttrs,
});

export const select = defineOp<{ readonly axis: number; readonly index: number }>({
  name: 'select', kind: 'primitive', arity: 1, fusion: 'injective',
  view: (x, a) => selectAxis(x, a.axis < 0 ? a.axis + x.shape.length : a.axis, a.index),
  doc: 'x[..., index, ...]: one index along a static axis, which is removed (e.g. the class token).',
  infer: ([x], a) => {
    const axis = normAxis(a.axis, x!.shape.length);
    const d = x!.shape[axis]!;
    shapeCheck(d !== BATCH, () => 'selecting along the batch dim is not supported');
    shapeCheck(Number.isInteger(a.index) && 0 <= a.index && a.index < d, () => `index ${a.index} is out of range for a dim of size ${d}`);
    return tensor(x!.shape.filter((_, i) => i !== axis), x!.dtype);
  },
  formatAttrs: formatPlainAttrs,
});

export const expand = defineOp<{ readonly shape: Shape }>({
  name: 'expand', kind: 'primitive', arity: 1, fusion: 'injective',
  view: (x, a) => broadcastTo(x, shapeOf(a.shape)),
  doc: 'Broadcast to a shape (numpy rules), e.g. the class token [1,1,D] to [B,1,D].',
  infer: ([x], a) => {
    let out: Dim[] = [];
    try { out = broadcastShapes(x!.shape, a.shape); } catch { /* reported below */ }
    shapeCheck(sameShape(out, a.shape), () => `cannot expand ${fmtShape(x!.shape)} to ${fmtShape(a.shape)}`);
    return tensor(a.shape, x!.dtype);
  },
  formatAttrs: (a) => `shape=${fmtShape(a.shape)}`,
});

export const mean = defineOp<{ readonly axes: readonly number[]; readonly keepdim: boolean }>({
  name: 'mean', kind: 'primitive', arity: 1, fusion: 'reduction',
  doc: 'Mean over static axes (normalized, ascending), keeping them as size 1 or dropping them.',
  infer: ([x], a) => {
    shapeCheck(a.axes.length > 0 && a.axes.every((ax, i) => ax >= 0 && ax < x!.shape.length && (i === 0 || ax > a.axes[i - 1]!)),
      () => `mean axes [${a.axes.join(',')}] must be distinct, ascending axes of a rank-${x!.shape.length} tensor`);
    shapeCheck(a.axes.every((ax) => x!.shape[ax] !== BATCH), () => 'a mean over the batch dim is not supported');
    const shape = a.keepdim ? x!.shape.map((d, i) => (a.axes.includes(i) ? 1 : d)) : x!.shape.filter((_, i) => !a.axes.includes(i));
    return tensor(shape, x!.dtype);
  },
  formatAttrs: formatPlainAttrs,
});
