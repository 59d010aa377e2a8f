// Rewrite rules applied to a fixpoint. A rule matches a pattern rooted at a node and returns the
// replacement value, built with an Emitter that type-checks like the IR builder. The engine is pure:
// each application yields a new graph (replacement spliced in before the root, root's uses redirected,
// dead nodes removed, ids renumbered).
import { compact, type Graph, type Node } from '../ir/graph.js';
import { opDecl, type AttrsOf, type OpName } from '../ir/ops/index.js';
import { contextOf, match, type Captures, type MatchContext, type Pat } from './pattern.js';
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

function applyOnce(g: Graph, rules: readonly Rule[]): Graph | undefined {
  const ctx = contextOf(g);
  const maxId = g.nodes.reduce((m, n) => Math.max(m, n.id), -1);
  for (let i = 0; i < g.nodes.length; i++) {
    const root = g.nodes[i]!;
    for (const rule of rules) {
      const caps = match(rule.pattern, root, ctx);
      if (!caps) continue;
      const e = new Emitter(maxId + 1, root);
      const out = rule.rewrite(caps, e, ctx);
      if (!out || out.id === root.id) continue;
      const swap = (id: number) => (id === root.id ? out.id : id);
      const nodes = [
        ...g.nodes.slice(0, i),
        ...e.created,
        root,
        ...g.nodes.slice(i + 1).map((n) => ({ ...n, args: n.args.map(swap) }) as Node),
      ];
      return eliminateDeadCode({ ...g, nodes, outputs: g.outputs.map((o) => ({ ...o, id: swap(o.id) })) });
    }
  }
  return undefined;
}

/** Apply rules until none matches. */
export function rewriteToFixpoint(g: Graph, rules: readonly Rule[], limit = 100000): Graph {
  let cur = g;
  for (let steps = 0; steps < limit; steps++) {
    const next = applyOnce(cur, rules);
    if (!next) return compact(cur);
    cur = next;
  }
  throw new Error(`rewrite did not reach a fixpoint after ${limit} steps (rules: ${rules.map((r) => r.name).join(', ')})`);
}
