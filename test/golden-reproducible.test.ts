// The committed fixtures are what the PyTorch reference produces: regenerate them into a temporary
// directory and compare. Needs Debian's python3-torch (the README's test command installs it);
// outside CI the test is skipped with a note when torch is missing.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PY, pythonHas, runAsync, tempDir } from './helpers.js';
import { compare, GOLDEN_DIR, goldenNames, goldenPaths } from './golden.js';
import { readNpy } from '../src/weights/npy.js';

const hasTorch = pythonHas('torch, yaml, numpy', 'the fixture reproduction test');

describe.skipIf(!hasTorch)('golden fixtures', () => {
  it('are reproduced by the PyTorch reference (weights and inputs byte for byte, logits to 1e-6)', async () => {
    const out = tempDir();
    const r = await runAsync(PY, ['tools/golden/make_goldens.py', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const name of goldenNames()) {
      // The fixture's place under test/golden/ (variants/NAME for the gallery's) is its place under out.
      const committed = goldenPaths(name).dir;
      const fresh = join(out, relative(GOLDEN_DIR, committed));
      for (const f of ['weights.safetensors', 'input.npy']) {
        expect(readFileSync(join(fresh, f)).equals(readFileSync(join(committed, f))), `${name}/${f}`).toBe(true);
      }
      const load = (dir: string) => readNpy('logits.npy', new Uint8Array(readFileSync(join(dir, 'logits.npy')))).data;
      expect(compare(load(fresh), load(committed)).rel, name).toBeLessThan(1e-6);
    }
  });
  it('pass the reference\'s self-checks (parameter counts, sin-cos table, a numpy float64 forward, every tensor matters)', async () => {
    const r = await runAsync(PY, ['tools/golden/selfcheck.py']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\n0 failures\n?$/);
  });
});
