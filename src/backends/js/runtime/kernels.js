// Plain-JS kernels for every primitive and composite op: the reference semantics of the IR,
// used by vitc's interpreter and inlined verbatim into every generated JS module.
// Tensors are contiguous row-major Float32Arrays; shapes are plain arrays with the batch resolved.
// Sums accumulate in float64 (JS numbers) and are stored as float32.

const numelOf = (shape) => shape.reduce((a, b) => a * b, 1);

/** y[M,N] (+)= a[M,K] · b[N,K]^T (+ bias[N]), reading a at aOff and b at bOff, writing y at yOff. */
export function gemmNT(a, aOff, M, K, b, bOff, N, y, yOff, bias) {
  const JB = 64;
  const M4 = M - (M % 4), N4 = N - (N % 4);
  for (let j0 = 0; j0 < N; j0 += JB) {
    const jEnd = Math.min(N, j0 + JB);
    const jEnd4 = Math.min(jEnd, N4);
    for (let i = 0; i < M4; i += 4) {
      const a0 = aOff + i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
      let j = j0;
      for (; j < jEnd4; j += 4) {
        const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let k = 0; k < K; k++) {
          const x0 = a[a0 + k], x1 = a[a1 + k], x2 = a[a2 + k], x3 = a[a3 + k];
          const w0 = b[b0 + k], w1 = b[b1 + k], w2 = b[b2 + k], w3 = b[b3 + k];
          c00 += x0 * w0; c01 += x0 * w1; c02 += x0 * w2; c03 += x0 * w3;
          c10 += x1 * w0; c11 += x1 * w1; c12 += x1 * w2; c13 += x1 * w3;
          c20 += x2 * w0; c21 += x2 * w1; c22 += x2 * w2; c23 += x2 * w3;
          c30 += x3 * w0; c31 += x3 * w1; c32 += x3 * w2; c33 += x3 * w3;
        }
        const d0 = bias ? bias[j] : 0, d1 = bias ? bias[j + 1] : 0, d2 = bias ? bias[j + 2] : 0, d3 = bias ? bias[j + 3] : 0;
        let o = yOff + i * N + j;
        y[o] = c00 + d0; y[o + 1] = c01 + d1; y[o + 2] = c02 + d2; y[o + 3] = c03 + d3; o += N;
        y[o] = c10 + d0; y[o + 1] = c11 + d1; y[o + 2] = c12 + d2; y[o + 3] = c13 + d3; o += N;
        y[o] = c20 + d0; y[o + 1] = c21 + d1; y[o + 2] = c22 + d2; y[o + 3] = c23 + d3; o += N;
        y[o] = c30 + d0; y[o + 1] = c31 + d1; y[o + 2] = c32 + d2; y[o + 3] = c33 + d3;
      }
      for (; j < jEnd; j++) for (let r = 0; r < 4; r++) y[yOff + (i + r) * N + j] = dot(a, aOff + (i + r) * K, b, bOff + j * K, K) + (bias ? bias[j] : 0);
    }
    for (let i = M4; i < M; i++) for (let j = j0; j < jEnd; j++) y[yOff + i * N + j] = dot(a, aOff + i * K, b, bOff + j * K, K) + (bias ? bias[j] : 0);
  }
}

function dot(a, ao, b, bo, K) {
  let s = 0;
  for (let k = 0; k < K; k++) s += a[ao + k] * b[bo + k];
  return s;
}

/** Transpose the [R, C] block of x at off into a new [C, R] array. */
function transpose2d(x, off, R, C) {
  const t = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = x[off + r * C + c];
  return t;
}

/** y = x W^T + b over the last dim; x has `rows` rows of K. */
export function linear(x, rows, K, w, b, N) {
  const y = new Float32Array(rows * N);
  gemmNT(x, 0, rows, K, w, 0, N, y, 0, b);
  return y;
}

