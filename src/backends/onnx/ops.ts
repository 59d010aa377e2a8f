// The ONNX target's op table: how each IR op becomes ONNX nodes. The table is typed over the whole
// op catalog, so a new IR op does not compile until it has an entry here.
//
// Token matrices: a Linear is `Gemm(x, W, b, transB=1)`, which keeps the weight in its state-dict
// layout [out, in] and adds the bias, but Gemm is 2-D. So an activation [batch, T, D] may be held
// as the matrix [batch*T, D] ("rows") instead of its IR shape ("full"): Gemm, LayerNormalization
// (axis -1) and elementwise ops compute on either, and a Reshape is written only where a value moves
// between the two (views.ts). An encoder's residual stream becomes a matrix once, at the first
// block, and stays one to the final norm; only the head split and merge around attention reshape.
import type { NodeOf } from '../../ir/graph.js';
import type { OpName } from '../../ir/ops/index.js';
import type { Shape } from '../../ir/types.js';
import { DT, float, type Attrs, type ElemType, type OnnxDim, type Value } from './proto.js';
import { lowerAttention } from './attention.js';

/** How a value is held: in its IR shape, or as a [rows, last dim] matrix. */
export type View = 'full' | 'rows';

/** A value seen with other dims (a Reshape not written yet: only a user that needs exactly these dims writes it). */
export interface Reshaped { readonly reshapeOf: Value; readonly dims: readonly OnnxDim[] }
/** What a pending transpose reads: a written value, or one through a pending reshape. */
export type Source = Value | Reshaped;
export const isReshaped = (s: Source): s is Reshaped => 'reshapeOf' in s;

/** What lowering one IR node gives: a value in a view, or a reshape or transpose left for its users to write. */
export type Lowered =
  | { readonly value: Value; readonly view: View }
  | { readonly reshapeOf: Value }
  | { readonly transposeOf: Source; readonly perm: readonly number[] };

export interface OpCtx {
  readonly elem: ElemType;
  readonly opset: number;
  /** Operand i in its IR shape. */
  full(i: number): Value;
  /** Operand i as a [rows, last] matrix (the same value when its rank is at most 2). */
  rows(i: number): Value;
  /** Operand i in whichever form it is already written (a reshape needs no particular view). */
  held(i: number): Value;
  /** Operand i's transpose when it has not been written yet (its users may fold it into theirs). */
  pendingTranspose(i: number): { readonly from: Source; readonly perm: readonly number[] } | undefined;
  /** A source as a written value (writes its pending Reshape, once). */
  value(s: Source): Value;
  /** Operand i's IR shape as ONNX dims. */
  argDims(i: number): readonly OnnxDim[];
  /** `x` with other dims: a Reshape (with 0 or -1 for the batch dim), or `x` itself when the dims are its own. */
  reshape(x: Value, dims: readonly OnnxDim[]): Value;
  /** Any earlier IR value (by id) in a view: for lowerings that read past their own operands. */
  get(id: number, view: View): Value;
  /** A node of onnxruntime's operator set (com.microsoft) in the IR node's scope. */
  contrib(opType: string, inputs: readonly Value[], attrs: Attrs, dims: readonly OnnxDim[]): Value;
  /**
   * The view a row-wise op (the same computation on every row of the last axis) should run in:
   * rows when an operand already is a matrix, or when the result is headed for a Gemm.
   */
  rowwise(): View;
  /** The node's output dims in a view. */
  dims(view?: View): readonly OnnxDim[];
  /** A node in the IR node's scope; its output has the IR output's full dims unless given. */
  node(opType: string, inputs: readonly Value[], attrs?: Attrs, dims?: readonly OnnxDim[], elem?: ElemType): Value;
  /** A scalar constant of the compute type. */
  scalar(v: number): Value;
  /** A 1-D int64 constant, or a scalar index. */
  ints(values: readonly number[], scalar?: boolean): Value;
  /** A float tensor constant of the compute type. */
  tensor(label: string, dims: readonly number[], data: Float32Array): Value;
  /** An int64 shape tensor for `shape`, reading the batch size from the input where it has one. */
  shapeOf(shape: Shape): Value;
}

