// Offsets of a group of a view's dims (a GEMM's m rows, k columns, g groups...) for a flat index
// over them, and the alignment facts the vectorized loaders need.
import { prodA, type Affine } from '../../ir/strided.js';
import type { View } from '../../kernel/types.js';
import { coordinates, mergeDims, offsetOf } from '../cstyle/index.js';

/** Dims [from, to) of a view, merged: `at(x)` is the element offset of flat index x over them. */
export interface DimGroup {
  readonly size: Affine;
  readonly shape: readonly Affine[];
  readonly strides: readonly Affine[];
  at(x: string): string;
}

export function dimGroup(v: View, from: number, to: number): DimGroup {
  const m = mergeDims(v.shape.slice(from, to), [v.strides.slice(from, to)]);
  const shape = m.shape, strides = m.strides[0]!;
  return { size: prodA(v.shape.slice(from, to)), shape, strides, at: (x) => offsetOf(coordinates(x, shape, 'B'), strides, 'B') };
}

const divides = (a: Affine, v: number) => a.b % v === 0 && a.c % v === 0;

/**
 * Whether chunks of `vec` consecutive elements along the innermost dim of `inner` are contiguous and
 * `vec`-aligned for every index of the other groups (so one 16-byte copy moves a chunk).
 */
export function vectorizable(v: View, inner: DimGroup, others: readonly DimGroup[], vec: number): boolean {
  const n = inner.shape.length;
  if (n === 0) return false;
  const last = inner.shape[n - 1]!, lastStride = inner.strides[n - 1]!;
  if (last.b !== 0 || last.c % vec !== 0 || lastStride.b !== 0 || lastStride.c !== 1) return false;
  if (!inner.strides.slice(0, -1).every((s) => divides(s, vec))) return false;
  return others.every((g) => g.strides.every((s) => divides(s, vec))) && divides(v.offset, vec);
}

/** A static size (K, N, T, d...): refuses a batch-dependent one. */
export function staticSize(a: Affine, what: string): number {
  if (a.b !== 0) throw new Error(`${what} depends on the batch size`);
  return a.c;
}
