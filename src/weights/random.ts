// Seeded random weights, so every spec runs without a checkpoint. Each parameter's stream is seeded
// from (seed, name), so values do not depend on the order or presence of other parameters.
import type { Init } from '../ir/ops/index.js';
import type { NamedTensor } from './safetensors.js';

function fnv1a(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** mulberry32: a small, fast 32-bit generator; returns floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomTensor(name: string, shape: readonly number[], init: Init, seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const rnd = mulberry32(fnv1a(name, seed));
  switch (init.kind) {
    case 'constant': out.fill(init.value); break;
    case 'uniform': for (let i = 0; i < n; i++) out[i] = init.low + (init.high - init.low) * rnd(); break;
    case 'normal':
      for (let i = 0; i < n; i += 2) {
        const u = 1 - rnd(), v = rnd();
        const r = Math.sqrt(-2 * Math.log(u)) * init.std;
        out[i] = r * Math.cos(2 * Math.PI * v);
        if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
      }
      break;
  }
  return out;
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
}

export function randomWeights(ps: readonly ParamSpec[], seed: number): NamedTensor[] {
  return ps.map((p) => ({ name: p.name, shape: p.shape, data: randomTensor(p.name, p.shape, p.init, seed) }));
}
