// --onnx-ops ort: onnxruntime's own operators (domain com.microsoft) where its CPU provider runs them
// faster than the standard form, at the cost of running on onnxruntime only (the model's metadata
// says so). Each entry replaces the standard lowering of one IR node, or of a small group that
// onnxruntime computes in one kernel:
// - attention: MultiHeadAttention on [B, T, heads*d] q, k, v (the heads of a qkv projection);
// - add then layernorm: SkipLayerNormalization, whose fourth output is the sum, so the residual
//   stream keeps flowing from it; a Linear that feeds only the add hands it its bias as well;
// - linear then gelu (gelu_tanh): the Gemm without its bias, then BiasGelu (FastGelu with a bias).
// Anything else, and any group whose shape does not fit, keeps the standard lowering.
import { nodeIndex, usersOf, type Graph, type Node, type NodeOf } from '../../ir/graph.js';
import { sameShape } from '../../ir/types.js';
import { float, NONE } from './proto.js';
import { tokenMajorQkv, fromTokenMajor } from './attention.js';
import type { Lowered, OpCtx } from './ops.js';

export const MS_DOMAIN = 'com.microsoft';

export interface OrtLowering {
  /** Nodes that a later node computes (an add inside a SkipLayerNormalization): lowering skips them. */
  readonly absorbed: ReadonlySet<number>;
  /** The contrib-op lowering of `n`, or undefined for the standard one. */
  lower(n: Node, c: OpCtx): Lowered | undefined;
}

interface Skip {
  readonly add: NodeOf<'add'>;
  /** The add's operands: SkipLayerNormalization's input and skip. */
  readonly input: number;
  readonly skip: number;
  /** The Linear whose bias SkipLayerNormalization adds (written without it). */
  readonly biasOf?: NodeOf<'linear'>;
  /** Whether anything besides the layernorm reads the sum. */
  readonly sumUsed: boolean;
}

export function ortLowering(ir: Graph): OrtLowering {
  const byId = nodeIndex(ir);
  const users = usersOf(ir);
  const order = new Map(ir.nodes.map((n, i) => [n.id, i]));
  const outputs = new Set(ir.outputs.map((o) => o.id));
  /** `id` is used by `user` alone (and is no graph output). */
  const only = (id: number, user: number) => !outputs.has(id) && users.get(id)!.length === 1 && users.get(id)![0] === user;
  const biasedLinear = (n: Node | undefined, user: number): n is NodeOf<'linear'> => n?.op === 'linear' && n.args.length === 3 && only(n.id, user);

  const skips = new Map<number, Skip>();
  const biasAct = new Map<number, NodeOf<'linear'>>();
  const deferredBias = new Set<number>();
  for (const n of ir.nodes) {
    if (n.op === 'layernorm') {
      const a = byId.get(n.args[0]!)!;
      if (a.op !== 'add' || outputs.has(a.id)) continue;
      const [x, y] = a.args.map((id) => byId.get(id)!) as [Node, Node];
      if (!sameShape(x.type.shape, a.type.shape) || !sameShape(y.type.shape, a.type.shape)) continue;
      // The sum's other users must come after the layernorm, which is where it is written.
      if (users.get(a.id)!.some((u) => u !== n.id && order.get(u)! < order.get(n.id)!)) continue;
      const lin = [y, x].find((v) => biasedLinear(v, a.id)) as NodeOf<'linear'> | undefined;
      const input = lin ?? y;
      skips.set(n.id, { add: a, input: input.id, skip: (input === x ? y : x).id, biasOf: lin, sumUsed: users.get(a.id)!.length > 1 });
      if (lin) deferredBias.add(lin.id);
    } else if (n.op === 'gelu' || n.op === 'gelu_tanh') {
      const f = byId.get(n.args[0]!);
      if (biasedLinear(f, n.id)) {
        biasAct.set(n.id, f);
        deferredBias.add(f.id);
      }
    }
  }

  return {
    absorbed: new Set([...skips.values()].map((s) => s.add.id)),
    lower(n, c) {
      switch (n.op) {
        case 'linear':
          if (!deferredBias.has(n.id)) return undefined;
          return { value: c.node('Gemm', [c.rows(0), c.full(1)], { transB: 1 }, c.dims('rows')), view: 'rows' };
        case 'gelu':
        case 'gelu_tanh': {
          const f = biasAct.get(n.id);
          if (!f) return undefined;
          const op = n.op === 'gelu' ? 'BiasGelu' : 'FastGelu';
          const [y] = c.nodeOf(MS_DOMAIN, op, [c.rows(0), c.get(f.args[2]!, 'full')], [{ elem: c.elem, dims: c.dims('rows') }]);
          return { value: y!, view: 'rows' };
        }
        case 'layernorm': {
          const s = skips.get(n.id);
          if (!s) return undefined;
          const d = n.type.shape[n.type.shape.length - 1] as number;
          const gamma = n.args.length > 1 ? c.full(1) : c.tensor('layernorm_ones', [d], new Float32Array(d).fill(1));
          const beta = n.args.length > 2 ? c.full(2) : NONE;
          const inputs = [c.get(s.input, 'rows'), c.get(s.skip, 'rows'), gamma, ...(s.biasOf ? [beta, c.get(s.biasOf.args[2]!, 'full')] : n.args.length > 2 ? [beta] : [])];
          const out = { elem: c.elem, dims: c.dims('rows') };
          // The sum is the fourth output, written only when something else reads it (a residual stream).
          const [y, , , sum] = c.nodeOf(MS_DOMAIN, 'SkipLayerNormalization', inputs, [out, null, null, s.sumUsed ? { ...out, label: 'sum' } : null], { epsilon: float(n.attrs.eps) });
          if (sum) c.define(s.add.id, { value: sum, view: 'rows' });
          return { value: y!, view: 'rows' };
        }
        case 'attention': {
          const qkv = n.type.shape.length === 4 ? tokenMajorQkv(c) : undefined;
          if (!qkv) return undefined;
          const heads = n.type.shape[1] as number;
          const [b, t] = qkv[0].dims;
          const [out] = c.nodeOf(MS_DOMAIN, 'MultiHeadAttention', qkv, [{ elem: c.elem, dims: [b!, t!, heads * (n.type.shape[3] as number)] }], { num_heads: heads, scale: float(n.attrs.scale) });
          return fromTokenMajor(n, out!);
        }
        default:
          return undefined;
      }
    },
  };
}
