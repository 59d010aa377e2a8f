// Tensors as the importers hold them: a dtype, a shape and contiguous little-endian bytes. Layout
// changes (transpose, concatenation, strided gathers) move whole elements, so they never round.
import { tensorToFloat32 } from '../runtime/safetensors.js';

export const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as const;
export type DType = keyof typeof DTYPE_BYTES;
export type FloatDType = 'F64' | 'F32' | 'F16' | 'BF16';

export interface RawTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** numel * DTYPE_BYTES[dtype] bytes, row-major, little-endian. */
  readonly bytes: Uint8Array;
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A float tensor's values as float32 (the runtime's conversion, so F16/BF16 decode in one place). */
export function toFloat32(t: RawTensor): Float32Array {
  if (!isFloat(t.dtype)) throw new Error(`cannot read a ${t.dtype} tensor as float32`);
  return tensorToFloat32({ dtype: t.dtype, shape: [...t.shape], bytes: t.bytes });
}

export function fromFloat32(shape: readonly number[], data: Float32Array): RawTensor {
  return { dtype: 'F32', shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * Contiguous bytes of the view (offset, shape, stride) into `storage`, all in elements of `elem`
 * bytes: a subarray when the view is already contiguous, else a copy. The caller has checked that
 * the view lies inside the storage.
 */
export function gather(storage: Uint8Array, elem: number, offset: number, shape: readonly number[], stride: readonly number[]): Uint8Array {
  const n = numel(shape);
  const contiguous = shape.every((d, i) => d === 1 || stride[i] === numel(shape.slice(i + 1)));
  if (contiguous) return storage.subarray(offset * elem, (offset + n) * elem);
  const out = new Uint8Array(n * elem);
  const idx = new Array<number>(shape.length).fill(0);
  let src = offset;
  for (let i = 0; i < n; i++) {
    out.set(storage.subarray(src * elem, (src + 1) * elem), i * elem);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]!++;
      src += stride[d]!;
      if (idx[d]! < shape[d]!) break;
      src -= stride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** The largest element index a view touches, plus one (0 for an empty view). */
export function viewExtent(offset: number, shape: readonly number[], stride: readonly number[]): number {
  if (shape.some((d) => d === 0)) return 0;
  return offset + shape.reduce((a, d, i) => a + (d - 1) * stride[i]!, 0) + 1;
}

/** Reverse the byte order of every element in place (for checkpoints written on big-endian machines). */
export function swapBytes(bytes: Uint8Array, elem: number): void {
  if (elem === 1) return;
  for (let i = 0; i < bytes.length; i += elem) bytes.subarray(i, i + elem).reverse();
}

export function reshape(t: RawTensor, shape: readonly number[]): RawTensor {
  if (numel(shape) !== numel(t.shape)) throw new Error(`cannot reshape ${shapeText(t.shape)} to ${shapeText(shape)}`);
  return { ...t, shape };
}

/** Permute the axes: out.shape[i] = t.shape[perm[i]]. */
export function permute(t: RawTensor, perm: readonly number[]): RawTensor {
  const shape = perm.map((p) => t.shape[p]!);
  const inStride = t.shape.map((_, i) => numel(t.shape.slice(i + 1)));
  return { dtype: t.dtype, shape, bytes: gather(t.bytes, DTYPE_BYTES[t.dtype], 0, shape, perm.map((p) => inStride[p]!)) };
}

/** Concatenate along axis 0 (shapes must agree past it, dtypes must match). */
export function concat0(ts: readonly RawTensor[]): RawTensor {
  const [first] = ts;
  if (!first) throw new Error('nothing to concatenate');
  for (const t of ts) {
    if (t.dtype !== first.dtype || t.shape.length !== first.shape.length || t.shape.some((d, i) => i > 0 && d !== first.shape[i])) {
      throw new Error(`cannot concatenate ${first.dtype} ${shapeText(first.shape)} with ${t.dtype} ${shapeText(t.shape)}`);
    }
  }
  const bytes = new Uint8Array(ts.reduce((a, t) => a + t.bytes.length, 0));
  let at = 0;
  for (const t of ts) {
    bytes.set(t.bytes, at);
    at += t.bytes.length;
  }
  return { dtype: first.dtype, shape: [ts.reduce((a, t) => a + t.shape[0]!, 0), ...first.shape.slice(1)], bytes };
}
