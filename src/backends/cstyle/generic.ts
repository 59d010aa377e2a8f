// Generic kernels: ops that no fused kernel kind covers, each rendered simply by its definition
// (one thread per output element). Today that is a general 2-D convolution (padding, stride, any
// kernel size); patch convolutions are GEMMs and never get here.
import { fail } from '../../diag/diagnostic.js';
import type { AttrsOf, OpName } from '../../ir/ops/index.js';
import { numelA } from '../../ir/strided.js';
import type { GenericKernel, KernelProgram } from '../../kernel/types.js';
import type { Dialect, KernelSource } from './dialect.js';
import { ELEMENTWISE_WORKGROUP, gridLoop, operand } from './elementwise.js';
import { affine, coordinates, offsetOf } from './views.js';

type GenericRenderer = (d: Dialect, p: KernelProgram, k: GenericKernel, name: string) => KernelSource;

function conv2d(d: Dialect, p: KernelProgram, k: GenericKernel, name: string): KernelSource {
  const a = k.attrs as AttrsOf<'conv2d'>;
  const [xv, wv, bv] = k.ins as [GenericKernel['ins'][0], GenericKernel['ins'][0], GenericKernel['ins'][0] | undefined];
  const [, C, H, W] = xv.shape.map((s) => s.c) as [number, number, number, number];
  const [, , KH, KW] = wv.shape.map((s) => s.c) as [number, number, number, number];
  const x = operand(p, 'x', xv), w = operand(p, 'w', wv), out = operand(p, 'out', k.out, true);
  const b = bv && operand(p, 'b', bv);
  const wg = ELEMENTWISE_WORKGROUP;
  const n = numelA(k.out);
  const [cn, co, cy, cx] = coordinates('i', k.out.shape, d.batch);
  const xs = xv.strides, ws = wv.strides;
  const term = (s: GenericKernel['ins'][0]['strides'][0], v: string) => (s.b === 0 && s.c === 1 ? v : `${v} * ${affine(s, d.batch)}`);
  const body = [
    ...gridLoop(d, 'i', affine(n, d.batch), wg),
    `  ${d.let('bn', 'i32', cn!)}`,
    `  ${d.let('o', 'i32', co!)}`,
    `  ${d.let('oy', 'i32', cy!)}`,
    `  ${d.let('ox', 'i32', cx!)}`,
    `  ${d.var('acc', 'f32', b ? d.load(b, term(bv!.strides[0]!, 'o')) : d.f32(0))}`,
    `  ${d.forOpen('c', '0', String(C))}`,
    `    ${d.forOpen('ky', '0', String(KH))}`,
    `      ${d.let('iy', 'i32', `oy * ${a.stride[0]} - ${a.pad[0]} + ky`)}`,
    `      if (iy >= 0 && iy < ${H}) {`,
    `        ${d.forOpen('kx', '0', String(KW))}`,
    `          ${d.let('ix', 'i32', `ox * ${a.stride[1]} - ${a.pad[1]} + kx`)}`,
    `          if (ix >= 0 && ix < ${W}) {`,
    `            acc = ${d.call('fma', d.load(x, [term(xs[0]!, 'bn'), term(xs[1]!, 'c'), term(xs[2]!, 'iy'), term(xs[3]!, 'ix')].join(' + ')), d.load(w, [term(ws[0]!, 'o'), term(ws[1]!, 'c'), term(ws[2]!, 'ky'), term(ws[3]!, 'kx')].join(' + ')), 'acc')};`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    `  ${d.store(out, offsetOf([cn!, co!, cy!, cx!], k.out.strides, d.batch), 'acc')}`,
    '}',
  ];
  return {
    name, operands: [x, w, ...(b ? [b] : []), out], workgroup: wg, grid: { items: n, per: wg }, shared: [], body,
    doc: `direct 2-D convolution, kernel ${KH}x${KW}, stride ${a.stride.join('x')}, padding ${a.pad.join(',')}`,
  };
}

/** Renderers of the ops that may become generic kernels; a new op that can must be added here. */
const GENERIC: Partial<Record<OpName, GenericRenderer>> = { conv2d };

export function genericKernel(d: Dialect, p: KernelProgram, k: GenericKernel, name: string, target: string): KernelSource {
  const r = GENERIC[k.op];
  if (!r) fail(`${target}/op`, `the ${target} target has no kernel for op "${k.op}"`, k.span, `ops it renders as generic kernels: ${Object.keys(GENERIC).join(', ')}`);
  return r(d, p, k, name);
}
