// How the lowering holds each IR value. Gemm is 2-D, so an activation [batch, T, D] may be held as
// the matrix [batch*T, D] ("rows") as well as in its IR shape ("full"); reshapes and transposes are
// held unwritten until a user needs them, so that they can fold into each other and into Gathers.
// A Reshape or Transpose node is written only when a user needs a value in a form it does not have
// yet, and at most once per value and form.
import type { Graph, Node } from '../../ir/graph.js';
import type { OpName } from '../../ir/ops/index.js';
import { sameShape, staticNumel, type Shape } from '../../ir/types.js';
import type { GraphBuilder } from './builder.js';
import { BATCH_DIM, onnxDims, type OnnxDim, type Value } from './proto.js';
import { isReshaped, type Lowered, type Reshaped, type Source, type View } from './ops.js';

interface Held {
  readonly shape: Shape;
  full?: Value;
  rows?: Value;
  /** An IR reshape of `from`, written (in the reshape's scope) once a user needs it. */
  readonly reshapeOf?: { readonly from: Value; readonly scope: string };
  /** A transpose of `from`, written (in the scope that made it) once a user needs it. */
  readonly transposeOf?: { readonly from: Source; readonly perm: readonly number[]; readonly scope: string };
}

/** The [rows, last] matrix dims of an IR shape: [B, 197, 768] -> ["batch*197", 768]. */
export function rowDims(s: Shape): OnnxDim[] {
  if (s.length <= 2) return onnxDims(s);
  const lead = onnxDims(s.slice(0, -1));
  const n = staticNumel(s.slice(0, -1));
  const rows = lead.includes(BATCH_DIM) ? (n === 1 ? BATCH_DIM : `${BATCH_DIM}*${n}`) : n;
  return [rows, s[s.length - 1] as number];
}

/**
 * Reshape's shape input for `from` -> `to`: static sizes as they are; the one symbolic dim as 0
 * (copy the input's dim) when the input has the same dim at that index, else -1 (inferred). So no
 * Reshape ever holds a batch size.
 */
export function reshapeTarget(from: readonly OnnxDim[], to: readonly OnnxDim[]): number[] {
  const target = to.map((d, i) => (typeof d === 'number' ? d : from[i] === d ? 0 : -1));
  if (target.filter((d) => d === -1).length > 1) throw new Error(`cannot reshape [${from.join(',')}] to [${to.join(',')}] with one inferred dim`);
  return target;
}

