// torchvision's transforms on a PIL image, as a spec's `preprocess` section names them:
// Resize(size) (shorter side, the long side truncated as torchvision computes it), CenterCrop
// (offsets rounded half to even, as Python's round does; padded with black when the image is
// smaller), ToTensor (/255 in float32) and Normalize ((x - mean) / std in float32).
import { fail, type Span } from '../diag/diagnostic.js';
import type { Image8 } from './decode.js';
import { resize, type Filter } from './resample.js';

export interface PreprocessConfig {
  readonly resize?: number;
  readonly crop?: number;
  readonly interpolation?: Filter;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
}

/** The steps to run, resolved against the model's input size. */
export interface Plan {
  /** Resize the shorter side to this (torchvision Resize(int)). */
  readonly shorter?: number;
  /** Resize to exactly [height, width] (Resize((h, w))), when the spec names neither resize nor crop. */
  readonly exact?: readonly [number, number];
  /** Center-crop to [height, width]. */
  readonly crop?: readonly [number, number];
  readonly filter: Filter;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * The steps that turn a photo into the model's input [channels, H, W]. Without `resize` and `crop`
 * the photo is resized to exactly H x W; with `resize` and no `crop` it is center-cropped to H x W.
 * Mean and std default to 0.5 per channel (the ImageNet-21k ViTs').
 */
export function planPreprocess(p: PreprocessConfig, size: readonly [number, number], channels: number, spanOf?: (key: string) => Span | undefined): Plan {
  const [h, w] = size;
  if (p.crop !== undefined && (p.crop !== h || p.crop !== w)) {
    fail('image/preprocess', `preprocess.crop is ${p.crop}, but the model takes ${h}x${w} images`, spanOf?.('preprocess/crop'), `set crop: ${h === w ? h : 'the image size'}, or img_size: ${p.crop}`);
  }
  const filter = p.interpolation ?? 'bilinear';
  const mean = p.mean ?? new Array(channels).fill(0.5);
  const std = p.std ?? new Array(channels).fill(0.5);
  if (p.resize === undefined && p.crop === undefined) return { exact: [h, w], filter, mean, std };
  return { shorter: p.resize, crop: [h, w], filter, mean, std };
}

export function describePlan(plan: Plan): string {
  const steps: string[] = [];
  if (plan.shorter !== undefined) steps.push(`Resize(${plan.shorter}, ${plan.filter})`);
  if (plan.exact) steps.push(`Resize((${plan.exact.join(', ')}), ${plan.filter})`);
  if (plan.crop) steps.push(`CenterCrop(${plan.crop[0] === plan.crop[1] ? plan.crop[0] : `(${plan.crop.join(', ')})`})`);
  steps.push('ToTensor()', `Normalize(${JSON.stringify(plan.mean)}, ${JSON.stringify(plan.std)})`);
  return steps.join(', ');
}

/** torchvision's output size for Resize(size) on a w x h image: the shorter side becomes `size`. */
export function shorterSideSize(w: number, h: number, size: number): [number, number] {
  if (w <= h) return [size, Math.trunc((size * h) / w)];
  return [Math.trunc((size * w) / h), size];
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d !== 0.5) return Math.round(v);
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision's CenterCrop on a PIL image (pads with black when the crop is larger). */
export function centerCrop(img: Image8, ch: number, cw: number): Image8 {
  let src = img;
  if (cw > img.width || ch > img.height) {
    const left = cw > img.width ? Math.floor((cw - img.width) / 2) : 0;
    const top = ch > img.height ? Math.floor((ch - img.height) / 2) : 0;
    const right = cw > img.width ? Math.floor((cw - img.width + 1) / 2) : 0;
    const bottom = ch > img.height ? Math.floor((ch - img.height + 1) / 2) : 0;
    src = pad(img, left, top, right, bottom);
    if (src.width === cw && src.height === ch) return src;
  }
  const top = roundHalfEven((src.height - ch) / 2);
  const left = roundHalfEven((src.width - cw) / 2);
  const c = src.channels;
  const out = new Uint8Array(cw * ch * c);
  for (let y = 0; y < ch; y++) out.set(src.data.subarray(((top + y) * src.width + left) * c, ((top + y) * src.width + left + cw) * c), y * cw * c);
  return { width: cw, height: ch, channels: src.channels, data: out };
}

function pad(img: Image8, left: number, top: number, right: number, bottom: number): Image8 {
  const width = img.width + left + right, height = img.height + top + bottom, c = img.channels;
  const data = new Uint8Array(width * height * c);
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * c, (y + 1) * img.width * c), ((y + top) * width + left) * c);
  return { width, height, channels: img.channels, data };
}

/** ToTensor + Normalize into `out` at `offset`, CHW, every step rounded to float32 as torch does. */
export function toNormalizedTensor(img: Image8, mean: readonly number[], std: readonly number[], out: Float32Array, offset: number): void {
  const c = img.channels;
  const n = img.width * img.height;
  for (let ch = 0; ch < c; ch++) {
    const m = Math.fround(mean[ch]!), s = Math.fround(std[ch]!);
    for (let i = 0; i < n; i++) {
      const x = Math.fround(img.data[i * c + ch]! / 255);
      out[offset + ch * n + i] = Math.fround(Math.fround(x - m) / s);
    }
  }
}

/** Resize and crop as planned (the 8-bit image the model's tensor is made from). */
export function resizeAndCrop(img: Image8, plan: Plan): Image8 {
  let cur = img;
  if (plan.exact) cur = resize(cur, plan.exact[1], plan.exact[0], plan.filter);
  if (plan.shorter !== undefined) {
    const [w, h] = shorterSideSize(cur.width, cur.height, plan.shorter);
    cur = resize(cur, w, h, plan.filter);
  }
  if (plan.crop) cur = centerCrop(cur, plan.crop[0], plan.crop[1]);
  return cur;
}