type Lower<K extends OpName> = (n: NodeOf<K>, c: OpCtx) => Lowered;

/** Ops that compute row by row over the last axis (the entries below that use rowwise or formula). */
export const ROW_OPS: ReadonlySet<OpName> = new Set<OpName>([
  'add', 'sub', 'mul', 'div', 'relu', 'sigmoid', 'tanh', 'exp', 'log', 'sqrt', 'neg', 'silu', 'gelu', 'gelu_tanh', 'layernorm',
]);
type Table = { readonly [K in OpName]: Lower<K> | 'source' | 'composite' };

const at = (view: View, value: Value): Lowered => ({ value, view });
const full = (value: Value): Lowered => at('full', value);

/** A row-wise op over all operands, computed in whichever view they are held. */
const rowwise = <K extends OpName>(opType: string, attrs: (n: NodeOf<K>) => Attrs = () => ({})): Lower<K> => (n, c) => {
  const view = c.rowwise();
  const args = n.args.map((_, i) => (view === 'rows' ? c.rows(i) : c.full(i)));
  return at(view, c.node(opType, args, attrs(n), c.dims(view)));
};

/** An op on operands in their IR shapes. */
const plain = <K extends OpName>(opType: string, attrs: (n: NodeOf<K>) => Attrs = () => ({})): Lower<K> => (n, c) =>
  full(c.node(opType, n.args.map((_, i) => c.full(i)), attrs(n)));

/** An elementwise formula of one operand, computed in the operand's view. */
const formula = <K extends OpName>(f: (x: Value, c: OpCtx, dims: readonly OnnxDim[]) => Value): Lower<K> => (_n, c) => {
  const view = c.rowwise();
  return at(view, f(view === 'rows' ? c.rows(0) : c.full(0), c, c.dims(view)));
};

