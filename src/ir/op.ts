// The shape of an op declaration. Each op is declared once (in ops/): its kind, arity, shape rule,
// cost, attribute formatting and, for composite ops, its decomposition into primitives.
import type { Shape, TensorType } from './types.js';
import type { GraphBuilder, Value } from './builder.js';

export type OpKind =
  /** Graph sources: inputs, parameters, constants. */
  | 'source'
  /** The closed catalog every backend implements. */
  | 'primitive'
  /** Created by fusion passes; every one has a decomposition into primitives. */
  | 'composite';

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
