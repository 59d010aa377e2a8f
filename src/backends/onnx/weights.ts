// The weights a build embeds, as initializer bytes in the compute type: the user's safetensors
// (checked against the model first, so a missing tensor or a wrong shape is a one-line diagnostic)
// or seeded random weights drawn from each parameter's init; either way with the parameter's folded
// weight transforms applied (the model embeds what the kernels read).
import { params, type Graph } from '../../ir/graph.js';
import type { BuildOptions } from '../backend.js';
import { checkWeights, parseSafetensors, tensorToFloat32 } from '../../weights/safetensors.js';
import { randomTensor } from '../../weights/random.js';
import { toHalf } from '../../runtime/dtype.js';
import { applyWeightTransforms } from '../../runtime/transforms.js';
import { DT, type ElemType } from './proto.js';

/** float32 values -> little-endian bytes of `elem` (FLOAT: a view, no copy; FLOAT16: rounded to nearest even). */
export function encoder(elem: ElemType): (data: Float32Array) => Uint8Array {
  return (data) => {
    const typed = elem === DT.FLOAT16 ? toHalf(data) : data;
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  };
}

/** name -> bytes of each state-dict weight of `g`, converted one tensor at a time as the graph is written. */
export function weightBytes(g: Graph, options: BuildOptions, encode: (data: Float32Array) => Uint8Array): (name: string) => Uint8Array {
  const ps = new Map(params(g).map((p) => [p.attrs.name, p.attrs]));
  const w = options.weights;
  if (w) {
    checkWeights(w.file, w.bytes, [...ps.values()].map((p) => [p.name, p.shape as number[]] as const));
    const tensors = parseSafetensors(w.bytes);
    return (name) => {
      const p = ps.get(name)!;
      return encode(applyWeightTransforms(tensorToFloat32(tensors[name]!), p.shape as number[], p.transforms));
    };
  }
  return (name) => {
    const p = ps.get(name)!;
    return encode(applyWeightTransforms(randomTensor(name, p.shape as number[], p.init, options.seed), p.shape as number[], p.transforms));
  };
}
