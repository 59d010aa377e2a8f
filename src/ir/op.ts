// The shape of an op declaration. Each op is declared once (in ops/): its kind, arity, shape rule,
// cost, attribute formatting and, for composite ops, its decomposition into primitives.
import type { Shape, TensorType } from './types.js';
import type { GraphBuilder, Value } from './builder.js';
import type { Strided } from './strided.js';

export type OpKind =
  /** Graph sources: inputs, parameters, constants. */
  | 'source'
  /** The closed catalog every backend implements. */
  | 'primitive'
  /** Created by fusion passes (or, for weight transforms, by builtins); every one has a decomposition into primitives. */
  | 'composite';

/**
 * How an op fuses (TVM's classes): the kernel layer decides fusion from these, never from model
 * shapes. elementwise: one output element from the same element of one input; broadcast: the same
 * with numpy broadcasting of several inputs; injective: a pure data movement (a view when possible);
 * reduction: reduces along axes; out-elementwise-fusable: a contraction whose output can absorb an
 * elementwise epilogue (GEMM, convolution); opaque: none of these (its own kernel).
 */
export type FusionClass = 'source' | 'elementwise' | 'broadcast' | 'injective' | 'reduction' | 'out-elementwise-fusable' | 'opaque';

export interface OpDecl<A extends object> {
  readonly name: string;
  readonly kind: OpKind;
  /** Exact number of arguments, or [min, max]. */
  readonly arity: number | readonly [number, number];
  /** One line of documentation (shown by `--dump-ir` legends and docs). */
  readonly doc: string;
  /** The result type; throws ShapeError with a user-readable message on bad input. */
  infer(args: readonly TensorType[], attrs: A): TensorType;
  /** Multiply-accumulates at batch size 1 (matmul-like ops and convolutions only). */
  macs?(args: readonly Shape[], attrs: A, out: Shape): number;
  /** Attributes as printed in IR dumps. */
  formatAttrs?(attrs: A): string;
  /** Composite ops only: the same computation in primitives. */
  decompose?(b: GraphBuilder, args: readonly Value[], attrs: A): Value;
  readonly fusion: FusionClass;
  /** Binary ops whose operands commute (pattern matching tries both orders). */
  readonly commutative?: boolean;
  /**
   * Injective ops: the output as a strided layout of the input's (no data moves), or undefined when
   * no strided layout expresses it (then the kernel layer copies).
   */
  view?(x: Strided, attrs: A, inShape: Shape, outShape: Shape): Strided | undefined;
  /** Invertible injective ops: the input's layout that makes the output land on `out` (write-through). */
  inverseView?(out: Strided, attrs: A, inShape: Shape, outShape: Shape): Strided | undefined;
}

export function defineOp<A extends object>(decl: OpDecl<A>): OpDecl<A> {
  return decl;
}

/** Format a plain attribute object as `k=v k=v` (arrays as [a,b]). */
export function formatPlainAttrs(attrs: object): string {
  return Object.entries(attrs)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : typeof v === 'number' ? fmtNum(v) : String(v)}`)
    .join(' ');
}

/** Shortest exact text of a float (deterministic). */
export function fmtNum(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}