/** Broadcast strides (in elements) of `shape` against an output of rank `rank` (0 for broadcast dims). */
function broadcastStrides(shape, outShape) {
  const rank = outShape.length;
  const st = new Array(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = rank - shape.length + i;
    st[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return st;
}

/** Offsets of each batch item of `shape` (all but the last two dims), broadcast to `batchShape`. */
function batchOffsets(shape, batchShape, matSize) {
  const lead = shape.slice(0, -2);
  const st = broadcastStrides(lead, batchShape);
  const n = numelOf(batchShape);
  const offs = new Array(n);
  const idx = new Array(batchShape.length).fill(0);
  for (let t = 0; t < n; t++) {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += idx[d] * st[d];
    offs[t] = o * matSize;
    for (let d = idx.length - 1; d >= 0; d--) { if (++idx[d] < batchShape[d]) break; idx[d] = 0; }
  }
  return offs;
}

/** Batched a[..., M, K] @ b[..., K, N] with broadcast leading dims (outShape given). */
export function matmul(a, aShape, b, bShape, outShape) {
  const M = aShape[aShape.length - 2], K = aShape[aShape.length - 1], N = bShape[bShape.length - 1];
  const lead = outShape.slice(0, -2);
  const aOffs = batchOffsets(aShape, lead, M * K), bOffs = batchOffsets(bShape, lead, K * N);
  const y = new Float32Array(numelOf(outShape));
  const cache = new Map();
  for (let t = 0; t < aOffs.length; t++) {
    let bt = cache.get(bOffs[t]);
    if (!bt) { bt = transpose2d(b, bOffs[t], K, N); cache.set(bOffs[t], bt); }
    gemmNT(a, aOffs[t], M, K, bt, 0, N, y, t * M * N, null);
  }
  return y;
}

/** softmax(q k^T * scale) v over [G, T, d] q, [G, S, d] k, [G, S, dv] v (G = product of leading dims). */
export function attention(q, k, v, G, T, S, d, dv, scale) {
  const y = new Float32Array(G * T * dv);
  const s = new Float32Array(T * S);
  for (let g = 0; g < G; g++) {
    gemmNT(q, g * T * d, T, d, k, g * S * d, S, s, 0, null);
    for (let i = 0; i < T * S; i++) s[i] *= scale;
    softmaxRows(s, s, T, S);
    gemmNT(s, 0, T, S, transpose2d(v, g * S * dv, S, dv), 0, dv, y, g * T * dv, null);
  }
  return y;
}

/**
 * NCHW convolution via im2col + GEMM, one group at a time: x [N,C,H,W], w [O,C/groups,kh,kw],
 * stride [sh,sw], zero padding [t,l,b,r], dilation [dh,dw], groups (= C for depthwise).
 */
export function conv2d(x, xShape, w, wShape, bias, stride, pad, dilation, groups) {
  const [N, C, H, W] = xShape, [O, Cg, kh, kw] = wShape, [sh, sw] = stride, [pt, pl, pb, pr] = pad, [dh, dw] = dilation;
  const OH = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1, OW = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const Og = O / groups, KK = Cg * kh * kw, P = OH * OW;
  const cols = new Float32Array(P * KK);
  const tmp = new Float32Array(P * Og);
  const y = new Float32Array(N * O * P);
  for (let n = 0; n < N; n++) for (let g = 0; g < groups; g++) {
    for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      let o = (oy * OW + ox) * KK;
      for (let c = g * Cg; c < (g + 1) * Cg; c++) for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        const row = ((n * C + c) * H + iy) * W;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - pl + kx * dw;
          cols[o++] = iy >= 0 && iy < H && ix >= 0 && ix < W ? x[row + ix] : 0;
        }
      }
    }
    gemmNT(cols, 0, P, KK, w, g * Og * KK, Og, tmp, 0, bias ? bias.subarray(g * Og, (g + 1) * Og) : null);
    const base = (n * O + g * Og) * P;
    for (let p = 0; p < P; p++) for (let c = 0; c < Og; c++) y[base + c * P + p] = tmp[p * Og + c];
  }
  return y;
}

