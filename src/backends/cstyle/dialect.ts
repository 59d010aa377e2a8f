// The differences between C-like GPU languages (CUDA C++, WGSL), as data. The kernel kinds in this
// folder are written once over a Dialect; a target supplies one Dialect and its own GEMM and
// attention templates. Everything a kernel body needs is spelled through these hooks, so the same
// TypeScript renders `for (int i = 0; ...)` for CUDA and `for (var i: i32 = 0; ...)` for WGSL.
import type { Storage, UnaryFn } from '../../kernel/types.js';

/** Scalar types kernel bodies compute with (storage types are the dialect's business). */
export type Scalar = 'f32' | 'i32';

/** Math functions kernel bodies call on f32 values. */
export type MathFn = 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh' | 'erf' | 'max' | 'min' | 'abs' | 'fma';

/**
 * A buffer a kernel reads or writes, as the kernel sees it: a parameter named `name` holding
 * elements of `dtype`, indexed from the view's first element (the host or the dialect adds the
 * view's offset). `write` marks the output.
 */
export interface Operand {
  readonly name: string;
  readonly dtype: Storage;
  readonly write: boolean;
  /** Which KernelProgram buffer and view it is (for the host's launch code). */
  readonly buf: number;
  readonly offset: import('../../ir/strided.js').Affine;
}

/** How many workgroups run along x: ceil(items / per), capped at the dialect's maxGroups (bodies loop over the rest). */
export interface Grid {
  /** Work items, affine in the batch B. */
  readonly items: import('../../ir/strided.js').Affine;
  /** Items per workgroup. */
  readonly per: number;
}

/** One kernel function, ready for a dialect to wrap with its signature. */
export interface KernelSource {
  readonly name: string;
  /** Parameters in order; the last parameter of every kernel is the batch size B (i32). */
  readonly operands: readonly Operand[];
  /** Threads per workgroup (1-D). */
  readonly workgroup: number;
  readonly grid: Grid;
  /** Workgroup-shared f32 arrays the body uses: name -> element count. */
  readonly shared: readonly { readonly name: string; readonly count: number }[];
  /** Body statements, already in the dialect, one per line (indented by the kernel kind). */
  readonly body: readonly string[];
  /** A one-line description (what the kernel computes) for the comment above it. */
  readonly doc: string;
  /**
   * Registers per thread the kernel may use, where its compiler would otherwise pick too few (cuda:
   * `__launch_bounds__`' blocks per multiprocessor; other dialects have no such knob).
   */
  readonly registers?: number;
}

export interface Dialect {
  readonly name: string;
  /** Scalar type names. */
  readonly types: Readonly<Record<Scalar, string>>;
  /** The largest workgroup count along x (bodies loop when there is more work). */
  readonly maxGroups: number;
  /** The batch size inside kernel bodies (an i32 expression). */
  readonly batch: string;
  /** i32 expressions for the thread's index in its workgroup, the workgroup's index, and the number of workgroups (all along x). */
  readonly localId: string;
  readonly groupId: string;
  readonly numGroups: string;
  /** The workgroup barrier statement. */
  readonly barrier: string;
  /** An f32 literal that round-trips exactly. */
  f32(v: number): string;
  /** An immutable local: `const int r = x;` / `let r: i32 = x;`. */
  let(name: string, type: Scalar, init: string): string;
  /** A mutable local. */
  var(name: string, type: Scalar, init: string): string;
  /** The opening of a counted loop `for (v = from; v < to; v += step) {` (closed by `}`). */
  forOpen(v: string, from: string, to: string, step?: string): string;
  /** i32 -> f32. */
  toF32(x: string): string;
  /** cond ? a : b. */
  select(cond: string, a: string, b: string): string;
  call(fn: MathFn, ...args: string[]): string;
  /** A unary function of the model language (gelu, silu, ...) applied to an f32 expression. */
  unary(fn: UnaryFn, x: string): string;
  /** Element `index` (i32 expression, counted from the view's first element) of an operand, as f32. */
  load(op: Operand, index: string): string;
  /** Store an f32 value to element `index` of an operand (a statement). */
  store(op: Operand, index: string, value: string): string;
  /** Read or write element `index` of a workgroup-shared f32 array. */
  shared(name: string, index: string): string;
  /** The whole kernel function: signature, shared arrays and body. */
  kernel(k: KernelSource): string;
}
