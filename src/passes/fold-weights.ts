// Fold weight transforms into parameters: `standardize(p)` of a parameter p that nothing else reads
// becomes p itself, carrying the transform in its `transforms` attribute. The loader then applies
// it once to the stored weights (src/runtime/transforms.js), the manifest lists it, and every
// kernel sees a plain weight. A transform of anything else stays and lowers to its decomposition.
import { compact, usersOf, type Graph, type Node, type NodeOf } from '../ir/graph.js';
import type { WeightTransform } from '../ir/ops/index.js';
import { eliminateDeadCode } from './rewrite.js';
import type { Pass } from './pass.js';

/** The transform a node applies to its one operand, if it is a weight transform. */
function transformOf(n: Node): WeightTransform | undefined {
  return n.op === 'standardize' ? { op: 'standardize', eps: n.attrs.eps } : undefined;
}

export const foldWeightTransforms: Pass = {
  name: 'fold-weight-transforms',
  description: 'move weight transforms of parameters (standardize) into the parameters, applied at load time',
  run: (g: Graph, opts): Graph => {
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const users = usersOf(g);
    const outputs = new Set(g.outputs.map((o) => o.id));
    // param id -> the transform every one of its users applies.
    const folded = new Map<number, WeightTransform>();
    for (const n of g.nodes) {
      const t = transformOf(n);
      const p = t && byId.get(n.args[0]!);
      if (!t || p?.op !== 'param' || outputs.has(p.id) || folded.has(p.id)) continue;
      const same = users.get(p.id)!.every((u) => JSON.stringify(transformOf(byId.get(u)!)) === JSON.stringify(t));
      if (same) folded.set(p.id, t);
    }
    if (folded.size === 0) return g;
    const repl = new Map<number, number>();
    const nodes = g.nodes.map((n): Node => {
      if (n.op === 'param' && folded.has(n.id)) {
        const p = n as NodeOf<'param'>;
        return { ...p, attrs: { ...p.attrs, transforms: [...(p.attrs.transforms ?? []), folded.get(n.id)!] } };
      }
      if (transformOf(n) && folded.has(n.args[0]!)) repl.set(n.id, n.args[0]!);
      return n;
    }).map((n) => ({ ...n, args: n.args.map((a) => repl.get(a) ?? a) }) as Node);
    const rewired = { ...g, nodes, outputs: g.outputs.map((o) => ({ ...o, id: repl.get(o.id) ?? o.id })) };
    // Chains (standardize of standardize) fold one step per round.
    return foldWeightTransforms.run(compact(eliminateDeadCode(rewired)), opts);
  },
};
