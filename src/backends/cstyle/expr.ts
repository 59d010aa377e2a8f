// Elementwise expressions (Expr) as C-like source: inputs and the GEMM accumulator are named by the
// caller, constants and functions spelled by the dialect.
import type { Expr } from '../../kernel/types.js';
import type { Dialect } from './dialect.js';

const BIN: Readonly<Record<string, string>> = { add: '+', sub: '-', mul: '*', div: '/' };

/** `e` in the dialect, with `leaf(i)` for input i and `acc` for the accumulator. */
export function renderExpr(d: Dialect, e: Expr, leaf: (i: number) => string, acc = 'acc'): string {
  switch (e.k) {
    case 'in': return leaf(e.i);
    case 'acc': return acc;
    case 'const': return d.f32(e.v);
    case 'un': return d.unary(e.fn, renderExpr(d, e.x, leaf, acc));
    case 'bin': return `(${renderExpr(d, e.a, leaf, acc)} ${BIN[e.fn]} ${renderExpr(d, e.b, leaf, acc)})`;
  }
}

/** Which inputs an expression reads. */
export function exprInputs(e: Expr, out = new Set<number>()): Set<number> {
  switch (e.k) {
    case 'in': out.add(e.i); break;
    case 'un': exprInputs(e.x, out); break;
    case 'bin': exprInputs(e.a, out); exprInputs(e.b, out); break;
    default: break;
  }
  return out;
}
