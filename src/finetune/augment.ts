// The tutorial's two transforms, on the PIL-exact image pipeline of src/image/:
//   train: RandomResizedCrop(size) + RandomHorizontalFlip() + ToTensor + Normalize
//   val:   Resize(256) + CenterCrop(224) + ToTensor + Normalize (the spec's preprocess section)
// The random draws follow torchvision's RandomResizedCrop.get_params and RandomHorizontalFlip, from
// a Mersenne Twister seeded per (seed, epoch, sample): reproducible, resumable, and independent of
// batch order; not torchvision's own RNG stream, which PyTorch's seeding makes specific to torch.
import type { Image8 } from '../image/decode.js';
import { preparedImage, decodeImage } from '../image/index.js';
import { resize, type Filter } from '../image/resample.js';
import { roundHalfEven, toNormalizedTensor, type Plan } from '../image/transforms.js';
import { PyRandom } from './pyrandom.js';

/** torchvision's defaults: scale (0.08, 1.0), ratio (3/4, 4/3). */
const SCALE: readonly [number, number] = [0.08, 1.0];
const RATIO: readonly [number, number] = [3 / 4, 4 / 3];

export interface CropBox { readonly top: number; readonly left: number; readonly height: number; readonly width: number }

/** RandomResizedCrop.get_params: ten tries at a random area and aspect ratio, else the central crop. */
export function randomResizedCropBox(width: number, height: number, rnd: PyRandom): CropBox {
  const area = height * width;
  const logRatio = [Math.log(RATIO[0]), Math.log(RATIO[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (SCALE[0] + (SCALE[1] - SCALE[0]) * rnd.random());
    const aspect = Math.exp(logRatio[0] + (logRatio[1] - logRatio[0]) * rnd.random());
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rnd.randbelow(height - h + 1);
      const left = rnd.randbelow(width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w: number, h: number;
  if (inRatio < Math.min(...RATIO)) { w = width; h = roundHalfEven(w / Math.min(...RATIO)); }
  else if (inRatio > Math.max(...RATIO)) { h = height; w = roundHalfEven(h * Math.max(...RATIO)); }
  else { w = width; h = height; }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** PIL's Image.crop((left, top, left + width, top + height)) inside the image. */
export function crop(img: Image8, box: CropBox): Image8 {
  const c = img.channels;
  const out = new Uint8Array(box.width * box.height * c);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * img.width + box.left) * c;
    out.set(img.data.subarray(from, from + box.width * c), y * box.width * c);
  }
  return { width: box.width, height: box.height, channels: img.channels, data: out };
}

/** Image.transpose(FLIP_LEFT_RIGHT). */
export function flipHorizontal(img: Image8): Image8 {
  const c = img.channels, w = img.width;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * c, d = (y * w + (w - 1 - x)) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k]!;
    }
  }
  return { ...img, data: out };
}

/** The random stream of one training sample in one epoch (kept apart from the epochs' shuffles). */
export function sampleRandom(seed: number, epoch: number, index: number): PyRandom {
  return new PyRandom((1n << 96n) + (BigInt(seed) << 64n) + (BigInt(epoch) << 32n) + BigInt(index));
}

/** RandomResizedCrop([h, w]) then RandomHorizontalFlip(0.5), drawing from `rnd`; bilinear as torchvision's default. */
export function trainAugment(img: Image8, size: readonly [number, number], rnd: PyRandom, filter: Filter = 'bilinear'): Image8 {
  const box = randomResizedCropBox(img.width, img.height, rnd);
  const out = resize(crop(img, box), size[1], size[0], filter);
  return rnd.random() < 0.5 ? flipHorizontal(out) : out;
}

/** How one image becomes a model input: the validation transform, or the training augmentation. */
export type Transform =
  | { readonly kind: 'eval'; readonly plan: Plan }
  | { readonly kind: 'train'; readonly plan: Plan; readonly size: readonly [number, number]; readonly seed: number; readonly epoch: number };

/** Decode, transform and normalize `path` into `out` at `offset`; returns notes from decoding. */
export async function loadSample(path: string, index: number, t: Transform, channels: number, out: Float32Array, offset: number): Promise<readonly string[]> {
  if (t.kind === 'eval') {
    const { image, notes } = await preparedImage(path, t.plan, channels);
    toNormalizedTensor(image, t.plan.mean, t.plan.std, out, offset);
    return notes;
  }
  const decoded = await decodeImage(path, { mode: channels === 1 ? 'L' : 'RGB' });
  // The crop is resized with the spec's interpolation (bilinear unless it says otherwise), as its Resize is.
  const image = trainAugment(decoded.image, t.size, sampleRandom(t.seed, t.epoch, index), t.plan.filter);
  toNormalizedTensor(image, t.plan.mean, t.plan.std, out, offset);
  return decoded.notes;
}
