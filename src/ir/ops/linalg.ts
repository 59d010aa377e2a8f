// Matrix products: linear layers (weights [out, in], as in PyTorch) and batched matmul.
import { defineOp } from '../op.js';
import { BATCH, broadcastShapes, fmtShape, fmtType, numel, shapeCheck, tensor, type Dim } from '../types.js';

export const linear = defineOp<Record<string, never>>({
  name: 'linear', kind: 'primitive', arity: [2, 3], fusion: 'out-elementwise-fusable',
  doc: 'y = x W^T + b over the last dim; W is [out, in] as in PyTorch, b is optional.',
  infer: ([x, w, b]) => {
    shapeCheck(w!.shape.length === 2 && !w!.shape.includes(BATCH), () => `linear weight must be [out, in]; got ${fmtType(w!)}`);
    const [n, k] = w!.shape as [number, number];
    shapeCheck(x!.shape.length >= 1 && x!.shape[x!.shape.length - 1] === k,
      () => `linear expects input [..., ${k}] for weight [${n}, ${k}]; got ${fmtShape(x!.shape)}`);
    if (b) shapeCheck(b.shape.length === 1 && b.shape[0] === n, () => `linear bias must be [${n}]; got ${fmtShape(b.shape)}`);
    return tensor([...x!.shape.slice(0, -1), n], x!.dtype);
  },
  macs: ([x, w]) => numel(x!) * (w![0] as number),
});

export const matmul = defineOp<Record<string, never>>({
  name: 'matmul', kind: 'primitive', arity: 2, fusion: 'out-elementwise-fusable',
  doc: 'Batched matrix product a[..., M, K] @ b[..., K, N]; leading dims broadcast.',
  infer: ([a, b]) => {
    shapeCheck(a!.shape.length >= 2 && b!.shape.length >= 2, () => `matmul needs operands of rank >= 2; got ${fmtShape(a!.shape)} and ${fmtShape(b!.shape)}`);
    const [m, k1] = a!.shape.slice(-2) as [Dim, Dim];
    const [k2, n] = b!.shape.slice(-2) as [Dim, Dim];
    shapeCheck(k1 === k2, () => `matmul inner dims differ: ${fmtShape(a!.shape)} @ ${fmtShape(b!.shape)} (${k1} vs ${k2})`);
    const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    return tensor([...batch, m, n], a!.dtype);
  },
  macs: ([a], _a, out) => numel(out) * numel(a!.slice(-1)),
});
