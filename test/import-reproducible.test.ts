// The committed import fixtures are what Debian's PyTorch writes: regenerate them into a temporary
// directory and compare byte for byte (the script also checks that torch.load really runs the two
// malicious payloads, and that torchvision's and a JAX-layout forward agree with the reference).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PY, pythonHas, runAsync, tempDir } from './helpers.js';

const hasTorch = pythonHas('torch, torchvision, yaml, numpy', 'the import fixture reproduction test');

/** Formats that record memory addresses or source positions, so they differ run to run. */
const UNSTABLE = new Set(['model-legacy.pth', 'torchscript.pt']);
/** Written by hand, or once from scikit-image's photos (tools/golden/prepare_photos.py). */
const HAND_WRITTEN = new Set(['flowers.yaml', 'flowers-48.yaml', 'flowers-224.yaml', 'class_indices.json', 'labels.txt', 'photos']);

describe.skipIf(!hasTorch)('import fixtures', () => {
  it('are reproduced by tools/golden/make_import_fixtures.py', async () => {
    const out = tempDir();
    const r = await runAsync(PY, ['tools/golden/make_import_fixtures.py', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const committed = readdirSync('test/fixtures/import').filter((f) => !HAND_WRITTEN.has(f)).sort();
    expect(readdirSync(out).sort()).toEqual(committed);
    for (const f of committed.filter((f) => !UNSTABLE.has(f))) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join('test/fixtures/import', f))), f).toBe(true);
    }
  });
});
