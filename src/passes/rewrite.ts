// Rewrite rules applied to a fixpoint. A rule matches a pattern rooted at a node and returns the
// replacement value, built with an Emitter that type-checks like the IR builder. The engine is pure:
// each application yields a new graph (replacement spliced in before the root, root's uses redirected,
// dead nodes removed, ids renumbered).
import { compact, type Graph, type Node } from '../ir/graph.js';
import { opDecl, type AttrsOf, type OpName } from '../ir/ops/index.js';
import { match, type Captures, type MatchContext, type Pat } from './pattern.js';
import type { TensorType } from '../ir/types.js';

/** A value in a rewrite: an existing node id or a node created by this rewrite. */
export interface Ref {
  readonly id: number;
  readonly type: TensorType;
}

export class Emitter {
  readonly created: Node[] = [];
  constructor(private nextId: number, private readonly root: Node) {}
  op<K extends OpName>(op: K, args: readonly Ref[], attrs: AttrsOf<K>): Ref {
    const type = opDecl(op).infer(args.map((a) => a.type), attrs);
    const n = { id: this.nextId++, op, args: args.map((a) => a.id), attrs, type, scope: this.root.scope, span: this.root.span } as Node;
    this.created.push(n);
    return { id: n.id, type };
  }
  scalar(v: number): Ref {
    return this.op('const', [], { label: 'scalar', shape: [], data: [Math.fround(v)] });
  }
}

export interface Rule {
  readonly name: string;
  readonly pattern: Pat;
  /** The replacement for the root, or undefined to decline. */
  rewrite(caps: Captures, e: Emitter, ctx: MatchContext): Ref | undefined;
}

/** Remove nodes whose values nobody uses (outputs are used). */
export function eliminateDeadCode(g: Graph): Graph {
  const live = new Set(g.outputs.map((o) => o.id));
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (live.has(n.id)) for (const a of n.args) live.add(a);
  }
  return { ...g, nodes: g.nodes.filter((n) => live.has(n.id)) };
}

/**
 * One sweep over the graph in order: each node (its arguments already redirected to earlier
 * replacements) is offered to the rules, and the first that rewrites it replaces it. User counts are
 * kept exact as nodes are replaced and die, so `single` patterns see the graph as it is now. Linear in
 * the graph's size, so a fixpoint takes a few sweeps rather than one pass per rewrite.
 */
function sweep(g: Graph, rules: readonly Rule[]): { readonly graph: Graph; readonly rewrites: number } {
  const byId = new Map<number, Node>(g.nodes.map((n) => [n.id, n]));
  const users = new Map<number, number>();
  const use = (id: number, k: number) => users.set(id, (users.get(id) ?? 0) + k);
  for (const n of g.nodes) for (const a of n.args) use(a, 1);
  for (const o of g.outputs) use(o.id, 1);
  const ctx: MatchContext = { node: (id) => byId.get(id)!, users: (id) => users.get(id) ?? 0 };
  const replaced = new Map<number, number>();
  const resolve = (id: number) => { let r = id; for (let next = replaced.get(r); next !== undefined; next = replaced.get(r)) r = next; return r; };
  const dead = new Set<number>();
  /** `n` has no users left: release its arguments, and theirs in turn when they die too. */
  const release = (n: Node) => {
    const stack = [n];
    for (let m = stack.pop(); m; m = stack.pop()) {
      dead.add(m.id);
      for (const a of m.args) {
        use(a, -1);
        if (users.get(a) === 0 && !dead.has(a)) stack.push(byId.get(a)!);
      }
    }
  };
  let nextId = g.nodes.reduce((m, n) => Math.max(m, n.id), -1) + 1;
  let rewrites = 0;
  const nodes: Node[] = [];
  for (const n0 of g.nodes) {
    const args = n0.args.map(resolve);
    const n = args.some((a, i) => a !== n0.args[i]) ? ({ ...n0, args } as Node) : n0;
    byId.set(n.id, n);
    let out: Ref | undefined;
    for (const rule of rules) {
      const caps = match(rule.pattern, n, ctx);
      if (!caps) continue;
      const e = new Emitter(nextId, n);
      out = rule.rewrite(caps, e, ctx);
      if (!out || out.id === n.id) { out = undefined; continue; }
      nextId += e.created.length;
      for (const c of e.created) {
        byId.set(c.id, c);
        for (const a of c.args) use(a, 1);
        nodes.push(c);
      }
      break;
    }
    if (!out) { nodes.push(n); continue; }
    rewrites++;
    replaced.set(n.id, out.id);
    use(out.id, users.get(n.id) ?? 0);
    users.set(n.id, 0);
    release(n);
  }
  if (rewrites === 0) return { graph: g, rewrites };
  const outputs = g.outputs.map((o) => ({ ...o, id: resolve(o.id) }));
  return { graph: eliminateDeadCode({ ...g, nodes: nodes.filter((n) => !dead.has(n.id)), outputs }), rewrites };
}

/** Apply rules until none matches. */
export function rewriteToFixpoint(g: Graph, rules: readonly Rule[], limit = 100000): Graph {
  let cur = g;
  for (let steps = 0; ;) {
    const { graph, rewrites } = sweep(cur, rules);
    if (rewrites === 0) return compact(cur);
    steps += rewrites;
    if (steps > limit) throw new Error(`rewrite did not reach a fixpoint after ${limit} steps (rules: ${rules.map((r) => r.name).join(', ')})`);
    cur = graph;
  }
}