export const ONNX_OPS: Table = {
  input: 'source', param: 'source', const: 'source',
  // The Attention operator from opset 23, else MatMul, Mul, Softmax, MatMul (attention.ts).
  attention: lowerAttention,
  // A weight transform: folded into its parameter before emission, else decomposed.
  standardize: 'composite',

  linear: (n, c) => {
    const inputs = n.args.map((_, i) => (i === 0 ? c.rows(0) : c.full(i)));
    return at('rows', c.node('Gemm', inputs, { transB: 1 }, c.dims('rows')));
  },
  matmul: plain('MatMul'),
  // ONNX pads are [x1_begin, x2_begin, x1_end, x2_end]: the IR's [top, left, bottom, right].
  conv2d: (n, c) => {
    const w = c.full(1).dims as number[];
    const a = n.attrs;
    const dilated = a.dilation[0] !== 1 || a.dilation[1] !== 1;
    return full(c.node('Conv', n.args.map((_, i) => c.full(i)), {
      kernel_shape: [w[2]!, w[3]!], strides: [...a.stride], pads: [...a.pad],
      ...(dilated ? { dilations: [...a.dilation] } : {}), ...(a.groups !== 1 ? { group: a.groups } : {}),
    }));
  },
  // MaxPool never lets a padded position win, which is the IR's -inf padding.
  maxpool2d: (n, c) => full(c.node('MaxPool', [c.full(0)], { kernel_shape: [...n.attrs.kernel], strides: [...n.attrs.stride], pads: [...n.attrs.pad] })),

  add: rowwise('Add'), sub: rowwise('Sub'), mul: rowwise('Mul'), div: rowwise('Div'),
  relu: rowwise('Relu'), sigmoid: rowwise('Sigmoid'), tanh: rowwise('Tanh'), exp: rowwise('Exp'),
  log: rowwise('Log'), sqrt: rowwise('Sqrt'), neg: rowwise('Neg'),
  silu: formula((x, c, d) => c.node('Mul', [x, c.node('Sigmoid', [x], {}, d)], {}, d)),
  // Exact GELU. Gelu is an operator from opset 20; before that, the erf formula in the form
  // torch.onnx.export writes, which onnxruntime fuses back into one Gelu kernel.
  gelu: formula((x, c, d) => {
    if (c.opset >= 20) return c.node('Gelu', [x], { approximate: 'none' }, d);
    const erf = c.node('Erf', [c.node('Div', [x, c.scalar(Math.SQRT2)], {}, d)], {}, d);
    return c.node('Mul', [c.node('Mul', [x, c.node('Add', [erf, c.scalar(1)], {}, d)], {}, d), c.scalar(0.5)], {}, d);
  }),
  gelu_tanh: formula((x, c, d) => {
    if (c.opset >= 20) return c.node('Gelu', [x], { approximate: 'tanh' }, d);
    const cube = c.node('Mul', [c.node('Mul', [x, x], {}, d), x], {}, d);
    const inner = c.node('Mul', [c.node('Add', [x, c.node('Mul', [cube, c.scalar(0.044715)], {}, d)], {}, d), c.scalar(Math.sqrt(2 / Math.PI))], {}, d);
    const half = c.node('Mul', [x, c.scalar(0.5)], {}, d);
    return c.node('Mul', [half, c.node('Add', [c.node('Tanh', [inner], {}, d), c.scalar(1)], {}, d)], {}, d);
  }),

  // stash_type=1: the mean and variance are float32 also for float16 inputs.
  layernorm: (n, c) => {
    const view = c.rowwise();
    const x = view === 'rows' ? c.rows(0) : c.full(0);
    const d = x.dims[x.dims.length - 1] as number;
    const scale = n.args.length > 1 ? c.full(1) : c.tensor('layernorm_ones', [d], new Float32Array(d).fill(1));
    const inputs = n.args.length > 2 ? [x, scale, c.full(2)] : [x, scale];
    return at(view, c.node('LayerNormalization', inputs, { axis: -1, epsilon: float(n.attrs.eps), stash_type: 1 }, c.dims(view)));
  },
  // GroupNorm as torch.onnx exports it for every opset (GroupNormalization's scale changed meaning
  // in opset 21): [N, C, ...] -> [N, groups, rest], InstanceNormalization over `rest` with unit scale,
  // back to [N, C, ...], then the per-channel weight and bias. The statistics run in float32 (Casts
  // around them for fp16), as LayerNorm's and softmax's do.
  groupnorm: (n, c) => groupNorm(n, c),
  // float16: the softmax (its max and sum of exponentials) runs in float32 between two Casts.
  softmax: (n, c) => {
    if (c.elem === DT.FLOAT) return full(c.node('Softmax', [c.full(0)], { axis: n.attrs.axis }));
    const up = c.node('Cast', [c.full(0)], { to: DT.FLOAT }, undefined, DT.FLOAT);
    const s = c.node('Softmax', [up], { axis: n.attrs.axis }, undefined, DT.FLOAT);
    return full(c.node('Cast', [s], { to: c.elem }));
  },

  // Written lazily, straight from the operand to whichever view its users need.
  reshape: (_n, c) => ({ reshapeOf: c.held(0) }),
  // Written lazily too: transposes of transposes compose, and a select of a transposed value gathers
  // from the source first. So attention's q/k/v split, a 5-D [2,0,3,1,4] transpose and three selects
  // in the IR, becomes one Gather and one 4-D Transpose each (onnxruntime moves a single axis much
  // faster than it permutes five), and k's transpose for q k^T merges into its own.
  transpose: (n, c) => {
    const p = c.pendingTranspose(0);
    return p ? { transposeOf: p.from, perm: n.attrs.perm.map((a) => p.perm[a]!) } : { transposeOf: c.full(0), perm: [...n.attrs.perm] };
  },
  select: (n, c) => {
    // Along an axis of size 1 (the class token of a narrowed value) a select is a reshape.
    const axis0 = n.attrs.axis < 0 ? n.attrs.axis + n.type.shape.length + 1 : n.attrs.axis;
    if (c.argDims(0)[axis0] === 1) return { reshapeOf: c.held(0) };
    const index = c.ints([n.attrs.index], true);
    const p = c.pendingTranspose(0);
    if (!p) return full(c.node('Gather', [c.full(0), index], { axis: n.attrs.axis }));
    const axis = p.perm[n.attrs.axis]!;
    const from = c.value(p.from);
    const gathered = c.node('Gather', [from, index], { axis }, from.dims.filter((_, i) => i !== axis));
    return { transposeOf: gathered, perm: p.perm.filter((_, i) => i !== n.attrs.axis).map((a) => (a > axis ? a - 1 : a)) };
  },
  concat: plain('Concat', (n) => ({ axis: n.attrs.axis })),
  // A slice of a pending transpose slices the source, and the transpose stays pending.
  slice: (n, c) => {
    const bounds = (axis: number) => [c.ints([n.attrs.start]), c.ints([n.attrs.end]), c.ints([axis])];
    const p = c.pendingTranspose(0);
    if (!p) return full(c.node('Slice', [c.full(0), ...bounds(n.attrs.axis)]));
    const from = c.value(p.from);
    const axis = p.perm[n.attrs.axis < 0 ? n.attrs.axis + p.perm.length : n.attrs.axis]!;
    const sliced = c.node('Slice', [from, ...bounds(axis)], {}, from.dims.map((d, i) => (i === axis ? n.attrs.end - n.attrs.start : d)));
    return { transposeOf: sliced, perm: p.perm };
  },
  expand: (n, c) => full(c.node('Expand', [c.full(0), c.shapeOf(n.attrs.shape)])),
  // ReduceMean takes its axes as an input from opset 18, as an attribute before.
  mean: (n, c) => {
    const keepdims = n.attrs.keepdim ? 1 : 0;
    if (c.opset >= 18) return full(c.node('ReduceMean', [c.full(0), c.ints([...n.attrs.axes])], { keepdims }));
    return full(c.node('ReduceMean', [c.full(0)], { axes: [...n.attrs.axes], keepdims }));
  },
};

