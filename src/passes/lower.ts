// Lower composite ops the target has no kernel for into their primitive decompositions.
import type { Pass } from './pass.js';
import { GraphBuilder, type Value } from '../ir/builder.js';
import { opDecl, type AttrsOf, type OpName } from '../ir/ops/index.js';
import type { Graph, Node } from '../ir/graph.js';

export const lowerComposites: Pass = {
  name: 'lower-composites',
  description: 'decompose composite ops that the target does not implement natively',
  run: (g, opts): Graph => {
    if (!g.nodes.some((n) => opDecl(n.op).kind === 'composite' && !opts.nativeComposites.has(n.op))) return g;
    const b = new GraphBuilder(g.name);
    const vals = new Map<number, Value>();
    for (const n of g.nodes) {
      const args = n.args.map((a) => vals.get(a)!);
      const decl = opDecl(n.op);
      const v = withScope(b, n, () =>
        decl.kind === 'composite' && !opts.nativeComposites.has(n.op) && decl.decompose
          ? (decl.decompose as (b: GraphBuilder, a: readonly Value[], attrs: unknown) => Value)(b, args, n.attrs)
          : b.op(n.op as OpName, args, n.attrs as AttrsOf<OpName>));
      vals.set(n.id, v);
    }
    for (const o of g.outputs) b.output(o.name, vals.get(o.id)!);
    return b.build();
  },
};

/** Run `fn` with the builder in node `n`'s module scope (entered whole, as the evaluator enters `as a.b.c`: a scope of 10k parts must not recurse 10k deep) and source span (so rebuilt nodes keep both). */
export function withScope<T>(b: GraphBuilder, n: Node, fn: () => T): T {
  return n.scope ? b.scoped(n.scope, () => b.at(n.span, fn)) : b.at(n.span, fn);
}
