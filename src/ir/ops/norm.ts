// Normalizations: over the last dim (LayerNorm), over channel groups (GroupNorm), along an axis (softmax).
import { defineOp, formatPlainAttrs } from '../op.js';
import { BATCH, fmtShape, normAxis, shapeCheck } from '../types.js';

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

export const groupnorm = defineOp<{ readonly groups: number; readonly eps: number }>({
  name: 'groupnorm', kind: 'primitive', arity: [1, 3], fusion: 'reduction',
  doc: 'GroupNorm of [N, C, ...]: channels split into groups, each normalized over its channels and all positions (biased variance), then a per-channel weight and bias.',
  infer: ([x, w, b], a) => {
    const c = x!.shape[1];
    shapeCheck(x!.shape.length >= 2 && typeof c === 'number' && !x!.shape.slice(1).includes(BATCH), () => `groupnorm expects input [N, C, ...] with static C; got ${fmtShape(x!.shape)}`);
    shapeCheck(Number.isInteger(a.groups) && a.groups >= 1 && c % a.groups === 0, () => `groupnorm groups ${a.groups} must be a positive divisor of the ${c} channels`);
    for (const [p, what] of [[w, 'weight'], [b, 'bias']] as const) {
      if (p) shapeCheck(p.shape.length === 1 && p.shape[0] === c, () => `groupnorm ${what} must be [${c}]; got ${fmtShape(p.shape)}`);
    }
    return x!;
  },
  formatAttrs: formatPlainAttrs,
});
