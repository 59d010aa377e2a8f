// The ONNX target's op table: how each IR op becomes ONNX nodes (opset 20). Every entry gets the
// IR node, its operands as ONNX values, and a context that creates typed nodes in the node's scope.
import type { NodeOf } from '../../ir/graph.js';
import type { OpName } from '../../ir/ops/index.js';
import { BATCH, type Dim } from '../../ir/types.js';
import { DT, type AttrValue, type ElemType, type OnnxDim, type OnnxGraph, type OnnxValue } from './graph.js';

export interface EmitCtx {
  readonly g: OnnxGraph;
  readonly scope: string;
  /** Element type of the computation (FLOAT, or FLOAT16 with --precision fp16). */
  readonly elem: ElemType;
  /** The IR node's output shape. */
  readonly out: readonly Dim[];
  readonly opset: number;
  /** A node of the compute type; its shape defaults to the IR node's output shape. */
  emit(opType: string, inputs: readonly OnnxValue[], attrs?: Record<string, AttrValue>, shape?: readonly OnnxDim[], elem?: ElemType): OnnxValue;
  /** A scalar constant of the compute type. */
  scalar(v: number): OnnxValue;
  /** int64 [rank] shape tensor for `shape`, with the runtime batch size where it has B. */
  shapeTensor(shape: readonly Dim[]): OnnxValue;
}

type Emit<K extends OpName> = (n: NodeOf<K>, a: readonly OnnxValue[], c: EmitCtx) => OnnxValue;
type Table = { readonly [K in OpName]: Emit<K> | 'source' | 'composite' };

/** Reshape target: B becomes 0 (copy the input's dim) when the input has B at the same index, else -1. */
function reshapeDims(from: readonly OnnxDim[], to: readonly Dim[]): number[] {
  return to.map((d, i) => (d === BATCH ? (from[i] === BATCH ? 0 : -1) : d));
}

const simple = <K extends OpName>(opType: string, attrs?: (n: NodeOf<K>) => Record<string, AttrValue>): Emit<K> =>
  (n, a, c) => c.emit(opType, a, attrs ? attrs(n) : {});

