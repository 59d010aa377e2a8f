// Common subexpression elimination: identical op, arguments and attributes compute the same value.
import { compact, type Graph, type Node } from '../ir/graph.js';
import { eliminateDeadCode } from './rewrite.js';
import type { Pass } from './pass.js';

function key(n: Node): string | undefined {
  if (n.op === 'input' || n.op === 'param') return undefined; // sources are distinct by identity
  return `${n.op}(${n.args.join(',')})${JSON.stringify(n.attrs)}`;
}

export const cse: Pass = {
  name: 'cse',
  description: 'merge identical computations (same op, arguments and attributes)',
  run: (g: Graph) => {
    const canon = new Map<string, number>();
    const repl = new Map<number, number>();
    const nodes: Node[] = [];
    for (const n0 of g.nodes) {
      const n = { ...n0, args: n0.args.map((a) => repl.get(a) ?? a) } as Node;
      const k = key(n);
      const prev = k === undefined ? undefined : canon.get(k);
      if (prev !== undefined) { repl.set(n.id, prev); continue; }
      if (k !== undefined) canon.set(k, n.id);
      nodes.push(n);
    }
    return compact(eliminateDeadCode({ ...g, nodes, outputs: g.outputs.map((o) => ({ ...o, id: repl.get(o.id) ?? o.id })) }));
  },
};
