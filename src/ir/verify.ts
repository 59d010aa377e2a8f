// The IR verifier, run after building and between passes: well-formed SSA in topological order,
// arities and types consistent with the op declarations, unique parameter names, no dead values.
import { opDecl } from './ops/index.js';
import type { Graph } from './graph.js';
import { fmtType, sameType, type TensorType } from './types.js';

/** Problems found, as plain strings (a failing verify after a pass is a compiler bug). */
export function verifyGraph(g: Graph): string[] {
  const problems: string[] = [];
  const seen = new Map<number, number>();
  const used = new Set<number>();
  const paramNames = new Set<string>();
  g.nodes.forEach((n, i) => {
    if (seen.has(n.id)) problems.push(`%${n.id} is defined twice`);
    const decl = opDecl(n.op);
    const [min, max] = typeof decl.arity === 'number' ? [decl.arity, decl.arity] : decl.arity;
    if (n.args.length < min || n.args.length > max) problems.push(`%${n.id} (${n.op}) has ${n.args.length} arguments`);
    const argTypes: TensorType[] = [];
    for (const a of n.args) {
      const j = seen.get(a);
      if (j === undefined) { problems.push(`%${n.id} (${n.op}) uses %${a} before it is defined`); continue; }
      used.add(a);
      argTypes.push(g.nodes[j]!.type);
    }
    if (argTypes.length === n.args.length) {
      try {
        const t = (decl.infer as (a: typeof argTypes, attrs: unknown) => typeof n.type)(argTypes, n.attrs);
        if (!sameType(t, n.type)) problems.push(`%${n.id} (${n.op}) is typed ${fmtType(n.type)} but its rule gives ${fmtType(t)}`);
      } catch (e) {
        problems.push(`%${n.id} (${n.op}): ${(e as Error).message}`);
      }
    }
    if (n.op === 'param') {
      if (paramNames.has(n.attrs.name)) problems.push(`parameter "${n.attrs.name}" is defined twice`);
      paramNames.add(n.attrs.name);
    }
    seen.set(n.id, i);
  });
  if (g.outputs.length === 0) problems.push('the graph has no outputs');
  for (const o of g.outputs) {
    if (!seen.has(o.id)) problems.push(`output "${o.name}" refers to undefined %${o.id}`);
    used.add(o.id);
  }
  for (const n of g.nodes) if (!used.has(n.id)) problems.push(`%${n.id} (${n.op}${n.op === 'param' ? ` "${n.attrs.name}"` : ''}) is never used`);
  return problems;
}
