// Generic kernels: ops that no fused kernel kind covers, each rendered simply by its definition:
// the general 2-D convolution (stride, dilation, groups, asymmetric padding; patch convolutions are
// GEMMs and never get here) and max pooling, one thread per output element; GroupNorm, a workgroup
// per (image, group) like LayerNorm (norm.ts).
import { fail } from '../../diag/diagnostic.js';
import type { AttrsOf, OpName } from '../../ir/ops/index.js';
import { numelA } from '../../ir/strided.js';
import type { GenericKernel, KernelProgram } from '../../kernel/types.js';
import type { Dialect, KernelSource } from './dialect.js';
import { ELEMENTWISE_WORKGROUP, gridLoop, operand } from './elementwise.js';
import { groupnormKernel } from './norm.js';
import { affine, coordinates, offsetOf } from './views.js';

type GenericRenderer = (d: Dialect, p: KernelProgram, k: GenericKernel, name: string) => KernelSource;

type Ins = GenericKernel['ins'];
const term = (d: Dialect, s: Ins[0]['strides'][0], v: string) => (s.b === 0 && s.c === 0 ? '' : s.b === 0 && s.c === 1 ? v : `${v} * ${affine(s, d.batch)}`);
const sum = (...xs: string[]) => xs.filter(Boolean).join(' + ') || '0';

/** One thread per output element (n, o, oy, ox) of an NCHW op: the shared head of conv2d and maxpool2d. */
function spatialHead(d: Dialect, k: GenericKernel, wg: number): { body: string[]; n: ReturnType<typeof numelA> } {
  const n = numelA(k.out);
  const [cn, co, cy, cx] = coordinates('i', k.out.shape, d.batch);
  return {
    n,
    body: [
      ...gridLoop(d, 'i', affine(n, d.batch), wg),
      `  ${d.let('bn', 'i32', cn!)}`,
      `  ${d.let('o', 'i32', co!)}`,
      `  ${d.let('oy', 'i32', cy!)}`,
      `  ${d.let('ox', 'i32', cx!)}`,
    ],
  };
}

/** A general 2-D convolution: stride, dilation, groups, asymmetric zero padding. */
function conv2d(d: Dialect, p: KernelProgram, k: GenericKernel, name: string): KernelSource {
  const a = k.attrs as AttrsOf<'conv2d'>;
  const [xv, wv, bv] = k.ins as [Ins[0], Ins[0], Ins[0] | undefined];
  const [, C, H, W] = xv.shape.map((s) => s.c) as [number, number, number, number];
  const [O, Cg, KH, KW] = wv.shape.map((s) => s.c) as [number, number, number, number];
  const Og = O / a.groups;
  const x = operand(p, 'x', xv), w = operand(p, 'w', wv), out = operand(p, 'out', k.out, true);
  const b = bv && operand(p, 'b', bv);
  const wg = ELEMENTWISE_WORKGROUP;
  const head = spatialHead(d, k, wg);
  const xs = xv.strides, ws = wv.strides;
  const body = [
    ...head.body,
    `  ${d.let('c0', 'i32', a.groups === 1 ? '0' : `(o / ${Og}) * ${Cg}`)}`,
    `  ${d.var('acc', 'f32', b ? d.load(b, sum(term(d, bv!.strides[0]!, 'o'))) : d.f32(0))}`,
    `  ${d.forOpen('c', '0', String(Cg))}`,
    `    ${d.forOpen('ky', '0', String(KH))}`,
    `      ${d.let('iy', 'i32', `oy * ${a.stride[0]} - ${a.pad[0]} + ky * ${a.dilation[0]}`)}`,
    `      if (iy >= 0 && iy < ${H}) {`,
    `        ${d.forOpen('kx', '0', String(KW))}`,
    `          ${d.let('ix', 'i32', `ox * ${a.stride[1]} - ${a.pad[1]} + kx * ${a.dilation[1]}`)}`,
    `          if (ix >= 0 && ix < ${W}) {`,
    `            acc = ${d.call('fma', d.load(x, sum(term(d, xs[0]!, 'bn'), term(d, xs[1]!, '(c0 + c)'), term(d, xs[2]!, 'iy'), term(d, xs[3]!, 'ix'))), d.load(w, sum(term(d, ws[0]!, 'o'), term(d, ws[1]!, 'c'), term(d, ws[2]!, 'ky'), term(d, ws[3]!, 'kx'))), 'acc')};`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    `  ${d.store(out, offsetOf(coordinates('i', k.out.shape, d.batch), k.out.strides, d.batch), 'acc')}`,
    '}',
  ];
  return {
    name, operands: [x, w, ...(b ? [b] : []), out], workgroup: wg, grid: { items: head.n, per: wg }, shared: [], body,
    doc: `direct 2-D convolution of ${C} channels, kernel ${KH}x${KW}, stride ${a.stride.join('x')}, dilation ${a.dilation.join('x')}, groups ${a.groups}, padding ${a.pad.join(',')}`,
  };
}

/** Max pooling; padded positions never win. */
function maxpool2d(d: Dialect, p: KernelProgram, k: GenericKernel, name: string): KernelSource {
  const a = k.attrs as AttrsOf<'maxpool2d'>;
  const xv = k.ins[0]!;
  const [, , H, W] = xv.shape.map((s) => s.c) as [number, number, number, number];
  const x = operand(p, 'x', xv), out = operand(p, 'out', k.out, true);
  const wg = ELEMENTWISE_WORKGROUP;
  const head = spatialHead(d, k, wg);
  const xs = xv.strides;
  const body = [
    ...head.body,
    `  ${d.var('m', 'f32', d.f32(-Infinity))}`,
    `  ${d.forOpen('ky', '0', String(a.kernel[0]))}`,
    `    ${d.let('iy', 'i32', `oy * ${a.stride[0]} - ${a.pad[0]} + ky`)}`,
    `    if (iy >= 0 && iy < ${H}) {`,
    `      ${d.forOpen('kx', '0', String(a.kernel[1]))}`,
    `        ${d.let('ix', 'i32', `ox * ${a.stride[1]} - ${a.pad[1]} + kx`)}`,
    `        if (ix >= 0 && ix < ${W}) { m = ${d.call('max', 'm', d.load(x, sum(term(d, xs[0]!, 'bn'), term(d, xs[1]!, 'o'), term(d, xs[2]!, 'iy'), term(d, xs[3]!, 'ix'))))}; }`,
    '      }',
    '    }',
    '  }',
    `  ${d.store(out, offsetOf(coordinates('i', k.out.shape, d.batch), k.out.strides, d.batch), 'm')}`,
    '}',
  ];
  return {
    name, operands: [x, out], workgroup: wg, grid: { items: head.n, per: wg }, shared: [], body,
    doc: `max pooling, kernel ${a.kernel.join('x')}, stride ${a.stride.join('x')}, padding ${a.pad.join(',')} (never winning)`,
  };
}

/** Renderers of the ops that may become generic kernels; a new op that can must be added here. */
const GENERIC: Partial<Record<OpName, GenericRenderer>> = { conv2d, maxpool2d, groupnorm: groupnormKernel };

export function genericKernel(d: Dialect, p: KernelProgram, k: GenericKernel, name: string, target: string): KernelSource {
  const r = GENERIC[k.op];
  if (!r) fail(`${target}/op`, `the ${target} target has no kernel for op "${k.op}"`, k.span, `ops it renders as generic kernels: ${Object.keys(GENERIC).join(', ')}`);
  return r(d, p, k, name);
}
