// The training augmentation against torchvision and PIL (test/fixtures/finetune/augment.json, by
// tools/golden/make_finetune_fixtures.py): RandomResizedCrop.get_params fed the same draws gives the
// same boxes (first try, later tries, the central fallback), and crop + bilinear resize + flip give
// PIL's bytes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../image/decode.js';
import { randomResizedCropBox, sampleRandom, trainAugment } from './augment.js';
import { PyRandom } from './pyrandom.js';

interface Case { width: number; height: number; key: string; box: [number, number, number, number]; flip: boolean; out?: { size: [number, number]; rgb: string } }
const fixture = JSON.parse(readFileSync('test/fixtures/finetune/augment.json', 'utf8')) as { cases: Case[] };

describe('training augmentation', () => {
  it.each(fixture.cases.map((c) => [`${c.width}x${c.height}`, c] as const))('%s: torchvision\'s crop box and flip for the same draws', (_n, c) => {
    const rnd = new PyRandom(BigInt(c.key));
    const b = randomResizedCropBox(c.width, c.height, rnd);
    expect([b.top, b.left, b.height, b.width]).toEqual(c.box);
    expect(rnd.random() < 0.5).toBe(c.flip);
  });

  it('crops, resizes and flips to PIL\'s bytes', async () => {
    const src = (await decodeImage('test/fixtures/finetune/augment-src.png', { mode: 'RGB' })).image;
    const cases = fixture.cases.filter((c) => c.out);
    expect(cases.length).toBeGreaterThanOrEqual(2);
    for (const c of cases) {
      const out = trainAugment(src, c.out!.size, new PyRandom(BigInt(c.key)));
      expect([out.height, out.width]).toEqual(c.out!.size);
      expect(Buffer.from(out.data).toString('base64')).toBe(c.out!.rgb);
    }
  });

  it('draws per (seed, epoch, sample): the same stream again, another for another sample', () => {
    const a = sampleRandom(0, 3, 17).random(), b = sampleRandom(0, 3, 17).random();
    expect(a).toBe(b);
    expect(sampleRandom(0, 3, 18).random()).not.toBe(a);
    expect(sampleRandom(0, 4, 17).random()).not.toBe(a);
    expect(sampleRandom(1, 3, 17).random()).not.toBe(a);
  });
});
