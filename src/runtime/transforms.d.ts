import type { WeightTransform } from '../ir/ops/index.js';
export function standardizeFilters(w: Float32Array, shape: readonly number[], eps: number): Float32Array;
export function applyWeightTransforms(data: Float32Array, shape: readonly number[], transforms: readonly WeightTransform[] | undefined): Float32Array;
