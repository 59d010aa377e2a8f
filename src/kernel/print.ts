// A readable, deterministic text form of a KernelProgram (what `--dump-kernels` prints): the policy,
// the arena, every buffer, then one block per kernel with its views, epilogue and covered IR nodes.
import { fmtNum } from '../ir/op.js';
import { fmtA, fmtStrided } from '../ir/strided.js';
import { formatSpan } from '../diag/diagnostic.js';
import type { Expr, Kernel, KernelProgram, View } from './types.js';

const SYM: Readonly<Record<string, string>> = { add: '+', sub: '-', mul: '*', div: '/' };

export function fmtExpr(e: Expr): string {
  switch (e.k) {
    case 'in': return `in${e.i}`;
    case 'acc': return 'acc';
    case 'const': return fmtNum(e.v);
    case 'un': return `${e.fn}(${fmtExpr(e.x)})`;
    case 'bin': return `(${fmtExpr(e.a)} ${SYM[e.fn]} ${fmtExpr(e.b)})`;
  }
}

const view = (v: View) => `#${v.buf} ${fmtStrided(v)}`;

function operands(k: Kernel): [string, View | undefined][] {
  switch (k.kind) {
    case 'gemm': return [['a', k.a], ['b', k.b], ['ln.w', k.ln?.w], ['ln.b', k.ln?.b], ...k.epi.ins.map((v, i) => [`in${i}`, v] as [string, View])];
    case 'attention': return [['q', k.q], ['k', k.k], ['v', k.v]];
    case 'layernorm': return [['x', k.x], ['w', k.w], ['b', k.b]];
    case 'groupnorm': return [['x', k.x], ['w', k.w], ['b', k.b], ...k.epi.ins.map((v, i) => [`in${i}`, v] as [string, View])];
    case 'im2col': return [['x', k.x]];
    case 'softmax': case 'reduce': case 'copy': return [['x', k.x]];
    case 'elementwise': case 'generic': return k.ins.map((v, i) => [`in${i}`, v]);
  }
}

function headline(k: Kernel): string {
  switch (k.kind) {
    case 'gemm': return `gemm g=${k.rank.g} m=${k.rank.m} k=${k.rank.k} n=${k.rank.n}${k.ln ? ` ln(eps=${fmtNum(k.ln.eps)})` : ''} epi=${fmtExpr(k.epi.expr)}`;
    case 'attention': return `attention scale=${fmtNum(k.scale)}`;
    case 'layernorm': return `layernorm eps=${fmtNum(k.eps)}`;
    case 'groupnorm': return `groupnorm groups=${k.groups} eps=${fmtNum(k.eps)} epi=${fmtExpr(k.epi.expr)}`;
    case 'im2col': return `im2col kernel=[${k.kernel.join(',')}] stride=[${k.stride.join(',')}] pad=[${k.pad.join(',')}] dilation=[${k.dilation.join(',')}]`;
    case 'softmax': return `softmax axis=${k.axis}`;
    case 'reduce': return `reduce ${k.op} axes=[${k.axes.join(',')}]`;
    case 'elementwise': return `elementwise ${fmtExpr(k.expr)}`;
    case 'copy': return 'copy';
    case 'generic': return `generic ${k.op}`;
  }
}

export function printKernels(p: KernelProgram): string {
  const pol = p.precision;
  const lines = [
    `kernels "${p.name}" (${pol.name}: storage ${pol.storage}, math ${pol.math}, accumulate ${pol.accumulate})`,
    `arena ${fmtA({ b: p.arena.perSample, c: p.arena.fixed })} bytes, offsets aligned to ${p.arena.align}`,
    'buffers:',
    ...p.bufs.map((b) => `  #${b.id} ${b.kind} ${JSON.stringify(b.name)} ${b.dtype}[${b.shape.map(fmtA).join(',')}]${b.offset ? ` @${fmtA(b.offset)}` : ''}`),
  ];
  for (const k of p.kernels) {
    lines.push(`k${k.id} ${headline(k)}  # ${[k.scope, k.span ? formatSpan(k.span) : ''].filter(Boolean).join(' @ ') || '-'}; covers ${k.covers.map((c) => `%${c}`).join(',') || '-'}`);
    for (const [name, v] of operands(k)) if (v) lines.push(`    ${name.padEnd(4)} ${view(v)}`);
    lines.push(`    out  ${view(k.out)}`);
  }
  return lines.join('\n') + '\n';
}
