// A seeded folder of generated photos, one sub-folder per class, for fine-tuning tests and the
// benchmark: each class has its own colour and stripe direction under heavy noise, at random sizes,
// as JPEGs and PNGs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export interface FolderOptions {
  readonly classes: readonly string[];
  readonly perClass: number;
  /** Image sides are drawn from [min, max). */
  readonly minSide: number;
  readonly maxSide: number;
  readonly seed: number;
}

const COLOURS: readonly (readonly [number, number, number])[] = [[200, 60, 50], [60, 170, 70], [60, 80, 200], [210, 190, 60], [150, 70, 170]];

export async function makeImageFolder(root: string, o: FolderOptions): Promise<void> {
  let s = o.seed >>> 0;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  for (const [k, name] of o.classes.entries()) {
    mkdirSync(join(root, name), { recursive: true });
    const [r, g, b] = COLOURS[k % COLOURS.length]!;
    const angle = (k * Math.PI) / o.classes.length;
    for (let i = 0; i < o.perClass; i++) {
      const w = o.minSide + Math.floor(rnd() * (o.maxSide - o.minSide)), h = o.minSide + Math.floor(rnd() * (o.maxSide - o.minSide));
      const px = Buffer.alloc(w * h * 3);
      const period = 6 + rnd() * 10, phase = rnd() * 10;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const stripe = Math.sin(((x * Math.cos(angle) + y * Math.sin(angle)) / period) * 2 * Math.PI + phase) * 40;
          const at = 3 * (y * w + x);
          px[at] = clamp(r + stripe + (rnd() - 0.5) * 160);
          px[at + 1] = clamp(g + stripe + (rnd() - 0.5) * 160);
          px[at + 2] = clamp(b + stripe + (rnd() - 0.5) * 160);
        }
      }
      const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
      if (i % 3 === 2) await img.png().toFile(join(root, name, `${name}_${String(i).padStart(4, '0')}.png`));
      else await img.jpeg({ quality: 90 }).toFile(join(root, name, `${name}_${String(i).padStart(4, '0')}.jpg`));
    }
  }
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
