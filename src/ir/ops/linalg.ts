// Matrix products: linear layers (weights [out, in], as in PyTorch), batched matmul, 2-D convolution.
import { defineOp, formatPlainAttrs } from '../op.js';
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

export interface Conv2dAttrs {
  readonly stride: readonly [number, number];
  /** Padding [top, left, bottom, right]. */
  readonly pad: readonly [number, number, number, number];
}

export const conv2d = defineOp<Conv2dAttrs>({
  name: 'conv2d', kind: 'primitive', arity: [2, 3], fusion: 'out-elementwise-fusable',
  doc: 'NCHW 2-D convolution with weight [O, C, kh, kw], optional bias [O], stride and explicit padding.',
  infer: ([x, w, b], a) => {
    shapeCheck(x!.shape.length === 4, () => `conv2d expects input [N, C, H, W]; got ${fmtShape(x!.shape)}`);
    shapeCheck(w!.shape.length === 4 && !w!.shape.includes(BATCH), () => `conv2d weight must be [O, C, kh, kw]; got ${fmtShape(w!.shape)}`);
    const [n, c, h, wd] = x!.shape as [Dim, number, number, number];
    const [o, ci, kh, kw] = w!.shape as [number, number, number, number];
    shapeCheck(c === ci, () => `conv2d input has ${c} channels but the weight expects ${ci}`);
    if (b) shapeCheck(b.shape.length === 1 && b.shape[0] === o, () => `conv2d bias must be [${o}]; got ${fmtShape(b.shape)}`);
    const [sh, sw] = a.stride;
    const [pt, pl, pb, pr] = a.pad;
    const oh = Math.floor((h + pt + pb - kh) / sh) + 1;
    const ow = Math.floor((wd + pl + pr - kw) / sw) + 1;
    shapeCheck(oh >= 1 && ow >= 1, () => `conv2d kernel ${kh}x${kw} is larger than the padded input ${h}x${wd}`);
    return tensor([n, o, oh, ow], x!.dtype);
  },
  macs: ([, w], _a, out) => numel(out) * (w![1] as number) * (w![2] as number) * (w![3] as number),
  formatAttrs: formatPlainAttrs,
});
