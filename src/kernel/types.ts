// KernelProgram: the second IR level, below the graph. A planned, target-independent program of
// fused kernels over strided views of a few buffers, with one memory plan and one precision policy.
// The js, cuda and wgsl targets render it; none of them plans again.
import type { Span } from '../diag/diagnostic.js';
import type { AttrsOf, OpName } from '../ir/ops/index.js';
import type { Affine, Strided } from '../ir/strided.js';

/** Element types of storage. Accumulation and normalization statistics are always f32. */
export type Storage = 'f32' | 'f16' | 'bf16';

export const STORAGE_BYTES: Readonly<Record<Storage, number>> = { f32: 4, f16: 2, bf16: 2 };

/**
 * input/output: the model's input and output, owned by the caller (always f32);
 * param: a weight, bound by its state-dict name; const: data fixed at build time;
 * temp: an activation, placed in the arena by the memory plan.
 */
export type BufKind = 'input' | 'output' | 'param' | 'const' | 'temp';

export interface Buf {
  readonly id: number;
  readonly kind: BufKind;
  /** Input or output name, state-dict name, const label, or `t<id>` for temps. */
  readonly name: string;
  readonly dtype: Storage;
  /** The logical shape of the tensor the buffer was made for (its size is this shape's element count). */
  readonly shape: readonly Affine[];
  /** Element count. */
  readonly size: Affine;
  /** const only: the values (f32). */
  readonly data?: readonly number[];
  /** temp only: the byte offset in the arena, set by the memory plan. */
  readonly offset?: Affine;
}

/** A tensor as a strided window on a buffer. Offsets and strides count elements of the buffer's dtype. */
export interface View extends Strided {
  readonly buf: number;
}

export type UnaryFn = 'gelu' | 'gelu_tanh' | 'relu' | 'silu' | 'sigmoid' | 'tanh' | 'exp' | 'log' | 'sqrt' | 'neg';
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div';
export const UNARY_FNS: readonly UnaryFn[] = ['gelu', 'gelu_tanh', 'relu', 'silu', 'sigmoid', 'tanh', 'exp', 'log', 'sqrt', 'neg'];
export const BINARY_FNS: readonly BinaryFn[] = ['add', 'sub', 'mul', 'div'];

/** An elementwise expression tree whose leaves are `Leaf` reads, a GEMM's accumulator and constants. */
export type ExprOver<Leaf> =
  | Leaf
  | { readonly k: 'acc' }
  | { readonly k: 'const'; readonly v: number }
  | { readonly k: 'un'; readonly fn: UnaryFn; readonly x: ExprOver<Leaf> }
  | { readonly k: 'bin'; readonly fn: BinaryFn; readonly a: ExprOver<Leaf>; readonly b: ExprOver<Leaf> };

/**
 * An elementwise computation at one output index: `in` reads input view i there (inputs are
 * broadcast to the output's shape by their views), `acc` is a GEMM's accumulator (epilogues only).
 */
export type Expr = ExprOver<{ readonly k: 'in'; readonly i: number }>;

/** An elementwise function of the kernel's result: expr over `acc` and the input views `ins` (each shaped like `out`). */
export interface Epilogue {
  readonly expr: Expr;
  readonly ins: readonly View[];
}

interface Base {
  readonly id: number;
  /** Where the result goes. */
  readonly out: View;
  /** The graph nodes (ids after the pass pipeline) this kernel computes: its reference is their decomposition. */
  readonly covers: readonly number[];
  /** The spec scope (timm module path) of the kernel's main node. */
  readonly scope: string;
  readonly span?: Span;
}

/**
 * out[g, m, n] = epi( Σ_k A[g, m, k] · Bm[g, k, n] ), with index groups of several dims each:
 * a is [...g, ...m, ...k], b is [...g, ...k, ...n] and out (and every epilogue input) is [...g, ...m, ...n],
 * with `rank` giving each group's number of dims. With `ln`, A's rows are LayerNorm-ed over k first
 * (mean and variance in f32): the LayerNorm is the GEMM's prologue.
 */
export interface GemmKernel extends Base {
  readonly kind: 'gemm';
  readonly a: View;
  readonly b: View;
  readonly rank: { readonly g: number; readonly m: number; readonly k: number; readonly n: number };
  readonly ln?: { readonly eps: number; readonly w?: View; readonly b?: View };
  readonly epi: Epilogue;
}

