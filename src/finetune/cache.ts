// Features computed once and kept in the run's cache/ folder as safetensors (one tensor, `features`
// [n, dim]), under a key of everything they depend on: vitc's version, the spec, the backbone's
// weights, target and precision, the transform, and every image's path, size and modification time.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { vitcVersion } from '../paths.js';
import { parseSafetensors, tensorToFloat32 } from '../runtime/safetensors.js';
import { readRegularFile, writeFileAtomic } from '../io/files.js';
import { writeSafetensors } from '../weights/safetensors.js';

export function cacheKey(parts: Readonly<Record<string, unknown>>, paths: readonly string[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ vitc: vitcVersion, ...parts }));
  for (const p of paths) {
    const st = statSync(p);
    h.update(`\n${p}\t${st.size}\t${st.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 24);
}

function cacheFile(dir: string, name: string, key: string): string {
  return join(dir, `${name}-${key}.safetensors`);
}

/** The cached features, when a file for this key exists and has the expected shape. */
export function readCached(dir: string, name: string, key: string, n: number, dim: number): Float32Array | undefined {
  try {
    const t = parseSafetensors(readRegularFile(cacheFile(dir, name, key), 'feature cache')).features;
    if (!t || t.shape.length !== 2 || t.shape[0] !== n || t.shape[1] !== dim) return undefined;
    return tensorToFloat32(t);
  } catch {
    return undefined; // unreadable or damaged: computed again and rewritten
  }
}

export function writeCached(dir: string, name: string, key: string, data: Float32Array, n: number, dim: number): void {
  writeFileAtomic(cacheFile(dir, name, key), writeSafetensors([{ name: 'features', shape: [n, dim], data }]), 'the feature cache');
}
