// Spatial ops on NCHW tensors: the general 2-D convolution (stride, dilation, groups, asymmetric
// padding) and max pooling with -inf padding; plus TensorFlow's input-size-dependent "same" padding,
// which the model language resolves to explicit pads when it builds the op (shapes are static).
import { defineOp, fmtNum } from '../op.js';
import { BATCH, fmtShape, numel, shapeCheck, tensor, type Dim, type TensorType } from '../types.js';

/** [h, w] pairs and [top, left, bottom, right] pads, as every spatial op spells them. */
export type Pair = readonly [number, number];
export type Pads = readonly [number, number, number, number];

export interface Conv2dAttrs {
  readonly stride: Pair;
  /** Padding [top, left, bottom, right] (zeros). */
  readonly pad: Pads;
  readonly dilation: Pair;
  /** Input and output channels split into this many independent groups (= channels: depthwise). */
  readonly groups: number;
}

export interface MaxPool2dAttrs {
  readonly kernel: Pair;
  readonly stride: Pair;
  /** Padding [top, left, bottom, right]; padded positions never win (they are -inf). */
  readonly pad: Pads;
}

/** Output size of one spatial axis: floor((in + pads - dilation*(k-1) - 1) / stride) + 1. */
export function outSize(size: number, k: number, stride: number, dilation: number, padBefore: number, padAfter: number): number {
  return Math.floor((size + padBefore + padAfter - dilation * (k - 1) - 1) / stride) + 1;
}

/**
 * TensorFlow's "same" padding of one axis: the output has ceil(in / stride) positions and the total
 * padding max((out - 1) * stride + dilation * (k - 1) + 1 - in, 0) is split with the extra pixel after
 * (bottom or right). Returns [before, after].
 */
export function samePad(size: number, k: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** "same" pads [top, left, bottom, right] for an input of [h, w]. */
export function samePads([h, w]: Pair, kernel: Pair, stride: Pair, dilation: Pair = [1, 1]): Pads {
  const [t, b] = samePad(h, kernel[0], stride[0], dilation[0]);
  const [l, r] = samePad(w, kernel[1], stride[1], dilation[1]);
  return [t, l, b, r];
}

const positive = (xs: readonly number[]) => xs.every((v) => Number.isInteger(v) && v >= 1);
const nonNegative = (xs: readonly number[]) => xs.every((v) => Number.isInteger(v) && v >= 0);

/** The spatial input [N, C, H, W] with static C, H, W. */
function spatialInput(op: string, x: TensorType): [Dim, number, number, number] {
  shapeCheck(x.shape.length === 4 && x.shape.slice(1).every((d) => d !== BATCH), () => `${op} expects input [N, C, H, W]; got ${fmtShape(x.shape)}`);
  return x.shape as [Dim, number, number, number];
}

const fmtPair = (p: Pair) => (p[0] === p[1] ? fmtNum(p[0]) : `[${p.join(',')}]`);
const fmtPads = (p: Pads) => (p.every((v) => v === p[0]) ? fmtNum(p[0]) : `[${p.join(',')}]`);

export const conv2d = defineOp<Conv2dAttrs>({
  name: 'conv2d', kind: 'primitive', arity: [2, 3], fusion: 'out-elementwise-fusable',
  doc: 'NCHW 2-D convolution, weight [O, C/groups, kh, kw], optional bias [O]; stride, dilation, groups, explicit [top, left, bottom, right] zero padding.',
  infer: ([x, w, b], a) => {
    const [n, c, h, wd] = spatialInput('conv2d', x!);
    shapeCheck(w!.shape.length === 4 && !w!.shape.includes(BATCH), () => `conv2d weight must be [O, C/groups, kh, kw]; got ${fmtShape(w!.shape)}`);
    const [o, ci, kh, kw] = w!.shape as [number, number, number, number];
    shapeCheck(positive(a.stride) && positive(a.dilation) && nonNegative(a.pad), () => `conv2d needs positive strides and dilations and non-negative pads; got stride [${a.stride.join(',')}], dilation [${a.dilation.join(',')}], pad [${a.pad.join(',')}]`);
    shapeCheck(Number.isInteger(a.groups) && a.groups >= 1, () => `conv2d groups must be a positive integer; got ${a.groups}`);
    shapeCheck(c % a.groups === 0 && o % a.groups === 0, () => `conv2d groups ${a.groups} must divide the ${c} input and ${o} output channels`);
    shapeCheck(ci * a.groups === c, () => `conv2d input has ${c} channels, so with groups ${a.groups} the weight needs ${c / a.groups} input channels per filter; it has ${ci}`);
    if (b) shapeCheck(b.shape.length === 1 && b.shape[0] === o, () => `conv2d bias must be [${o}]; got ${fmtShape(b.shape)}`);
    const [pt, pl, pb, pr] = a.pad;
    const oh = outSize(h, kh, a.stride[0], a.dilation[0], pt, pb);
    const ow = outSize(wd, kw, a.stride[1], a.dilation[1], pl, pr);
    shapeCheck(oh >= 1 && ow >= 1, () => `conv2d kernel ${kh}x${kw} (dilation [${a.dilation.join(',')}]) is larger than the padded input ${h}x${wd}`);
    return tensor([n, o, oh, ow], x!.dtype);
  },
  // Each output element reads C/groups x kh x kw inputs.
  macs: ([, w], _a, out) => numel(out) * (w![1] as number) * (w![2] as number) * (w![3] as number),
  formatAttrs: (a) => [
    `stride=${fmtPair(a.stride)}`, `pad=${fmtPads(a.pad)}`,
    ...(a.dilation[0] !== 1 || a.dilation[1] !== 1 ? [`dilation=${fmtPair(a.dilation)}`] : []),
    ...(a.groups !== 1 ? [`groups=${a.groups}`] : []),
  ].join(' '),
});

export const maxpool2d = defineOp<MaxPool2dAttrs>({
  name: 'maxpool2d', kind: 'primitive', arity: 1, fusion: 'out-elementwise-fusable',
  doc: 'NCHW 2-D max pooling over kernel windows with a stride; padded positions count as -inf.',
  infer: ([x], a) => {
    const [n, c, h, w] = spatialInput('maxpool2d', x!);
    shapeCheck(positive(a.kernel) && positive(a.stride) && nonNegative(a.pad), () => `maxpool2d needs positive kernel sizes and strides and non-negative pads; got kernel [${a.kernel.join(',')}], stride [${a.stride.join(',')}], pad [${a.pad.join(',')}]`);
    const [pt, pl, pb, pr] = a.pad;
    // Every window must see at least one real pixel, or its maximum would be -inf.
    shapeCheck(Math.max(pt, pb) < a.kernel[0] && Math.max(pl, pr) < a.kernel[1], () => `maxpool2d pads [${a.pad.join(',')}] must each be smaller than the kernel ${a.kernel.join('x')}`);
    const oh = outSize(h, a.kernel[0], a.stride[0], 1, pt, pb);
    const ow = outSize(w, a.kernel[1], a.stride[1], 1, pl, pr);
    shapeCheck(oh >= 1 && ow >= 1, () => `maxpool2d kernel ${a.kernel.join('x')} is larger than the padded input ${h}x${w}`);
    return tensor([n, c, oh, ow], x!.dtype);
  },
  formatAttrs: (a) => `kernel=${fmtPair(a.kernel)} stride=${fmtPair(a.stride)} pad=${fmtPads(a.pad)}`,
});
