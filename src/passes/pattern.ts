// A small typed pattern matcher over the IR (in the spirit of tinygrad's PatternMatcher):
// a pattern names an op (or any), sub-patterns for its arguments, a capture name and a predicate.
import type { Graph, Node, NodeOf } from '../ir/graph.js';
import { opDecl, type OpName } from '../ir/ops/index.js';

export interface Pat {
  readonly op?: OpName | readonly OpName[];
  readonly args?: readonly Pat[];
  /** Capture the matched node under this name. */
  readonly bind?: string;
  /** Extra condition on the matched node. */
  readonly where?: (n: Node, ctx: MatchContext) => boolean;
  /** Interior nodes of a fusion must have no other users (default false). */
  readonly single?: boolean;
}

export interface MatchContext {
  readonly node: (id: number) => Node;
  readonly users: (id: number) => number;
}

export type Captures = ReadonlyMap<string, Node>;

/** `op('softmax', [x])`: a node of the op with argument patterns. */
export function op(name: OpName | readonly OpName[], args?: readonly Pat[], extra: Omit<Pat, 'op' | 'args'> = {}): Pat {
  return { op: name, args, ...extra };
}

/** Any node, captured under `name`. */
export function any(name?: string): Pat {
  return { bind: name };
}

/**
 * Match `p` at `n`. Commutative ops (declared so in the op catalog: add, mul) match their two
 * arguments in either order, so `x + f(x)` and `f(x) + x`, `s * q` and `q * s` are the same pattern.
 */
export function match(p: Pat, n: Node, ctx: MatchContext, caps: Map<string, Node> = new Map()): Captures | undefined {
  if (p.op !== undefined && (typeof p.op === 'string' ? p.op !== n.op : !p.op.includes(n.op))) return undefined;
  if (p.single && ctx.users(n.id) !== 1) return undefined;
  if (p.args) {
    if (p.args.length !== n.args.length) return undefined;
    const orders = p.args.length === 2 && opDecl(n.op).commutative ? [[0, 1], [1, 0]] : [[...p.args.keys()]];
    let found: Map<string, Node> | undefined;
    for (const order of orders) {
      const trial = new Map(caps);
      if (order.every((ai, pi) => match(p.args![pi]!, ctx.node(n.args[ai]!), ctx, trial))) { found = trial; break; }
    }
    if (!found) return undefined;
    caps.clear();
    for (const [k, v] of found) caps.set(k, v);
  }
  if (p.bind) {
    const prev = caps.get(p.bind);
    if (prev && prev.id !== n.id) return undefined;
    caps.set(p.bind, n);
  }
  if (p.where && !p.where(n, ctx)) return undefined;
  return caps;
}

export function contextOf(g: Graph): MatchContext {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  for (const n of g.nodes) for (const a of n.args) counts.set(a, (counts.get(a) ?? 0) + 1);
  for (const o of g.outputs) counts.set(o.id, (counts.get(o.id) ?? 0) + 1);
  return { node: (id) => byId.get(id)!, users: (id) => counts.get(id) ?? 0 };
}

/** Capture as a node of a known op (for typed attribute access in rewrites). */
export function cap<K extends OpName>(caps: Captures, name: string, _op?: K): NodeOf<K> {
  return caps.get(name) as NodeOf<K>;
}
