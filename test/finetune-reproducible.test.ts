// The committed fine-tuning fixtures (test/fixtures/finetune/) are what CPython, PIL, torchvision and
// PyTorch compute: regenerate them into a temporary directory and compare byte for byte.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PY, pythonHas, runAsync, tempDir } from './helpers.js';

const hasTorch = pythonHas('torch, torchvision, numpy, PIL', 'the fine-tuning fixture reproduction test');

describe.skipIf(!hasTorch)('fine-tuning fixtures', () => {
  it('are reproduced by tools/golden/make_finetune_fixtures.py', async () => {
    const out = tempDir();
    const r = await runAsync(PY, ['tools/golden/make_finetune_fixtures.py', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const committed = readdirSync('test/fixtures/finetune').sort();
    expect(readdirSync(out).sort()).toEqual(committed);
    for (const f of committed) expect(readFileSync(join(out, f)).equals(readFileSync(join('test/fixtures/finetune', f))), f).toBe(true);
  }, 120_000);
});
