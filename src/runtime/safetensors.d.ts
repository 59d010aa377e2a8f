export interface StTensor { readonly dtype: 'F64' | 'F32' | 'F16' | 'BF16'; readonly shape: number[]; readonly bytes: Uint8Array }
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer): Record<string, StTensor>;
export function tensorToFloat32(t: StTensor): Float32Array;
export function checkTensors(tensors: Record<string, StTensor>, expected: ReadonlyArray<readonly [string, readonly number[]]>): string[];
export function bindWeights(tensors: Record<string, StTensor>, expected: ReadonlyArray<readonly [string, readonly number[]]>): { values: Float32Array[]; unused: string[] };