function groupNorm(n: NodeOf<'groupnorm'>, c: OpCtx): Lowered {
  const shape = n.type.shape;
  const [channels, groups] = [shape[1] as number, n.attrs.groups];
  const rest = shape.slice(1).reduce<number>((p, d) => p * (d as number), 1) / groups;
  const dims = c.dims();
  const f32 = (v: Value, d: readonly OnnxDim[]) => (c.elem === DT.FLOAT ? v : c.node('Cast', [v], { to: DT.FLOAT }, d, DT.FLOAT));
  const grouped = f32(c.node('Reshape', [c.full(0), c.ints([0, groups, rest])], {}, [dims[0]!, groups, rest]), [dims[0]!, groups, rest]);
  const unit = (label: string, v: number) => f32(c.tensor(label, [groups], new Float32Array(groups).fill(v)), [groups]);
  let y = c.node('InstanceNormalization', [grouped, unit('groupnorm_ones', 1), unit('groupnorm_zeros', 0)], { epsilon: float(n.attrs.eps) }, [dims[0]!, groups, rest], DT.FLOAT);
  if (c.elem !== DT.FLOAT) y = c.node('Cast', [y], { to: c.elem }, [dims[0]!, groups, rest]);
  y = c.node('Reshape', [y, c.ints([0, ...(shape.slice(1) as number[])])], {});
  // The per-channel affine as [C, 1, ...] so that it broadcasts over the positions.
  const perChannel = (i: number) => c.node('Reshape', [c.full(i), c.ints([channels, ...shape.slice(2).map(() => 1)])], {}, [channels, ...shape.slice(2).map(() => 1)]);
  if (n.args.length > 1) y = c.node('Mul', [y, perChannel(1)], {});
  if (n.args.length > 2) y = c.node('Add', [y, perChannel(2)], {});
  return full(y);
}
