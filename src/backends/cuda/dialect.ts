// CUDA C++ as a Dialect of the C-style base: the spellings, and the kernel signature.
import type { Storage, UnaryFn } from '../../kernel/types.js';
import type { Dialect, KernelSource, MathFn, Operand } from '../cstyle/index.js';

export const CTYPE: Readonly<Record<Storage, string>> = { f32: 'float', f16: '__half', bf16: '__nv_bfloat16' };

/** A float literal that the C++ compiler rounds to the same float as the value. */
export function floatLit(v: number): string {
  if (Number.isNaN(v)) return 'NAN';
  if (!Number.isFinite(v)) return v > 0 ? 'INFINITY' : '-INFINITY';
  if (Object.is(v, -0)) return '-0.0f';
  const s = String(v);
  return `${/[.e]/.test(s) ? s : `${s}.0`}f`;
}

const MATH: Readonly<Record<MathFn, string>> = {
  exp: 'expf', log: 'logf', sqrt: 'sqrtf', rsqrt: 'rsqrtf', tanh: 'tanhf', erf: 'erff', max: 'fmaxf', min: 'fminf', abs: 'fabsf', fma: 'fmaf',
};

/** Storage element -> float. */
export function loadAs(dtype: Storage, elem: string): string {
  switch (dtype) {
    case 'f32': return elem;
    case 'f16': return `__half2float(${elem})`;
    case 'bf16': return `__bfloat162float(${elem})`;
  }
}

/** float -> storage element. */
export function storeAs(dtype: Storage, v: string): string {
  switch (dtype) {
    case 'f32': return v;
    case 'f16': return `__float2half_rn(${v})`;
    case 'bf16': return `__float2bfloat16_rn(${v})`;
  }
}

/** A kernel parameter: `const __half* __restrict__ a`. */
export function param(op: Operand, restrict: boolean): string {
  return `${op.write ? '' : 'const '}${CTYPE[op.dtype]}* ${restrict ? '__restrict__ ' : ''}${op.name}`;
}

/**
 * Whether two operands may share memory: the same buffer, or activations the memory plan placed at
 * the same arena offset (an in-place epilogue). Such operands are not declared __restrict__.
 */
export function mayAlias(a: Operand, b: Operand, temps: ReadonlySet<number>, offsetOf: (buf: number) => string): boolean {
  if (a.buf === b.buf) return true;
  return temps.has(a.buf) && temps.has(b.buf) && offsetOf(a.buf) === offsetOf(b.buf);
}

/** The CUDA dialect; `aliases` tells whether two operands of a kernel may share memory (then neither is __restrict__). */
export function cudaDialect(aliases: (a: Operand, b: Operand) => boolean): Dialect {
  const restrict = (o: Operand, all: readonly Operand[]) => !all.some((x) => x !== o && aliases(o, x));
  return {
    name: 'cuda',
    types: { f32: 'float', i32: 'int' },
    maxGroups: 65535 * 8,
    batch: 'B',
    localId: '(int)threadIdx.x',
    groupId: '(int)blockIdx.x',
    numGroups: '(int)gridDim.x',
    barrier: '__syncthreads();',
    f32: floatLit,
    let: (name, type, init) => `const ${type === 'f32' ? 'float' : 'int'} ${name} = ${init};`,
    var: (name, type, init) => `${type === 'f32' ? 'float' : 'int'} ${name} = ${init};`,
    forOpen: (v, from, to, step) => `for (int ${v} = ${from}; ${v} < ${to}; ${step ? `${v} += ${step}` : `++${v}`}) {`,
    toF32: (x) => `(float)(${x})`,
    select: (c, a, b) => `((${c}) ? (${a}) : (${b}))`,
    call: (fn, ...args) => `${MATH[fn]}(${args.join(', ')})`,
    unary: (fn: UnaryFn, x) => `vitc_${fn}(${x})`,
    load: (op, index) => loadAs(op.dtype, `${op.name}[${index}]`),
    store: (op, index, value) => `${op.name}[${index}] = ${storeAs(op.dtype, value)};`,
    shared: (name, index) => `${name}[${index}]`,
    kernel: (k: KernelSource) => [
      `__global__ void __launch_bounds__(${launchBounds(k)}) ${k.name}(${[...k.operands.map((o) => param(o, restrict(o, k.operands))), 'int B'].join(', ')}) {`,
      ...k.shared.map((s) => `  __shared__ float ${s.name}[${s.count}];`),
      ...k.body.map((l) => `  ${l}`),
      '}',
    ].join('\n'),
  };
}

/**
 * `__launch_bounds__`' arguments: the threads per block, and with a register budget, the blocks per
 * multiprocessor that leave each thread that many of the 64K registers (at most 32, what sm_80 and
 * sm_90 keep resident).
 */
export function launchBounds(k: Pick<KernelSource, 'workgroup' | 'registers'>): string {
  if (k.registers === undefined) return String(k.workgroup);
  return `${k.workgroup}, ${Math.max(1, Math.min(32, Math.floor(65536 / (k.registers * k.workgroup))))}`;
}