export const ONNX_OPS: Table = {
  input: 'source', param: 'source', const: 'source', attention: 'composite',
  linear: (_n, [x, w, b], c) => {
    const xs = x!.shape;
    const k = xs[xs.length - 1]!;
    const nOut = w!.shape[0]!;
    const gemm = (v: OnnxValue, shape: readonly OnnxDim[]) => c.emit('Gemm', b ? [v, w!, b] : [v, w!], { transB: 1 }, shape);
    if (xs.length === 2) return gemm(x!, c.out);
    // Gemm is 2-D: view [..., K] as [rows, K], then restore the leading dims (no data is moved).
    const lead = xs.slice(0, -1);
    const staticRows = lead.reduce<number>((p, d) => p * (typeof d === 'number' ? d : 1), 1);
    const rows: OnnxDim = lead.includes(BATCH) ? (staticRows === 1 ? BATCH : `batch*${staticRows}`) : staticRows;
    const flat = c.emit('Reshape', [x!, c.g.int64([typeof rows === 'number' ? rows : -1, k as number])], {}, [rows, k]);
    const y = gemm(flat, [rows, nOut]);
    return c.emit('Reshape', [y, c.g.int64(c.out.map((d) => (d === BATCH ? -1 : d)))]);
  },
  matmul: simple('MatMul'),
  conv2d: (n, a, c) => {
    const w = a[1]!.shape as number[];
    return c.emit('Conv', a, { kernel_shape: [w[2]!, w[3]!], strides: [...n.attrs.stride], pads: [...n.attrs.pad] });
  },
  add: simple('Add'), sub: simple('Sub'), mul: simple('Mul'), div: simple('Div'),
  // Gelu is an operator from opset 20; before that, the erf (or tanh) formula, as torch.onnx.export writes it.
  gelu: (_n, [x], c) => {
    if (c.opset >= 20) return c.emit('Gelu', [x!], { approximate: 'none' });
    const erf = c.emit('Erf', [c.emit('Div', [x!, c.scalar(Math.SQRT2)])]);
    return c.emit('Mul', [c.emit('Mul', [x!, c.emit('Add', [erf, c.scalar(1)])]), c.scalar(0.5)]);
  },
  gelu_tanh: (_n, [x], c) => {
    if (c.opset >= 20) return c.emit('Gelu', [x!], { approximate: 'tanh' });
    const cube = c.emit('Mul', [c.emit('Mul', [x!, x!]), x!]);
    const inner = c.emit('Mul', [c.emit('Add', [x!, c.emit('Mul', [cube, c.scalar(0.044715)])]), c.scalar(Math.sqrt(2 / Math.PI))]);
    return c.emit('Mul', [c.emit('Mul', [x!, c.scalar(0.5)]), c.emit('Add', [c.emit('Tanh', [inner]), c.scalar(1)])]);
  },
  relu: simple('Relu'), sigmoid: simple('Sigmoid'), tanh: simple('Tanh'), exp: simple('Exp'), log: simple('Log'), sqrt: simple('Sqrt'), neg: simple('Neg'),
  silu: (_n, [x], c) => c.emit('Mul', [x!, c.emit('Sigmoid', [x!])]),
  layernorm: (n, [x, w, b], c) => {
    const d = x!.shape[x!.shape.length - 1] as number;
    const scale = w ?? c.g.float('layernorm_unit_scale', [d], unitScale(d, c.elem), c.elem);
    // stash_type 1: mean and variance are computed in float32 even for float16 inputs.
    return c.emit('LayerNormalization', b ? [x!, scale, b] : [x!, scale], { axis: -1, epsilon: { float: n.attrs.eps }, stash_type: 1 });
  },
  softmax: (n, [x], c) => {
    if (c.elem === DT.FLOAT) return c.emit('Softmax', [x!], { axis: n.attrs.axis });
    // float16: softmax in float32 (max, exp-sum statistics), then back.
    const up = c.emit('Cast', [x!], { to: DT.FLOAT }, c.out, DT.FLOAT);
    const s = c.emit('Softmax', [up], { axis: n.attrs.axis }, c.out, DT.FLOAT);
    return c.emit('Cast', [s], { to: c.elem });
  },
  reshape: (n, [x], c) => c.emit('Reshape', [x!, c.g.int64(reshapeDims(x!.shape, n.attrs.shape))]),
  transpose: simple('Transpose', (n) => ({ perm: [...n.attrs.perm] })),
  concat: simple('Concat', (n) => ({ axis: n.attrs.axis })),
  slice: (n, [x], c) => c.emit('Slice', [x!, c.g.int64([n.attrs.start]), c.g.int64([n.attrs.end]), c.g.int64([n.attrs.axis])]),
  select: (n, [x], c) => c.emit('Gather', [x!, c.g.int64([n.attrs.index], true)], { axis: n.attrs.axis }),
  expand: (n, [x], c) => c.emit('Expand', [x!, c.shapeTensor(n.attrs.shape)]),
  // ReduceMean takes its axes as an input from opset 18, as an attribute before.
  mean: (n, [x], c) => (c.opset >= 18
    ? c.emit('ReduceMean', [x!, c.g.int64([...n.attrs.axes])], { keepdims: n.attrs.keepdim ? 1 : 0 })
    : c.emit('ReduceMean', [x!], { axes: [...n.attrs.axes], keepdims: n.attrs.keepdim ? 1 : 0 })),
};

function unitScale(d: number, elem: ElemType): Uint8Array {
  return elem === DT.FLOAT16 ? new Uint8Array(new Uint16Array(d).fill(0x3c00).buffer) : new Uint8Array(new Float32Array(d).fill(1).buffer);
}
