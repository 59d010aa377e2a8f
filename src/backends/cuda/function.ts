// What the CUDA renderer makes of one kernel: __global__ functions (text with a placeholder name,
// deduplicated later), their parameters, and how the host launches them at batch B.
import type { Affine } from '../../ir/strided.js';
import type { Operand } from '../cstyle/index.js';

/** A GEMM's weight matrix, repacked at load into [N][Kp] rows (k contiguous, zero-padded to Kp). */
export interface Pack {
  readonly buf: number;
  readonly K: number;
  readonly N: number;
  readonly Kp: number;
  /** The weight view's k dims and n dims (static): element (k, n) is at offset + k-offset + n-offset. */
  readonly kShape: readonly number[];
  readonly kStrides: readonly number[];
  readonly nShape: readonly number[];
  readonly nStrides: readonly number[];
  readonly offset: number;
}

export function packKey(p: Pack): string {
  return JSON.stringify([p.buf, p.K, p.N, p.Kp, p.kShape, p.kStrides, p.nShape, p.nStrides, p.offset]);
}

export interface CudaOperand extends Operand {
  /** Set when the operand is a repacked weight: the pointer is its packed copy, not the buffer. */
  readonly pack?: Pack;
}

/** Workgroups along one grid axis: ceil(items / per), at most cap. */
export interface GridAxis {
  readonly items: Affine;
  readonly per: number;
  readonly cap?: number;
}

export interface CudaFunction {
  /** Name prefix (gemm, attention, layernorm, ...). */
  readonly prefix: string;
  /** The __global__ function with NAME_PLACEHOLDER as its name. */
  readonly text: string;
  readonly operands: readonly CudaOperand[];
  readonly threads: number;
  readonly grid: readonly [GridAxis, GridAxis, GridAxis];
  /** Shared memory per block in bytes (static), for the report and the 48 KB check. */
  readonly smem: number;
}

/** How a kernel is launched: one function, or a large-tile and a small-tile variant chosen at launch. */
export type KernelPlan =
  | { readonly kind: 'one'; readonly fn: CudaFunction }
  | { readonly kind: 'tiles'; readonly large: CudaFunction; readonly small: CudaFunction };

export const ONE_GROUP: GridAxis = { items: { b: 0, c: 1 }, per: 1 };