/** softmax(q kᵀ · scale) v per group: q [...G, T, d], k [...G, S, d], v [...G, S, dv], out [...G, T, dv]. */
export interface AttentionKernel extends Base {
  readonly kind: 'attention';
  readonly q: View;
  readonly k: View;
  readonly v: View;
  readonly scale: number;
}

/** LayerNorm over the last dim (f32 statistics, biased variance), with optional affine weight and bias. */
export interface LayerNormKernel extends Base {
  readonly kind: 'layernorm';
  readonly x: View;
  readonly w?: View;
  readonly b?: View;
  readonly eps: number;
}

/**
 * GroupNorm of x [N, C, ...] (f32 statistics over each group's channels and positions, biased
 * variance), a per-channel affine, then an epilogue over `acc` (the normalized value) shaped like out:
 * GroupNorm + ReLU (+ residual) is one kernel.
 */
export interface GroupNormKernel extends Base {
  readonly kind: 'groupnorm';
  readonly x: View;
  readonly w?: View;
  readonly b?: View;
  readonly groups: number;
  readonly eps: number;
  readonly epi: Epilogue;
}

/**
 * The patches of a convolution: out[n, oy, ox, (c, ky, kx)] = x[n, c, oy·sy - pt + ky·dy, ox·sx - pl + kx·dx],
 * zero outside the image. x is [N, C, H, W]; out is [N, OH, OW, C, kh, kw]; a GEMM then multiplies it.
 */
export interface Im2colKernel extends Base {
  readonly kind: 'im2col';
  readonly x: View;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pad: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
}

/** Softmax along one axis (f32 max and sum). */
export interface SoftmaxKernel extends Base {
  readonly kind: 'softmax';
  readonly x: View;
  readonly axis: number;
}

/** Mean over axes of x; out has x's shape without them (keepdim folded into the out view). */
export interface ReduceKernel extends Base {
  readonly kind: 'reduce';
  readonly op: 'mean';
  readonly x: View;
  readonly axes: readonly number[];
}

/** Any chain or tree of unary and binary ops, inputs broadcast to out by their views. */
export interface ElementwiseKernel extends Base {
  readonly kind: 'elementwise';
  readonly ins: readonly View[];
  readonly expr: Expr;
}

/** out = x, elementwise over the same shape: the one data movement a view could not express. */
export interface CopyKernel extends Base {
  readonly kind: 'copy';
  readonly x: View;
}

/** Any other op, run by its reference semantics over its input views (the fallback: every graph compiles). */
export interface GenericKernel extends Base {
  readonly kind: 'generic';
  readonly op: OpName;
  readonly attrs: AttrsOf<OpName>;
  readonly ins: readonly View[];
}

export type Kernel = GemmKernel | AttentionKernel | LayerNormKernel | GroupNormKernel | SoftmaxKernel | ReduceKernel | ElementwiseKernel | CopyKernel | Im2colKernel | GenericKernel;
export type KernelKind = Kernel['kind'];

/** What is stored in which format, and how GEMMs multiply. Decided once (precision.ts), read by every renderer. */
export interface PrecisionPolicy {
  /** The build's --precision. */
  readonly name: 'fp32' | 'tf32' | 'fp16' | 'bf16';
  /** Storage of weights, constants and activations (input and output stay f32). */
  readonly storage: Storage;
  /** GEMM and attention operand math: f32 FMA, TF32 tensor cores, or f16/bf16 tensor cores. */
  readonly math: 'f32' | 'tf32' | 'f16' | 'bf16';
  /** Always f32: accumulation, LayerNorm and softmax statistics. */
  readonly accumulate: 'f32';
}

export interface Arena {
  /** Bytes per batch item: the arena holds B·perSample + fixed bytes. */
  readonly perSample: number;
  readonly fixed: number;
  /** Every temp offset is a multiple of this many bytes. */
  readonly align: number;
}

export interface KernelProgram {
  readonly name: string;
  readonly precision: PrecisionPolicy;
  readonly bufs: readonly Buf[];
  readonly kernels: readonly Kernel[];
  readonly inputs: readonly number[];
  readonly outputs: readonly { readonly name: string; readonly buf: number }[];
  readonly arena: Arena;
}
