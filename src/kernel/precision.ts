// The one precision policy: what is stored in which format and how GEMMs multiply, decided here and
// read by every renderer (ONNX applies the same rules at graph level: f32 statistics, f32 input/output).
import type { Precision } from '../backends/backend.js';
import type { Buf, PrecisionPolicy, Storage } from './types.js';

const POLICIES: Readonly<Record<Precision, PrecisionPolicy>> = {
  fp32: { name: 'fp32', storage: 'f32', math: 'f32', accumulate: 'f32' },
  tf32: { name: 'tf32', storage: 'f32', math: 'tf32', accumulate: 'f32' },
  fp16: { name: 'fp16', storage: 'f16', math: 'f16', accumulate: 'f32' },
  bf16: { name: 'bf16', storage: 'bf16', math: 'bf16', accumulate: 'f32' },
};

export function precisionPolicy(p: Precision): PrecisionPolicy {
  return POLICIES[p];
}

/** The storage of each buffer: the caller's input and output stay f32; weights, constants and activations take the policy's. */
export function storageOf(kind: Buf['kind'], policy: PrecisionPolicy): Storage {
  return kind === 'input' || kind === 'output' ? 'f32' : policy.storage;
}
