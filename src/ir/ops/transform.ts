// Weight transforms: computations on a parameter alone, which the `fold-weight-transforms` pass
// moves out of the graph into the parameter (its `transforms` attribute), so that the loader applies
// them once to the stored weights and every kernel sees a plain weight. The manifest lists them and
// src/runtime/transforms.js computes them (the same code in vitc and in generated modules).
// Applied to anything but a parameter, the op stays in the graph and lowers to its decomposition.
import { defineOp, fmtNum, formatPlainAttrs, type OpDecl } from '../op.js';
import { BATCH, fmtShape, shapeCheck } from '../types.js';

/** One step applied to a stored weight at load time (a closed union: the runtime switches over `op`). */
export type WeightTransform = { readonly op: 'standardize'; readonly eps: number };

export function fmtTransform(t: WeightTransform): string {
  switch (t.op) {
    case 'standardize': return `standardize(eps=${fmtNum(t.eps)})`;
  }
}

export const standardize: OpDecl<{ readonly eps: number }> = defineOp<{ readonly eps: number }>({
  name: 'standardize', kind: 'composite', arity: 1, fusion: 'opaque',
  doc: 'Weight standardization (StdConv): each filter w[o] becomes (w[o] - mean) / sqrt(var + eps) over all its other dims (biased variance).',
  infer: ([w], a) => {
    shapeCheck(w!.shape.length >= 2 && !w!.shape.includes(BATCH), () => `standardize expects a weight [O, ...] without the batch dim; got ${fmtShape(w!.shape)}`);
    shapeCheck(a.eps >= 0, () => `standardize eps must be >= 0; got ${a.eps}`);
    return w!;
  },
  formatAttrs: formatPlainAttrs,
  decompose: (b, [w], a) => {
    const axes = [...Array(w!.type.shape.length).keys()].slice(1);
    const centered = b.op('sub', [w!, b.op('mean', [w!], { axes, keepdim: true })], {});
    const variance = b.op('mean', [b.op('mul', [centered, centered], {})], { axes, keepdim: true });
    return b.op('div', [centered, b.op('sqrt', [b.op('add', [variance, b.scalar(a.eps)], {})], {})], {});
  },
});
