// JS source for the parts of a KernelProgram that are best compiled rather than interpreted: each
// elementwise (and copy) kernel's loop and each GEMM's epilogue, with the kernel's expression inlined.
// The interpreter (runtime/program.js) calls them with the kernel's resolved offsets.
import type { Expr, Kernel } from '../../kernel/types.js';
import { epilogueName, epilogueWat } from './wasm-simd.js';

/** A number as an exact JS literal. */
function lit(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return Object.is(v, -0) ? '-0' : String(v);
}

const BIN: Readonly<Record<string, string>> = { add: '+', sub: '-', mul: '*', div: '/' };

/** The expression as JS, with `leaf(i)` for input i and `acc` for the accumulator. Unary functions come from the runtime's UNARY table. */
export function jsExpr(e: Expr, leaf: (i: number) => string): string {
  switch (e.k) {
    case 'in': return leaf(e.i);
    case 'acc': return 'acc';
    case 'const': return lit(e.v);
    case 'un': return `UNARY.${e.fn}(${jsExpr(e.x, leaf)})`;
    case 'bin': return `(${jsExpr(e.a, leaf)} ${BIN[e.fn]} ${jsExpr(e.b, leaf)})`;
  }
}

/** The generated function of one kernel (as source), or `null` when the interpreter needs none. */
export function kernelCode(k: Kernel): string {
  switch (k.kind) {
    case 'elementwise': case 'copy': {
      const n = k.kind === 'copy' ? 1 : k.ins.length;
      const expr = k.kind === 'copy' ? 'M[x0 + j * s0]' : jsExpr(k.expr, (i) => `M[x${i} + j * s${i}]`);
      const decl = Array.from({ length: n }, (_, i) => `i${i} = pl.ins[${i}].rows, s${i} = pl.ins[${i}].s`).join(', ');
      const rows = Array.from({ length: n }, (_, i) => `x${i} = i${i}[r]`).join(', ');
      return [
        `(M, pl, lo, hi) => { // k${k.id} ${k.kind}`,
        `  const n = pl.n, o = pl.out, os = pl.os${decl ? ', ' + decl : ''};`,
        '  for (let r = lo; r < hi; r++) {',
        `    const ro = o[r]${rows ? ', ' + rows : ''};`,
        `    for (let j = 0; j < n; j++) M[ro + j * os] = ${expr};`,
        '  }',
        '}',
      ].join('\n');
    }
    case 'gemm': case 'groupnorm': {
      const n = k.epi.ins.length;
      const decl = Array.from({ length: n }, (_, i) => `R${i} = pl.ins[${i}].rows, c${i} = pl.ins[${i}].cols`).join(', ');
      const rows = Array.from({ length: n }, (_, i) => `x${i} = R${i}[r]`).join(', ');
      const loop = (head: string, outCol: string, leaf: (i: number) => string) => [
        `${head} (let r = r0; r < r1; r++) {`,
        `    const co = C + (r - r0) * ldc - n0, ro = orow[r]${rows ? ', ' + rows : ''};`,
        `    for (let j = n0; j < n1; j++) { const acc = M[co + j]; M[ro + ${outCol}] = ${jsExpr(k.epi.expr, leaf)}; }`,
        '  }',
      ];
      // With the WebAssembly module (W, its exports) and contiguous columns: its vector epilogue, row by row (byte addresses).
      const simd = epilogueWat(k) === null ? [] : [
        '  if (W && pl.dense) {',
        `    const f = W.${epilogueName(k)};`,
        `    for (let r = r0; r < r1; r++) f((C + (r - r0) * ldc) * 4, (orow[r] + n0) * 4, ${Array.from({ length: n }, (_, i) => `(R${i}[r] + n0) * 4, `).join('')}n1 - n0);`,
        '    return;',
        '  }',
      ];
      return [
        `(M, C, pl, r0, r1, n0, n1, ldc, W) => { // k${k.id} ${k.kind} epilogue: C (an offset in M) holds rows r0.. and columns n0.. of the result`,
        `  const orow = pl.out.rows, oc = pl.out.cols${decl ? ', ' + decl : ''};`,
        ...simd,
        // The same arithmetic twice: without the column tables where every column run is contiguous (pl.dense).
        ...loop('  if (pl.dense) for', 'j', (i) => `M[x${i} + j]`),
        ...loop('  else for', 'oc[j]', (i) => `M[x${i} + c${i}[j]]`),
        '}',
      ].join('\n');
    }
    default: return 'null';
  }
}
