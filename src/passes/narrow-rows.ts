// Narrow rows: compute only the rows of each value that the outputs read. A ViT that pools its class
// token reads one row of the last block's output; that block then needs keys and values for every
// token, but the queries, the attention output, the projection, the residual, the MLP and the final
// norm for the class token only. In ViT-B/16 that is 6.3 % of the model's multiply-adds, at every
// batch size; a traced export computes them for all 197 tokens. The result is exact: the same
// arithmetic on fewer rows (distilled models keep two, average pooling keeps them all).
//
// Analysis, outputs to inputs: each value gets the range of one axis its users read ("need"), from
// select/slice users and through ops that compute each index of that axis from the same index of
// their operands (row-wise ops, linear and layernorm over the last axis, attention's query axis,
// layout ops that keep the axis). Ranges of the same axis merge into their hull; anything else
// needs the whole value. Rewrite, inputs to outputs: a node whose need is a proper range computes
// just that range, reading narrowed operands or slicing full ones.
//
// Opt-in per target (Capabilities.narrowRows): its kernels must take attention with fewer queries
// than keys, and slices of any axis.
import type { Pass } from './pass.js';
import { GraphBuilder, type Value } from '../ir/builder.js';
import type { Graph, Node, NodeOf } from '../ir/graph.js';
import type { AttrsOf, OpName } from '../ir/ops/index.js';
import { BATCH, staticNumel, type Shape } from '../ir/types.js';
import { withScope } from './lower.js';

/** Indices [lo, hi) of one axis. */
export interface Rows { readonly axis: number; readonly lo: number; readonly hi: number }
/** What users read of a value: a range of one axis, or all of it. */
export type Need = Rows | 'all';

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** The operand's need for a broadcasting op: the same rows if the operand has that axis at full size, else all. */
function broadcastArg(arg: Shape, out: Shape, r: Rows): Need {
  const axis = r.axis - (out.length - arg.length);
  return axis >= 0 && arg[axis] === out[r.axis] ? { ...r, axis } : 'all';
}

/** The axis of a reshape's input that output axis `a` is, when the reshape keeps it as a dim of its own. */
function reshapeAxis(from: Shape, to: Shape, a: number): number | undefined {
  const batches = (s: Shape) => s.filter((d) => d === BATCH).length;
  const prefix = to.slice(0, a);
  for (let j = 0; j < from.length; j++) {
    const p = from.slice(0, j);
    if (from[j] === to[a] && staticNumel(p) === staticNumel(prefix) && batches(p) === batches(prefix)) return j;
  }
  return undefined;
}

type Through<K extends OpName> = (n: NodeOf<K>, need: Rows, shapes: readonly Shape[]) => readonly Need[] | undefined;
const rowwise: Through<OpName> = (n, r) => n.args.map(() => r);
const broadcast: Through<OpName> = (n, r, shapes) => shapes.map((s) => broadcastArg(s, n.type.shape, r));
/** Ops over the last axis (linear, layernorm): rows of any other axis, the weights whole. */
const lastAxis: Through<OpName> = (n, r) => (r.axis < n.type.shape.length - 1 ? n.args.map((_, i) => (i === 0 ? r : 'all')) : undefined);
const never = () => undefined;

/**
 * For a node whose users read `need` of it, what it reads of each operand; undefined when it cannot
 * compute a part of its output (then it is computed whole). One entry per op, so a new op decides.
 */
const THROUGH: { readonly [K in OpName]: Through<K> } = {
  input: never, param: never, const: never,
  linear: lastAxis, layernorm: lastAxis,
  matmul: (n, r) => (r.axis === n.type.shape.length - 2 ? [r, 'all'] : undefined),
  conv2d: never, maxpool2d: never, groupnorm: never, standardize: never, mean: never, expand: never,
  add: broadcast, sub: broadcast, mul: broadcast, div: broadcast,
  gelu: rowwise, gelu_tanh: rowwise, relu: rowwise, silu: rowwise, sigmoid: rowwise, tanh: rowwise,
  exp: rowwise, log: rowwise, sqrt: rowwise, neg: rowwise,
  softmax: (n, r) => (r.axis !== norm(n.attrs.axis, n.type.shape.length) ? [r] : undefined),
  reshape: (n, r, [from]) => {
    const axis = reshapeAxis(from!, n.type.shape, r.axis);
    return axis === undefined ? undefined : [{ ...r, axis }];
  },
  transpose: (n, r) => [{ ...r, axis: n.attrs.perm[r.axis]! }],
  concat: (n, r) => (r.axis !== norm(n.attrs.axis, n.type.shape.length) ? n.args.map(() => r) : undefined),
  slice: (n, r, [from]) => {
    const axis = norm(n.attrs.axis, from!.length);
    return [axis === r.axis ? { axis, lo: n.attrs.start + r.lo, hi: n.attrs.start + r.hi } : r];
  },
  select: (n, r, [from]) => [{ ...r, axis: r.axis < norm(n.attrs.axis, from!.length) ? r.axis : r.axis + 1 }],
  // Queries are rows of the output; keys and values are read whole.
  attention: (n, r) => (r.axis === n.type.shape.length - 2 ? [r, 'all', 'all'] : undefined),
};

