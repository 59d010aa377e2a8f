// --onnx-ops ort: onnxruntime's own operators (domain com.microsoft) where its CPU provider runs them
// faster than the standard form, at the cost of running on onnxruntime only (the model's metadata
// says so). Measured with onnxruntime-node 1.30 (docs/targets/onnx.md), one operator qualifies:
// - com.microsoft.Attention: the qkv projection and the attention of a block in one kernel, reading
//   the block's input and the qkv weight as [D, 3D] (a Transpose of the state-dict initializer,
//   which onnxruntime folds at load). A block whose queries were narrowed (narrow-rows) keeps the
//   standard form.
// SkipLayerNormalization (2.6-3.7x slower than Add + LayerNormalization), BiasGelu (no faster than
// Gemm with its bias + Gelu) and MultiHeadAttention (slower than the fused Attention) do not.
import { nodeIndex, usersOf, type Graph, type Node, type NodeOf } from '../../ir/graph.js';
import { float, onnxDims } from './proto.js';
import { fromTokenMajor } from './attention.js';
import type { Lowered, OpCtx } from './ops.js';

export const MS_DOMAIN = 'com.microsoft';

export interface OrtLowering {
  /** Nodes that a later node computes (the qkv projection and head split of a fused attention): lowering skips them. */
  readonly absorbed: ReadonlySet<number>;
  /** The contrib-op lowering of `n`, or undefined for the standard one. */
  lower(n: Node, c: OpCtx): Lowered | undefined;
}

/** An attention whose q, k, v are the heads of one qkv Linear: split_heads' reshape, transpose and three selects. */
interface QkvAttention {
  readonly linear: NodeOf<'linear'>;
  readonly parts: readonly number[];
}

/** split_heads' layout: [B, T, 3, heads, d] -> [3, B, heads, T, d]. */
const SPLIT_PERM = [2, 0, 3, 1, 4];

export function ortLowering(ir: Graph): OrtLowering {
  const byId = nodeIndex(ir);
  const users = usersOf(ir);
  const outputs = new Set(ir.outputs.map((o) => o.id));
  /** The node `id` if it is used by `user` alone (and is no graph output). */
  const onlyFor = (id: number, user: number | readonly number[]): Node | undefined => {
    const u = users.get(id)!;
    const want = typeof user === 'number' ? [user] : user;
    return !outputs.has(id) && u.length === want.length && u.every((x) => want.includes(x)) ? byId.get(id) : undefined;
  };

  const fused = new Map<number, QkvAttention>();
  for (const n of ir.nodes) {
    if (n.op !== 'attention' || n.type.shape.length !== 4) continue;
    const sel = n.args.map((a) => onlyFor(a, n.id));
    if (!sel.every((s, i) => s?.op === 'select' && s.attrs.axis === 0 && s.attrs.index === i && s.args[0] === sel[0]!.args[0])) continue;
    const t = onlyFor(sel[0]!.args[0]!, sel.map((s) => s!.id));
    if (t?.op !== 'transpose' || t.attrs.perm.join() !== SPLIT_PERM.join()) continue;
    const r = onlyFor(t.args[0]!, t.id);
    const lin = r?.op === 'reshape' ? onlyFor(r.args[0]!, r.id) : undefined;
    if (lin?.op !== 'linear' || lin.type.shape.length !== 3) continue;
    fused.set(n.id, { linear: lin, parts: [lin.id, r!.id, t.id, ...sel.map((s) => s!.id)] });
  }

  return {
    absorbed: new Set([...fused.values()].flatMap((f) => f.parts)),
    lower(n, c) {
      if (n.op !== 'attention') return undefined;
      const f = fused.get(n.id);
      if (!f) return undefined;
      const [x, w, bias] = f.linear.args;
      const heads = n.type.shape[1] as number;
      const wDims = onnxDims(byId.get(w!)!.type.shape);
      const weights = c.node('Transpose', [c.get(w!, 'full')], { perm: [1, 0] }, [wDims[1]!, wDims[0]!]);
      // The bias is optional in the operator's schema, but onnxruntime 1.30's CPU kernel crashes
      // without one (a segmentation fault): a Linear without bias gets zeros.
      const qkv = wDims[0] as number;
      const inputs = [c.get(x!, 'full'), weights, bias === undefined ? c.tensor('zeros', [qkv], new Float32Array(qkv)) : c.get(bias, 'full')];
      const dims = onnxDims(f.linear.type.shape);
      const out = c.contrib('Attention', inputs, { num_heads: heads, scale: float(n.attrs.scale) }, [dims[0]!, dims[1]!, heads * (n.type.shape[3] as number)]);
      return fromTokenMajor(n, out);
    },
  };
}