/** NCHW max pooling: kernel [kh,kw], stride [sh,sw], padding [t,l,b,r] that never wins (-inf). */
export function maxpool2d(x, xShape, kernel, stride, pad) {
  const [N, C, H, W] = xShape, [kh, kw] = kernel, [sh, sw] = stride, [pt, pl, pb, pr] = pad;
  const OH = Math.floor((H + pt + pb - kh) / sh) + 1, OW = Math.floor((W + pl + pr - kw) / sw) + 1;
  const y = new Float32Array(N * C * OH * OW);
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W;
    for (let oy = 0; oy < OH; oy++) {
      const y0 = Math.max(oy * sh - pt, 0), y1 = Math.min(oy * sh - pt + kh, H);
      for (let ox = 0; ox < OW; ox++) {
        const x0 = Math.max(ox * sw - pl, 0), x1 = Math.min(ox * sw - pl + kw, W);
        let m = -Infinity;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) { const v = x[plane + iy * W + ix]; if (v > m) m = v; }
        y[o++] = m;
      }
    }
  }
  return y;
}

/**
 * GroupNorm of x [N, C, S...] (S = product of the trailing dims): the C channels form `groups`
 * contiguous groups, each normalized over its channels and positions (biased variance), then scaled
 * and shifted per channel.
 */
export function groupnorm(x, N, C, S, groups, w, b, eps) {
  const y = new Float32Array(N * C * S);
  const Cg = C / groups, len = Cg * S;
  for (let ng = 0; ng < N * groups; ng++) {
    const o = ng * len;
    const [mean, inv] = normStats(x, o, len, eps);
    const c0 = (ng % groups) * Cg;
    for (let c = 0; c < Cg; c++) {
      const scale = inv * (w ? w[c0 + c] : 1), shift = b ? b[c0 + c] : 0;
      for (let s = 0, i = o + c * S; s < S; s++, i++) y[i] = (x[i] - mean) * scale + shift;
    }
  }
  return y;
}

/** Mean and 1 / sqrt(biased variance + eps) of x[o, o + n), in two passes (float64 sums). */
function normStats(x, o, n, eps) {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[o + i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) { const t = x[o + i] - mean; v += t * t; }
  return [mean, 1 / Math.sqrt(v / n + eps)];
}

/** LayerNorm over rows of D (biased variance), optional affine weight and bias. */
export function layernorm(x, rows, D, w, b, eps) {
  const y = new Float32Array(rows * D);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    const [mean, inv] = normStats(x, o, D, eps);
    for (let i = 0; i < D; i++) y[o + i] = (x[o + i] - mean) * inv * (w ? w[i] : 1) + (b ? b[i] : 0);
  }
  return y;
}

function softmaxRows(x, y, rows, n) {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let m = -Infinity;
    for (let i = 0; i < n; i++) if (x[o + i] > m) m = x[o + i];
    let s = 0;
    for (let i = 0; i < n; i++) { const e = Math.exp(x[o + i] - m); y[o + i] = e; s += e; }
    const inv = 1 / s;
    for (let i = 0; i < n; i++) y[o + i] *= inv;
  }
}

/** Softmax along the middle dim of an [outer, n, inner] view. */
export function softmax(x, outer, n, inner) {
  const y = new Float32Array(outer * n * inner);
  if (inner === 1) { softmaxRows(x, y, outer, n); return y; }
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
    const base = o * n * inner + j;
    let m = -Infinity;
    for (let i = 0; i < n; i++) m = Math.max(m, x[base + i * inner]);
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(x[base + i * inner] - m);
    for (let i = 0; i < n; i++) y[base + i * inner] = Math.exp(x[base + i * inner] - m) / s;
  }
  return y;
}

/** erf with relative error < 1.2e-7 (Numerical Recipes' Chebyshev fit of erfc). */
function erf(x) {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

export const UNARY = {
  gelu: (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2)),
  gelu_tanh: (v) => 0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))),
  relu: (v) => (v > 0 ? v : 0),
  silu: (v) => v / (1 + Math.exp(-v)),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  neg: (v) => -v,
};

export function unary(name, x) {
  const f = UNARY[name];
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]);
  return y;
}

const BINARY = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