/** What a select or slice reads of its operand when its own value is read whole. */
function pick(n: Node, from: Shape): Need {
  if (n.op === 'select') return { axis: norm(n.attrs.axis, from.length), lo: n.attrs.index, hi: n.attrs.index + 1 };
  if (n.op === 'slice') return { axis: norm(n.attrs.axis, from.length), lo: n.attrs.start, hi: n.attrs.end };
  return 'all';
}

function merge(a: Need | undefined, b: Need): Need {
  if (a === undefined) return b;
  if (a === 'all' || b === 'all' || a.axis !== b.axis) return 'all';
  return { axis: a.axis, lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
}

/**
 * Each node's rows: the range of one axis it computes (when its users read a proper range and it can
 * compute one), or all; and what it reads of each operand.
 */
export function analyzeRows(g: Graph): { rows: Map<number, Need>; reads: Map<number, readonly Need[]> } {
  const shapes = new Map(g.nodes.map((n) => [n.id, n.type.shape]));
  const need = new Map<number, Need>();
  const rows = new Map<number, Need>();
  const reads = new Map<number, readonly Need[]>();
  for (const o of g.outputs) need.set(o.id, 'all');
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    let own = need.get(n.id) ?? 'all';
    if (own !== 'all' && own.lo === 0 && own.hi === n.type.shape[own.axis]) own = 'all';
    const argShapes = n.args.map((a) => shapes.get(a)!);
    const through = own === 'all' ? undefined : (THROUGH[n.op] as Through<OpName>)(n, own, argShapes);
    rows.set(n.id, through ? own : 'all');
    const r = through ?? n.args.map((_, j) => (j === 0 ? pick(n, argShapes[0]!) : 'all'));
    reads.set(n.id, r);
    n.args.forEach((a, j) => need.set(a, merge(need.get(a), r[j]!)));
  }
  return { rows, reads };
}

/** A value of the rewritten graph and the rows of the original value it holds. */
interface Held { readonly v: Value; readonly rows: Need }

/** Layout ops: over a whole operand they stay whole (views, and lazy in some targets) and their result is sliced. */
const LAYOUT = new Set<OpName>(['reshape', 'transpose', 'select', 'slice']);

export const narrowRows: Pass = {
  name: 'narrow-rows',
  description: 'compute only the rows (e.g. the class token in the last block) that the outputs read',
  run: (g, opts): Graph => {
    if (!opts.narrowRows) return g;
    const { rows, reads } = analyzeRows(g);
    if (![...rows.values()].some((r) => r !== 'all')) return g;
    const b = new GraphBuilder(g.name);
    const held = new Map<number, Held>();
    /** `h` cut to rows `r` of the original (a slice relative to what it holds, or itself). */
    const cut = (h: Held, r: Need): Value => {
      if (r === 'all') {
        if (h.rows !== 'all') throw new Error('narrow-rows: a narrowed value is read whole');
        return h.v;
      }
      if (h.rows !== 'all' && h.rows.axis !== r.axis) throw new Error(`narrow-rows: axis ${r.axis} of a value narrowed on axis ${h.rows.axis}`);
      const base = h.rows === 'all' ? 0 : h.rows.lo;
      if (r.lo === base && r.hi - base === h.v.type.shape[r.axis]) return h.v;
      return b.op('slice', [h.v], { axis: r.axis, start: r.lo - base, end: r.hi - base });
    };
    for (const n of g.nodes) {
      const own = rows.get(n.id)!;
      const r = reads.get(n.id)!;
      const h = withScope(b, n, (): Held => {
        const emit = (args: readonly Value[], attrs: object) => b.op(n.op as OpName, args, attrs as AttrsOf<OpName>);
        const first = held.get(n.args[0]!);
        if (own !== 'all' && LAYOUT.has(n.op) && first!.rows === 'all') {
          return { v: cut({ v: emit([first!.v], n.attrs), rows: 'all' }, own), rows: own };
        }
        if ((n.op === 'select' || n.op === 'slice') && first!.rows !== 'all') {
          // The operand holds just the rows this reads: along its own axis the index shifts to the
          // start (a slice becomes the operand itself).
          const axis = norm(n.attrs.axis, first!.v.type.shape.length);
          const rd = r[0] as Rows;
          if (rd.axis !== axis) return { v: emit([cut(first!, rd)], n.attrs), rows: own };
          if (n.op === 'slice') return { v: cut(first!, rd), rows: own };
          return { v: emit([first!.v], { axis, index: n.attrs.index - (first!.rows as Rows).lo }), rows: own };
        }
        const args = n.args.map((a, j) => (j === 0 && (n.op === 'select' || n.op === 'slice') ? first!.v : cut(held.get(a)!, r[j]!)));
        const attrs = n.op === 'reshape' && own !== 'all' ? { shape: n.attrs.shape.map((d, i) => (i === own.axis ? own.hi - own.lo : d)) } : n.attrs;
        return { v: emit(args, attrs), rows: own };
      });
      held.set(n.id, h);
    }
    for (const o of g.outputs) b.output(o.name, held.get(o.id)!.v);
    return b.build();
  },
};
