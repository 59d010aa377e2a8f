// Position embeddings for another resolution, as timm's resample_abs_pos_embed does it: the prefix
// rows (class and distillation tokens) are kept, the patch rows form a grid that is resized with
// PyTorch's bicubic interpolation (F.interpolate, align_corners=False, no antialiasing, A = -0.75,
// borders clamped), computed in float32 storage like timm (which upcasts to float first).
import { shapeText, toFloat32, fromFloat32, type RawTensor } from './tensor.js';

const A = -0.75;

/** The four cubic-convolution weights for fractional offset t (PyTorch's upsample_bicubic2d). */
function cubicWeights(t: number): [number, number, number, number] {
  const near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/** For each output index: the four clamped source indices and their weights along one axis. */
function axis(inSize: number, outSize: number): { idx: number[][]; w: number[][] } {
  const scale = inSize / outSize;
  const idx: number[][] = [];
  const w: number[][] = [];
  for (let o = 0; o < outSize; o++) {
    const src = scale * (o + 0.5) - 0.5;
    const i0 = Math.floor(src);
    w.push(cubicWeights(src - i0));
    idx.push([-1, 0, 1, 2].map((k) => Math.min(Math.max(i0 + k, 0), inSize - 1)));
  }
  return { idx, w };
}

/** Bicubic resize of a [gh, gw, D] grid (row-major tokens) to [oh, ow, D]. */
export function resizeGrid(data: Float32Array, gh: number, gw: number, oh: number, ow: number, dim: number): Float32Array {
  const ys = axis(gh, oh);
  const xs = axis(gw, ow);
  const out = new Float32Array(oh * ow * dim);
  const row = new Float64Array(4 * dim);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      // Along x for the four source rows, then along y (the order PyTorch's kernel uses).
      for (let r = 0; r < 4; r++) {
        const sy = ys.idx[oy]![r]!;
        for (let c = 0; c < dim; c++) {
          let acc = 0;
          for (let k = 0; k < 4; k++) acc += xs.w[ox]![k]! * data[(sy * gw + xs.idx[ox]![k]!) * dim + c]!;
          row[r * dim + c] = acc;
        }
      }
      const o = (oy * ow + ox) * dim;
      for (let c = 0; c < dim; c++) {
        let acc = 0;
        for (let r = 0; r < 4; r++) acc += ys.w[oy]![r]! * row[r * dim + c]!;
        out[o + c] = acc;
      }
    }
  }
  return out;
}

/**
 * pos_embed [1, prefix + gh*gw, D] resampled to a grid of `to` [oh, ow]. The source grid must be
 * square (timm's assumption for a checkpoint's grid); returns undefined when it is not.
 */
export function resamplePosEmbed(t: RawTensor, prefix: number, to: readonly [number, number]): { tensor: RawTensor; from: [number, number] } | undefined {
  if (t.shape.length !== 3 || t.shape[0] !== 1) return undefined;
  const [, tokens, dim] = t.shape as [number, number, number];
  const g = Math.round(Math.sqrt(tokens - prefix));
  if (tokens - prefix <= 0 || g * g !== tokens - prefix) return undefined;
  const [oh, ow] = to;
  const data = toFloat32(t);
  const grid = resizeGrid(data.subarray(prefix * dim), g, g, oh, ow, dim);
  const out = new Float32Array((prefix + oh * ow) * dim);
  out.set(data.subarray(0, prefix * dim));
  out.set(grid, prefix * dim);
  return { tensor: fromFloat32([1, prefix + oh * ow, dim], out), from: [g, g] };
}

export function gridText([h, w]: readonly [number, number]): string {
  return `${h}x${w}`;
}

export { shapeText };
