// A readable, deterministic text form of the IR (what `--dump-ir` prints).
import { formatSpan } from '../diag/diagnostic.js';
import type { Graph, Node } from './graph.js';
import { opDecl } from './ops/index.js';
import { fmtType } from './types.js';

export function formatNode(n: Node): string {
  const decl = opDecl(n.op) as { formatAttrs?: (a: unknown) => string };
  const args = n.args.length ? `(${n.args.map((a) => `%${a}`).join(', ')})` : '';
  const attrs = decl.formatAttrs ? decl.formatAttrs(n.attrs) : '';
  const where = [n.scope, n.span ? formatSpan(n.span) : ''].filter(Boolean).join(' @ ');
  return `%${n.id} = ${n.op}${args}${attrs ? ' ' + attrs : ''} : ${fmtType(n.type)}${where ? `  # ${where}` : ''}`;
}

export function printGraph(g: Graph): string {
  const lines = [`graph "${g.name}" {`];
  for (const n of g.nodes) lines.push(`  ${formatNode(n)}`);
  lines.push(`  return ${g.outputs.map((o) => `${o.name}=%${o.id}`).join(', ')}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
