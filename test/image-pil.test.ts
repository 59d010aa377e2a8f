// vitc's image pipeline gives Pillow's bytes: decoding every mode convert('RGB') and convert('L')
// handle, Image.resize with each filter up and down, and torchvision's Resize + CenterCrop (with
// padding), on seeded synthetic images and the committed photos. The cases and Pillow's results
// come from tools/golden/pil_cases.py, run here with Debian's python3-pil and python3-torchvision.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PY, pythonHas, runAsync, tempDir } from './helpers.js';
import { decodeImage } from '../src/image/decode.js';
import { resize, type Filter } from '../src/image/resample.js';
import { centerCrop, shorterSideSize } from '../src/image/transforms.js';
import type { Image8 } from '../src/image/decode.js';

const hasPil = pythonHas('PIL, torchvision, numpy', 'the Pillow comparison');

interface Case {
  kind: 'decode' | 'resize' | 'pipeline';
  file: string;
  mode?: 'RGB' | 'L';
  filter?: Filter;
  w?: number; h?: number; size?: number; crop?: number;
  raw: string; width: number; height: number; channels: number;
}

async function vitcImage(c: Case): Promise<Image8> {
  const decoded = (await decodeImage(c.file, { mode: c.kind === 'resize' ? 'RGB' : c.mode! })).image;
  if (c.kind === 'decode') return decoded;
  if (c.kind === 'resize') return resize(decoded, c.w!, c.h!, c.filter!);
  const [w, h] = shorterSideSize(decoded.width, decoded.height, c.size!);
  return centerCrop(resize(decoded, w, h, c.filter!), c.crop!, c.crop!);
}

describe.skipIf(!hasPil)('the image pipeline against Pillow + torchvision', () => {
  it('gives the same bytes in every case', async () => {
    const dir = tempDir();
    const r = await runAsync(PY, ['tools/golden/pil_cases.py', dir]);
    expect(r.stderr).toBe('');
    const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Case[];
    expect(cases.length).toBeGreaterThan(200);
    const wrong: string[] = [];
    for (const c of cases) {
      const got = await vitcImage(c);
      const want = new Uint8Array(readFileSync(join(dir, c.raw)));
      const same = got.width === c.width && got.height === c.height && got.channels === c.channels && Buffer.from(got.data).equals(Buffer.from(want));
      if (!same) wrong.push(`${c.kind} ${c.file.split('/').pop()} ${c.mode ?? ''} ${c.filter ?? ''} ${c.w ?? c.size ?? ''}x${c.h ?? c.crop ?? ''}`);
    }
    expect(wrong).toEqual([]);
  });
});
