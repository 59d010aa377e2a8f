// Pillow's Image.resize, reimplemented to give the same bytes. Bilinear and bicubic are its
// separable convolution (Resample.c): the filter's support grows with the reduction factor
// (antialiasing), coefficients are normalized then rounded to 22-bit fixed point, the horizontal
// pass runs first and its result is rounded to 8 bits before the vertical pass. Nearest is its
// affine scale (Geometry.c): source index = floor((x + 0.5) * scale), accumulated in doubles.
import type { Image8 } from './decode.js';

export type Filter = 'bilinear' | 'bicubic' | 'nearest';

const PRECISION_BITS = 32 - 8 - 2;

interface Kernel {
  readonly support: number;
  weight(x: number): number;
}

const BILINEAR: Kernel = { support: 1, weight: (x) => { x = Math.abs(x); return x < 1 ? 1 - x : 0; } };
const BICUBIC: Kernel = {
  support: 2,
  weight: (x) => {
    const a = -0.5;
    x = Math.abs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
  },
};

interface Coefficients {
  readonly ksize: number;
  /** Per output index: first source index and count. */
  readonly bounds: Int32Array;
  /** outSize * ksize fixed-point coefficients. */
  readonly k: Int32Array;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis (input box = the whole axis). */
function coefficients(inSize: number, outSize: number, kernel: Kernel): Coefficients {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = kernel.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = kernel.weight((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x]! / ww : w[x]!;
      k[xx * ksize + x] = Math.trunc(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = xmax;
  }
  return { ksize, bounds, k };
}

/** Pillow's clip8: the fixed-point sum shifted back to 8 bits, clamped to 0..255. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function horizontal(img: Image8, outW: number, rows: readonly [number, number], co: Coefficients): Image8 {
  const c = img.channels;
  const [y0, y1] = rows;
  const out = new Uint8Array(outW * (y1 - y0) * c);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = y0; y < y1; y++) {
    const row = y * img.width * c;
    const orow = (y - y0) * outW * c;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = co.bounds[2 * xx]!, xmax = co.bounds[2 * xx + 1]!, kb = xx * co.ksize;
      for (let ch = 0; ch < c; ch++) {
        let ss = half;
        for (let x = 0; x < xmax; x++) ss += img.data[row + (x + xmin) * c + ch]! * co.k[kb + x]!;
        out[orow + xx * c + ch] = clip8(ss);
      }
    }
  }
  return { width: outW, height: y1 - y0, channels: img.channels, data: out };
}

function vertical(img: Image8, outH: number, co: Coefficients, shift: number): Image8 {
  const c = img.channels;
  const rowLen = img.width * c;
  const out = new Uint8Array(outH * rowLen);
  const half = 1 << (PRECISION_BITS - 1);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = co.bounds[2 * yy]! - shift, ymax = co.bounds[2 * yy + 1]!, kb = yy * co.ksize;
    for (let i = 0; i < rowLen; i++) {
      let ss = half;
      for (let y = 0; y < ymax; y++) ss += img.data[(y + ymin) * rowLen + i]! * co.k[kb + y]!;
      out[yy * rowLen + i] = clip8(ss);
    }
  }
  return { width: img.width, height: outH, channels: img.channels, data: out };
}

function nearest(img: Image8, outW: number, outH: number): Image8 {
  // Pillow's ImagingScaleAffine: positions accumulate in doubles; one that lands outside the
  // source (which rounding can do at the far edge) is left 0, as Pillow's fill leaves it.
  const c = img.channels;
  const sx = img.width / outW, sy = img.height / outH;
  const index = (v: number, size: number) => { const i = Math.trunc(v); return v >= 0 && i < size ? i : -1; };
  const xin = new Int32Array(outW);
  let xo = sx * 0.5;
  for (let x = 0; x < outW; x++, xo += sx) xin[x] = index(xo, img.width);
  const out = new Uint8Array(outW * outH * c);
  let yo = sy * 0.5;
  for (let y = 0; y < outH; y++, yo += sy) {
    const yi = index(yo, img.height);
    if (yi < 0) continue;
    for (let x = 0; x < outW; x++) {
      if (xin[x]! < 0) continue;
      for (let ch = 0; ch < c; ch++) out[(y * outW + x) * c + ch] = img.data[(yi * img.width + xin[x]!) * c + ch]!;
    }
  }
  return { width: outW, height: outH, channels: img.channels, data: out };
}

/** Image.resize((width, height), filter) as Pillow computes it. */
export function resize(img: Image8, width: number, height: number, filter: Filter): Image8 {
  if (width < 1 || height < 1) throw new Error(`cannot resize to ${width}x${height}`);
  if (width === img.width && height === img.height) return img;
  if (filter === 'nearest') return nearest(img, width, height);
  const kernel = filter === 'bicubic' ? BICUBIC : BILINEAR;
  const cx = coefficients(img.width, width, kernel);
  const cy = coefficients(img.height, height, kernel);
  let cur = img;
  let shift = 0;
  if (width !== img.width) {
    // Only the rows the vertical pass reads are resized horizontally.
    const first = cy.bounds[0]!;
    const last = cy.bounds[2 * height - 2]! + cy.bounds[2 * height - 1]!;
    cur = horizontal(img, width, height !== img.height ? [first, last] : [0, img.height], cx);
    shift = height !== img.height ? first : 0;
  }
  return height !== img.height ? vertical(cur, height, cy, shift) : cur;
}
