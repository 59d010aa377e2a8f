// WGSL as a Dialect of the C-style base: every kernel is one shader module whose operands are
// windows on three bindings (W: weights, A: the activation arena, IO: the f32 input and output), at
// element offsets the host writes into a uniform slot per kernel. The bindings, the storage type S and
// the math helpers come from the prelude (prelude.ts), which the host prepends at load.
import type { UnaryFn } from '../../kernel/types.js';
import type { KernelProgram } from '../../kernel/types.js';
import type { Dialect, KernelSource, MathFn, Operand } from '../cstyle/index.js';

/** The largest f32 (WGSL has no literal for infinity): stands for ±∞ where a kernel starts a max. */
const F32_MAX = '3.4028234663852886e+38f';

/** An f32 literal that WGSL rounds to the same f32 as the value. */
export function f32Lit(v: number): string {
  if (Number.isNaN(v)) throw new Error('NaN has no WGSL literal');
  if (!Number.isFinite(v)) return v > 0 ? F32_MAX : `-${F32_MAX}`;
  if (Object.is(v, -0)) return '-0.0f';
  return `${String(Math.fround(v))}f`;
}

const MATH: Readonly<Record<MathFn, string>> = {
  exp: 'exp', log: 'log', sqrt: 'sqrt', rsqrt: 'inverseSqrt', tanh: 'vitc_tanh', erf: 'vitc_erf', max: 'max', min: 'min', abs: 'abs', fma: 'fma',
};

/** Which binding a buffer of the program lives in. */
export function spaceOf(p: KernelProgram, buf: number): 'W' | 'A' | 'IO' {
  switch (p.bufs[buf]!.kind) {
    case 'param': case 'const': return 'W';
    case 'temp': return 'A';
    case 'input': case 'output': return 'IO';
  }
}

/** The uniform slot holding value i of a kernel (0 is the batch size, 1.. the operands' offsets). */
export function slot(i: number): string {
  return `P[${i >> 2}].${'xyzw'[i & 3]}`;
}

/**
 * Directives of kernels that use subgroups. Their subgroupBroadcast calls sit in loops whose bounds
 * differ per invocation but never within a subgroup (the work is counted in whole subgroups), which
 * the uniformity analysis cannot see.
 */
export const SUBGROUP_DIRECTIVES: readonly string[] = ['enable subgroups;', 'diagnostic(off, subgroup_uniformity);'];

/** WGSL kernels: the base's KernelSource, plus overrides (tile sizes the host picks at load) for the target's own templates. */
export interface WgslKernelSource extends KernelSource {
  /** `enable` and `diagnostic` directives; the host moves them above the prelude. */
  readonly directives?: readonly string[];
  /** `override` declarations, e.g. `override TILE_M: u32 = 64u;`. */
  readonly overrides?: readonly string[];
  /** The workgroup size attribute's arguments when they are overrides (`WX, WY`); else `workgroup`. */
  readonly workgroupSize?: string;
  /** Workgroup arrays sized by overrides: name -> element count expression. */
  readonly sharedExpr?: readonly { readonly name: string; readonly count: string }[];
}

/** The WGSL dialect for one program (it places each operand in its binding). */
export function wgslDialect(p: KernelProgram): Dialect & { kernel(k: WgslKernelSource): string } {
  const elem = (op: Operand, index: string) => `${spaceOf(p, op.buf)}[o_${op.name} + ${index}]`;
  return {
    name: 'wgsl',
    types: { f32: 'f32', i32: 'i32' },
    maxGroups: 65535,
    batch: 'B',
    localId: 'lid',
    groupId: 'gid',
    numGroups: 'ngroups',
    barrier: 'workgroupBarrier();',
    f32: f32Lit,
    let: (name, type, init) => `let ${name}: ${type} = ${init};`,
    var: (name, type, init) => `var ${name}: ${type} = ${init};`,
    forOpen: (v, from, to, step) => `for (var ${v}: i32 = ${from}; ${v} < ${to}; ${v} += ${step ?? '1'}) {`,
    toF32: (x) => `f32(${x})`,
    select: (c, a, b) => `select(${b}, ${a}, ${c})`,
    call: (fn, ...args) => `${MATH[fn]}(${args.join(', ')})`,
    unary: (fn: UnaryFn, x) => `vitc_${fn}(${x})`,
    load: (op, index) => (spaceOf(p, op.buf) === 'IO' ? elem(op, index) : `f32(${elem(op, index)})`),
    store: (op, index, value) => {
      const space = spaceOf(p, op.buf);
      if (space === 'W') throw new Error(`kernel writes the weights buffer (operand ${op.name})`);
      return `${elem(op, index)} = ${space === 'IO' ? value : `st(${value})`};`;
    },
    shared: (name, index) => `${name}[${index}]`,
    kernel: (k: WgslKernelSource) => [
      ...(k.directives ?? []),
      `// ${k.doc}`,
      ...(k.overrides ?? []),
      ...k.shared.map((s) => `var<workgroup> ${s.name}: array<f32, ${s.count}>;`),
      ...(k.sharedExpr ?? []).map((s) => `var<workgroup> ${s.name}: array<f32, ${s.count}>;`),
      `@compute @workgroup_size(${k.workgroupSize ?? k.workgroup})`,
      'fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
      `  let B: i32 = ${slot(0)};`,
      ...k.operands.map((o, i) => `  let o_${o.name}: i32 = ${slot(i + 1)};`),
      '  let lid: i32 = i32(li);',
      '  let gid: i32 = i32(wid.x);',
      '  let ngroups: i32 = i32(nwg.x);',
      ...k.body.map((l) => `  ${l}`),
      '}',
      '',
    ].join('\n'),
  };
}
