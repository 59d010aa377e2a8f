// Normalizations over the last dim (LayerNorm) and along an axis (softmax).
import { defineOp, formatPlainAttrs } from '../op.js';
import { fmtShape, normAxis, shapeCheck } from '../types.js';

export const layernorm = defineOp<{ readonly eps: number }>({
  name: 'layernorm', kind: 'primitive', arity: [1, 3], fusion: 'reduction',
  doc: 'LayerNorm over the last dim: (x - mean) / sqrt(var + eps) * weight + bias (biased variance).',
  infer: ([x, w, b]) => {
    const d = x!.shape[x!.shape.length - 1];
    for (const [p, what] of [[w, 'weight'], [b, 'bias']] as const) {
      if (p) shapeCheck(p.shape.length === 1 && p.shape[0] === d, () => `layernorm ${what} must be [${d}]; got ${fmtShape(p.shape)}`);
    }
    return x!;
  },
  formatAttrs: formatPlainAttrs,
});

export const softmax = defineOp<{ readonly axis: number }>({
  name: 'softmax', kind: 'primitive', arity: 1, fusion: 'reduction',
  doc: 'Softmax along a (non-negative, normalized) axis.',
  infer: ([x], a) => {
    normAxis(a.axis, x!.shape.length);
    shapeCheck(a.axis >= 0, () => `softmax axis must be normalized; got ${a.axis}`);
    return x!;
  },
  formatAttrs: formatPlainAttrs,
});
