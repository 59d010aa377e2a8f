// What the ViT-B/16 benchmarks share: their work directory (bench/.work, kept between runs), vitc
// run as a child process of the built CLI, the seeded weights they all load, and the median.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const SPEC = 'spec/vit-b16.yaml';
export const WORK = 'bench/.work';
mkdirSync(WORK, { recursive: true });

/** `vitc ...args` (the built CLI), stdout as a string; its stderr goes to ours. */
export const vitc = (...args) => execFileSync(process.execPath, ['bin/vitc.js', ...args], { stdio: ['ignore', 'pipe', 'inherit'] }).toString();

/** ViT-B/16's seeded weights (`vitc weights`), written once into WORK. */
export function vitB16Weights() {
  const weights = join(WORK, 'vit-b16.safetensors');
  if (!existsSync(weights)) vitc('weights', SPEC, '-o', weights);
  return weights;
}

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