/** Elementwise a op b with numpy broadcasting to outShape. */
export function binary(name, a, aShape, b, bShape, outShape) {
  const f = BINARY[name];
  const n = numelOf(outShape);
  const y = new Float32Array(n);
  if (a.length === n && b.length === n) { for (let i = 0; i < n; i++) y[i] = f(a[i], b[i]); return y; }
  if (a.length === n && isSuffixBroadcast(bShape, outShape)) { const m = b.length; for (let i = 0; i < n; i++) y[i] = f(a[i], b[i % m]); return y; }
  if (b.length === n && isSuffixBroadcast(aShape, outShape)) { const m = a.length; for (let i = 0; i < n; i++) y[i] = f(a[i % m], b[i]); return y; }
  const sa = broadcastStrides(aShape, outShape), sb = broadcastStrides(bShape, outShape);
  const idx = new Array(outShape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let oa = 0, ob = 0;
    for (let d = 0; d < idx.length; d++) { oa += idx[d] * sa[d]; ob += idx[d] * sb[d]; }
    y[i] = f(a[oa], b[ob]);
    for (let d = idx.length - 1; d >= 0; d--) { if (++idx[d] < outShape[d]) break; idx[d] = 0; }
  }
  return y;
}

/** True when `shape` (after dropping leading 1s) equals a suffix of outShape: x[i % numel] works. */
function isSuffixBroadcast(shape, outShape) {
  let s = shape;
  while (s.length && s[0] === 1) s = s.slice(1);
  const tail = outShape.slice(outShape.length - s.length);
  return s.every((d, i) => d === tail[i]);
}

/** Broadcast x to outShape. */
export function expand(x, xShape, outShape) {
  const n = numelOf(outShape);
  const y = new Float32Array(n);
  if (isSuffixBroadcast(xShape, outShape)) { const m = x.length; for (let i = 0; i < n; i++) y[i] = x[i % m]; return y; }
  const st = broadcastStrides(xShape, outShape);
  const idx = new Array(outShape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += idx[d] * st[d];
    y[i] = x[o];
    for (let d = idx.length - 1; d >= 0; d--) { if (++idx[d] < outShape[d]) break; idx[d] = 0; }
  }
  return y;
}

/** Permute dims of x (shape xShape) by perm. */
export function transpose(x, xShape, perm) {
  const rank = xShape.length;
  const outShape = perm.map((p) => xShape[p]);
  const inStrides = new Array(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) { inStrides[i] = s; s *= xShape[i]; }
  const st = perm.map((p) => inStrides[p]);
  const n = x.length;
  const y = new Float32Array(n);
  const last = outShape[rank - 1], lastStride = st[rank - 1];
  const idx = new Array(rank - 1).fill(0);
  for (let o = 0; o < n; o += last) {
    let base = 0;
    for (let d = 0; d < rank - 1; d++) base += idx[d] * st[d];
    for (let j = 0; j < last; j++) y[o + j] = x[base + j * lastStride];
    for (let d = rank - 2; d >= 0; d--) { if (++idx[d] < outShape[d]) break; idx[d] = 0; }
  }
  return y;
}

/** Concatenate [outer, n_i, inner] views along the middle dim. */
export function concat(xs, sizes, outer, inner) {
  const total = sizes.reduce((a, b) => a + b, 0);
  const y = new Float32Array(outer * total * inner);
  for (let o = 0; o < outer; o++) {
    let at = o * total * inner;
    for (let t = 0; t < xs.length; t++) {
      const len = sizes[t] * inner;
      y.set(xs[t].subarray(o * len, (o + 1) * len), at);
      at += len;
    }
  }
  return y;
}

/** x[:, start:end, :] of an [outer, n, inner] view. */
export function slice(x, outer, n, inner, start, end) {
  const len = (end - start) * inner;
  const y = new Float32Array(outer * len);
  for (let o = 0; o < outer; o++) y.set(x.subarray((o * n + start) * inner, (o * n + start) * inner + len), o * len);
  return y;
}

/** Mean over the middle dim of an [outer, n, inner] view. */
export function mean(x, outer, n, inner) {
  const y = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[(o * n + i) * inner + j];
    y[o * inner + j] = s / n;
  }
  return y;
}
