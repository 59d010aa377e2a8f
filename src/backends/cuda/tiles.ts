// GEMM tile shapes, chosen per GEMM shape and precision. Where the row count grows with the batch,
// a GEMM gets a large-tile variant (throughput at large batch) and a small-tile one (enough blocks
// to fill the GPU at batch 1); the host picks one per launch from the block count and the number of
// multiprocessors.
import type { PrecisionPolicy } from '../../kernel/types.js';

export type GemmMath = 'f32' | 'tf32' | 'f16' | 'bf16';

export interface Tile {
  readonly name: string;
  readonly BM: number;
  readonly BN: number;
  readonly BK: number;
  /** Warps along m and n (tensor-core tiles), or the thread grid's per-thread tile (SIMT). */
  readonly WM: number;
  readonly WN: number;
  readonly threads: number;
}

/** SIMT f32: threads in a (BM/TM) x (BN/TN) grid, each computing TM x TN outputs; WM = TM, WN = TN. */
const SIMT_L: Tile = { name: 'l', BM: 128, BN: 128, BK: 16, WM: 8, WN: 8, threads: 256 };
const SIMT_S: Tile = { name: 's', BM: 64, BN: 64, BK: 16, WM: 4, WN: 4, threads: 256 };

/** mma.sync: WM x WN warps, each owning (BM/WM) x (BN/WN) outputs. */
const MMA16_L: Tile = { name: 'l', BM: 128, BN: 128, BK: 32, WM: 2, WN: 4, threads: 256 };
const MMA16_M: Tile = { name: 'l', BM: 128, BN: 64, BK: 32, WM: 2, WN: 2, threads: 128 };
const MMA16_S: Tile = { name: 's', BM: 64, BN: 64, BK: 32, WM: 2, WN: 2, threads: 128 };
const TF32_L: Tile = { name: 'l', BM: 128, BN: 128, BK: 16, WM: 2, WN: 4, threads: 256 };
const TF32_M: Tile = { name: 'l', BM: 128, BN: 64, BK: 16, WM: 2, WN: 2, threads: 128 };
const TF32_S: Tile = { name: 's', BM: 64, BN: 64, BK: 16, WM: 2, WN: 2, threads: 128 };

export function gemmMath(p: PrecisionPolicy): GemmMath {
  return p.math;
}

/**
 * Tiles for a GEMM with N columns whose row count does (`batched`) or does not grow with the batch:
 * [large, small] or a single tile.
 */
export function gemmTiles(math: GemmMath, N: number, batched: boolean): readonly Tile[] {
  const [L, M, S] = math === 'f32' ? [SIMT_L, SIMT_L, SIMT_S] : math === 'tf32' ? [TF32_L, TF32_M, TF32_S] : [MMA16_L, MMA16_M, MMA16_S];
  if (!batched || N < 256) return [S];
  return [N >= 1024 ? L : M, S];
}
