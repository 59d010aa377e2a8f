// The IR's attention composite, softmax(q k^T * scale) v, in ONNX. The target keeps the composite
// (nativeComposites) so that it can choose per opset:
// - opset 23 and later: the standard Attention operator. When q, k and v are the heads of a qkv
//   projection ([B, T, heads, d] read through a [0,2,1,3] transpose, the layout split_heads gives),
//   they go in as [B, T, heads*d] matrices and the output comes back as one, so no head transpose is
//   written at all; merge_heads' transpose then cancels against the output's and its reshape is free.
// - before: MatMul, Mul by the scale, Softmax, MatMul, the form onnxruntime turns into FusedMatMul
//   (scale and k's transpose folded) + Softmax + MatMul, as torch.onnx.export writes it.
import type { NodeOf } from '../../ir/graph.js';
import { DT, float, onnxDims, type OnnxDim, type Value } from './proto.js';
import { isReshaped, type Lowered, type OpCtx } from './ops.js';

/** The perm of split_heads' per-head views: [B, T, heads, d] -> [B, heads, T, d]. */
const HEAD_PERM = [0, 2, 1, 3];
const samePerm = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** What operand i is a pending head transpose of, with its [B, T, heads*d] dims; undefined if it is not one. */
function headSource(c: OpCtx, i: number): { readonly src: Value; readonly dims: readonly OnnxDim[] } | undefined {
  const p = c.pendingTranspose(i);
  if (!p || !samePerm(p.perm, HEAD_PERM)) return undefined;
  const [b, t, h, d] = isReshaped(p.from) ? p.from.dims : p.from.dims;
  if (typeof h !== 'number' || typeof d !== 'number') return undefined;
  return { src: isReshaped(p.from) ? p.from.reshapeOf : p.from, dims: [b!, t!, h * d] };
}

/**
 * q, k, v as [B, T, heads*d] matrices when each is a pending head transpose of [B, T, heads, d] (so
 * a reshape, which onnxruntime does without copying, gives the matrix); undefined (writing nothing) otherwise.
 */
export function tokenMajorQkv(c: OpCtx): readonly [Value, Value, Value] | undefined {
  const m = [0, 1, 2].map((i) => headSource(c, i));
  if (!m.every((s) => s !== undefined)) return undefined;
  return m.map((s) => c.reshape(s!.src, s!.dims)) as [Value, Value, Value];
}

/** The attention output from a token-major [B, T, heads*dv] result: the IR's [B, heads, T, dv], as a pending transpose. */
export function fromTokenMajor(n: NodeOf<'attention'>, out: Value): Lowered {
  const [b, h, t, dv] = n.type.shape;
  return { transposeOf: { reshapeOf: out, dims: onnxDims([b!, t!, h!, dv!]) }, perm: HEAD_PERM };
}

/** Softmax over the last axis; float16 runs it in float32 between two Casts. */
export function softmaxLast(c: OpCtx, x: Value): Value {
  const axis = x.dims.length - 1;
  if (c.elem === DT.FLOAT) return c.node('Softmax', [x], { axis }, x.dims);
  const up = c.node('Cast', [x], { to: DT.FLOAT }, x.dims, DT.FLOAT);
  return c.node('Cast', [c.node('Softmax', [up], { axis }, x.dims, DT.FLOAT)], { to: c.elem }, x.dims);
}

/** MatMul(q, k^T), scaled, Softmax, MatMul(., v); k's transpose folds into a pending one of its own. */
function decomposed(n: NodeOf<'attention'>, c: OpCtx): Lowered {
  const r = n.type.shape.length;
  const swap = [...Array(r).keys()];
  [swap[r - 2], swap[r - 1]] = [swap[r - 1]!, swap[r - 2]!];
  const q = c.full(0);
  const kDims = c.argDims(1);
  const kTDims = swap.map((a) => kDims[a]!);
  const p = c.pendingTranspose(1);
  const [from, perm] = p ? [c.value(p.from), swap.map((a) => p.perm[a]!)] : [c.full(1), swap];
  const kT = perm.every((a, i) => a === i) ? from : c.node('Transpose', [from], { perm }, kTDims);
  const sDims = [...q.dims.slice(0, -1), kTDims[r - 1]!];
  let s = c.node('MatMul', [q, kT], {}, sDims);
  if (n.attrs.scale !== 1) s = c.node('Mul', [s, c.scalar(n.attrs.scale)], {}, sDims);
  return { value: c.node('MatMul', [softmaxLast(c, s), c.full(2)], {}), view: 'full' };
}

/** The standard Attention operator (opset 23). */
function attentionOp(n: NodeOf<'attention'>, c: OpCtx): Lowered {
  const attrs = { scale: float(n.attrs.scale), ...(c.elem === DT.FLOAT ? {} : { softmax_precision: DT.FLOAT }) };
  const qkv = tokenMajorQkv(c);
  if (qkv) {
    const heads = n.type.shape[1] as number;
    const [b, t] = qkv[0].dims;
    const out = c.node('Attention', qkv, { ...attrs, kv_num_heads: heads, q_num_heads: heads }, [b!, t!, heads * (n.type.shape[3] as number)]);
    return fromTokenMajor(n, out);
  }
  return { value: c.node('Attention', [c.full(0), c.full(1), c.full(2)], attrs), view: 'full' };
}

export function lowerAttention(n: NodeOf<'attention'>, c: OpCtx): Lowered {
  return c.opset >= 23 && n.type.shape.length === 4 ? attentionOp(n, c) : decomposed(n, c);
}
