import type { WeightTransform } from '../ir/ops/index.js';
export interface StTensor { readonly dtype: 'F64' | 'F32' | 'F16' | 'BF16'; readonly shape: number[]; readonly bytes: Uint8Array }
export function describeGiven(v: unknown): string;
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer): Record<string, StTensor>;
export function tensorToFloat32(t: StTensor): Float32Array;
export function checkTensors(tensors: Record<string, StTensor>, expected: ReadonlyArray<readonly [string, readonly number[]]>): string[];
/** Expected entries may carry a parameter's folded weight transforms as a third element. */
export function bindWeights(tensors: Record<string, StTensor>, expected: ReadonlyArray<readonly [string, readonly number[], (readonly WeightTransform[])?]>): { values: Float32Array[]; unused: string[] };
/** name -> the parameter's values with its folded transforms applied (expected entries as for bindWeights). */
export function weightReader(tensors: Record<string, StTensor>, expected: ReadonlyArray<readonly [string, readonly number[], (readonly WeightTransform[])?]>): (name: string) => Float32Array;