const sameDims = (a: readonly OnnxDim[], b: readonly OnnxDim[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** A shape that broadcasts against [rows, last] exactly as against the full shape: a scalar, [D] or [1, D]. */
function rowBroadcast(s: Shape, out: Shape): boolean {
  const last = s[s.length - 1];
  return s.length <= 2 && s.slice(0, -1).every((d) => d === 1) && (last === undefined || last === 1 || last === out[out.length - 1]);
}

export class Views {
  private readonly held = new Map<number, Held>();
  /** Pending reshapes already written, so each is written once. */
  private readonly reshaped = new Map<Reshaped, Value>();
  /** IR values that a Gemm reads as a matrix, directly or through row-wise ops only. */
  private readonly headedForGemm = new Set<number>();

  constructor(private readonly b: GraphBuilder, ir: Graph, rowOps: ReadonlySet<OpName>) {
    const shapes = new Map(ir.nodes.map((n) => [n.id, n.type.shape]));
    for (let i = ir.nodes.length - 1; i >= 0; i--) {
      const n = ir.nodes[i]!;
      if (n.op === 'linear' && shapes.get(n.args[0]!)!.length > 2) this.headedForGemm.add(n.args[0]!);
      else if (rowOps.has(n.op) && this.headedForGemm.has(n.id)) {
        for (const a of n.args) if (sameShape(shapes.get(a)!, n.type.shape)) this.headedForGemm.add(a);
      }
    }
  }

  /** Record what lowering node `n` gave. */
  set(n: Node, r: Lowered): void {
    const shape = n.type.shape;
    if ('transposeOf' in r) {
      const identity = r.perm.every((a, i) => a === i);
      if (!identity) this.held.set(n.id, { shape, transposeOf: { from: r.transposeOf, perm: r.perm, scope: n.scope } });
      else if (!isReshaped(r.transposeOf)) this.held.set(n.id, { shape, full: r.transposeOf });
      else this.set(n, { reshapeOf: r.transposeOf.reshapeOf });
    } else if ('reshapeOf' in r) {
      const h: Held = { shape, reshapeOf: { from: r.reshapeOf, scope: n.scope } };
      // A reshape to what the operand already is (a matrix to the same matrix) writes nothing.
      if (sameDims(r.reshapeOf.dims, onnxDims(shape))) h.full = r.reshapeOf;
      else if (shape.length > 2 && sameDims(r.reshapeOf.dims, rowDims(shape))) h.rows = r.reshapeOf;
      this.held.set(n.id, h);
    } else {
      const h: Held = { shape, [r.view]: r.value };
      if (shape.length <= 2) h.full = h.rows = r.value;
      this.held.set(n.id, h);
    }
  }

  /** Value `id` in a view, writing the Transpose or Reshape that gets it there (in `scope` unless it has its own). */
  get(id: number, view: View, scope: string): Value {
    const h = this.held.get(id)!;
    const want: View = h.shape.length <= 2 ? 'full' : view;
    const have = h[want];
    if (have) return have;
    if (h.transposeOf && !h.full) {
      const t = h.transposeOf;
      const from = this.value(t.from, t.scope);
      h.full = this.b.node(t.scope, 'Transpose', [from], { elem: from.elem, dims: onnxDims(h.shape) }, { perm: [...t.perm] });
      if (want === 'full') return h.full;
    }
    const dims = want === 'full' ? onnxDims(h.shape) : rowDims(h.shape);
    const from = h.reshapeOf?.from ?? (h.full ?? h.rows)!;
    const v = sameDims(from.dims, dims)
      ? from
      : this.b.node(h.reshapeOf?.scope ?? scope, 'Reshape', [from, this.b.int64(reshapeTarget(from.dims, dims))], { elem: from.elem, dims });
    h[want] = v;
    return v;
  }

  /** A source as a written value: a pending reshape is written once, in `scope`. */
  value(s: Source, scope: string): Value {
    if (!isReshaped(s)) return s;
    let v = this.reshaped.get(s);
    if (!v) {
      v = sameDims(s.reshapeOf.dims, s.dims) ? s.reshapeOf : this.b.node(scope, 'Reshape', [s.reshapeOf, this.b.int64(reshapeTarget(s.reshapeOf.dims, s.dims))], { elem: s.reshapeOf.elem, dims: s.dims });
      this.reshaped.set(s, v);
    }
    return v;
  }

  /** Value `id` in whichever form it is already written (a reshape's source for a pending reshape). */
  any(id: number, scope: string): Value {
    const h = this.held.get(id)!;
    return h.reshapeOf?.from ?? h.full ?? h.rows ?? this.get(id, 'full', scope);
  }

  /** Value `id`'s transpose, when it is not written yet. */
  pendingTranspose(id: number): Held['transposeOf'] {
    const h = this.held.get(id)!;
    return h.full ? undefined : h.transposeOf;
  }

  /**
   * The view row-wise node `n` should compute in: rows when an operand of the output's shape is
   * already (or as cheaply) a matrix, or when the result is headed for a Gemm, provided every
   * other operand broadcasts along rows; else full.
   */
  rowwise(n: Node): View {
    const out = n.type.shape;
    if (out.length <= 2) return 'full';
    let matrix = this.headedForGemm.has(n.id);
    for (const a of n.args) {
      const h = this.held.get(a)!;
      if (sameShape(h.shape, out)) matrix ||= h.rows !== undefined || h.reshapeOf !== undefined;
      else if (!rowBroadcast(h.shape, out)) return 'full';
    }
    return matrix ? 'rows' : 'full';
  }
}
