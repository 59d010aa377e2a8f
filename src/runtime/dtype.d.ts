export function halfToFloat(h: number): number;
export function halfBits(v: number): number;
export function bf16ToFloat(h: number): number;
export function bf16Bits(v: number): number;
export function toHalf(data: ArrayLike<number>): Uint16Array;
export function toBf16(data: ArrayLike<number>): Uint16Array;
export function roundThrough(data: Float32Array, storage: 'f32' | 'f16' | 'bf16'): Float32Array;
