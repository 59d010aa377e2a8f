// Golden fixtures (test/golden/<spec name>/): PyTorch logits for seeded weights and a batch of 3,
// produced by tools/golden (npm run golden). Shared by every target's golden test.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readNpy } from '../src/weights/npy.js';

export interface Golden {
  readonly name: string;
  readonly spec: string;
  readonly weights: Uint8Array;
  readonly input: { readonly shape: readonly number[]; readonly data: Float32Array };
  readonly logits: { readonly shape: readonly number[]; readonly data: Float32Array };
}

export const GOLDEN_DIR = 'test/golden';
export const GOLDEN_SPECS = readdirSync('spec/tiny').filter((f) => /^tiny-.*\.yaml$/.test(f)).sort().map((f) => join('spec/tiny', f));

/** Fixture names, sorted as names (tiny-r50 before tiny-r50-odd, as fixture directories sort). */
export function goldenNames(): string[] {
  return GOLDEN_SPECS.map((s) => basename(s, '.yaml')).sort();
}

export function fixtureDirs(): string[] {
  return existsSync(GOLDEN_DIR) ? readdirSync(GOLDEN_DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort() : [];
}

export function loadGolden(name: string): Golden {
  const dir = join(GOLDEN_DIR, name);
  const npy = (f: string) => readNpy(join(dir, f), new Uint8Array(readFileSync(join(dir, f))));
  return {
    name,
    spec: join('spec/tiny', `${name}.yaml`),
    weights: new Uint8Array(readFileSync(join(dir, 'weights.safetensors'))),
    input: npy('input.npy'),
    logits: npy('logits.npy'),
  };
}

/** max |got - ref| and max |ref|. */
export function compare(got: Float32Array, ref: Float32Array): { maxErr: number; maxRef: number; rel: number } {
  if (got.length !== ref.length) throw new Error(`length ${got.length} != ${ref.length}`);
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(got[i]! - ref[i]!));
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  }
  return { maxErr, maxRef, rel: maxErr / maxRef };
}
