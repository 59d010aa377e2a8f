// The KernelProgram interpreter: runs a planned program over one flat Float32Array, and is the
// executable reference of the kernel layer (cuda and wgsl are tested against what it computes).
// Inlined into every generated JS module; vitc's own tests import it too.
//
// Memory: [params | consts | packed GEMM weights | input | output | arena], all f32. Everything
// before the input is fixed at load; the rest is laid out again when the batch size grows. Views are
// resolved once per batch size into absolute element offsets (row tables and strides); no
// allocation happens per forward call.
//
// Work is split for threads by `part(t, T)` ranges over independent rows or groups, never over a
// reduction, so results are bit-identical for any thread count.

import { gemmNT, conv2d, maxpool2d, groupnorm, matmul, layernorm, softmax } from './kernels.js';

const at = (a, B) => a.b * B + a.c;

/** Row-major offsets of every index over dims [from, to) of a resolved view, plus `base`. */
function offsetTable(shape, strides, from, to, base) {
  let n = 1;
  for (let d = from; d < to; d++) n *= shape[d];
  const out = new Int32Array(n);
  const idx = new Array(to - from).fill(0);
  let o = base;
  for (let i = 0; i < n; i++) {
    out[i] = o;
    for (let d = to - 1; d >= from; d--) {
      const k = d - from;
      o += strides[d];
      if (++idx[k] < shape[d]) break;
      o -= strides[d] * shape[d];
      idx[k] = 0;
    }
  }
  return out;
}

/** [lo, hi) of n items for part t of T. */
function part(n, t, T) {
  return [Math.floor((n * t) / T), Math.floor((n * (t + 1)) / T)];
}

function numel(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A runnable program. `gen` holds the generated code of each kernel (elementwise loops and GEMM
 * epilogues), `weights(name, shape)` returns a parameter's f32 values.
 */
export class ProgramRunner {
  constructor(program, gen, weights) {
    this.p = program;
    this.gen = gen;
    this.batch = 0;
    // Fixed region: params, consts, then GEMM weights packed as [N, K] rows (k contiguous).
    const base = new Array(program.bufs.length).fill(-1);
    let top = 0;
    for (const b of program.bufs) {
      if (b.kind === 'param' || b.kind === 'const') { base[b.id] = top; top += at(b.size, 1); }
    }
    this.packed = new Map();
    for (const k of program.kernels) {
      if (k.kind !== 'gemm' || program.bufs[k.b.buf].kind === 'temp' || k.rank.g !== 0) continue;
      const key = `${k.b.buf}:${JSON.stringify(k.b)}`;
      if (this.packed.has(key)) { this.packed.set(k.id, this.packed.get(key)); continue; }
      const K = numel(k.b.shape.slice(0, k.rank.k).map((d) => at(d, 1))), N = numel(k.b.shape.slice(k.rank.k).map((d) => at(d, 1)));
      this.packed.set(k.id, { at: top, K, N });
      this.packed.set(key, this.packed.get(k.id));
      top += K * N;
    }
    this.fixed = top;
    this.base = base;
    this.mem = new Float32Array(top);
    for (const b of program.bufs) {
      if (b.kind === 'param') this.mem.set(weights(b.name, b.shape.map((d) => at(d, 1))), base[b.id]);
      else if (b.kind === 'const') this.mem.set(b.data, base[b.id]);
    }
    for (const k of program.kernels) {
      const pk = this.packed.get(k.id);
      if (!pk || pk.filled) continue;
      // B[k, n] -> packed[n * K + k]
      const v = this.view(k.b, 1);
      const kRows = offsetTable(v.shape, v.strides, 0, k.rank.k, 0);
      const nCols = offsetTable(v.shape, v.strides, k.rank.k, v.shape.length, v.off);
      for (let n = 0; n < pk.N; n++) for (let kk = 0; kk < pk.K; kk++) this.mem[pk.at + n * pk.K + kk] = this.mem[nCols[n] + kRows[kk]];
      pk.filled = true;
    }
  }

  /** A view resolved at batch B: absolute element offset, shape and strides as numbers. */
  view(v, B) {
    const b = this.p.bufs[v.buf];
    const base = b.kind === 'temp' ? this.arena + at(b.offset, B) / 4 : b.kind === 'input' || b.kind === 'output' ? this.io[b.id] : this.base[b.id];
    return { off: base + at(v.offset, B), shape: v.shape.map((d) => at(d, B)), strides: v.strides.map((d) => at(d, B)) };
  }

  /** Lay out the per-batch region and resolve every kernel for batch B. */
  prepare(B) {
    if (B === this.batch) return;
    const p = this.p;
    this.io = {};
    let top = this.fixed;
    for (const b of p.bufs) if (b.kind === 'input' || b.kind === 'output') { this.io[b.id] = top; top += at(b.size, B); }
    this.arena = top;
    top += (p.arena.perSample * B + p.arena.fixed) / 4;
    if (top > this.mem.length) {
      const mem = new Float32Array(top);
      mem.set(this.mem.subarray(0, this.fixed));
      this.mem = mem;
    }
    this.plans = p.kernels.map((k) => this.plan(k, B));
    this.batch = B;
  }

  /** Per-kernel offsets at batch B. */
  plan(k, B) {
    const rowsCols = (v, split) => {
      const r = this.view(v, B);
      return { rows: offsetTable(r.shape, r.strides, 0, split, r.off), cols: offsetTable(r.shape, r.strides, split, r.shape.length, 0) };
    };
    switch (k.kind) {
      case 'gemm': {
        const { g, m, k: kk } = k.rank;
        const split = g + m;
        const out = rowsCols(k.out, split);
        return {
          a: rowsCols(k.a, split), out, ins: k.epi.ins.map((v) => rowsCols(v, split)),
          b: this.packed.get(k.id) ? undefined : rowsCols(k.b, g + kk),
          G: numel(this.view(k.out, B).shape.slice(0, g)), M: numel(this.view(k.out, B).shape.slice(g, split)),
          K: numel(this.view(k.a, B).shape.slice(split)), N: out.cols.length,
          lnw: k.ln && k.ln.w ? this.view(k.ln.w, B) : undefined, lnb: k.ln && k.ln.b ? this.view(k.ln.b, B) : undefined,
        };
      }
      case 'attention': {
        const r = k.q.shape.length;
        const qkv = [k.q, k.k, k.v, k.out].map((v) => { const x = this.view(v, B); return { groups: offsetTable(x.shape, x.strides, 0, r - 2, x.off), st: x.strides.slice(r - 2), n: x.shape.slice(r - 2) }; });
        return { q: qkv[0], k: qkv[1], v: qkv[2], out: qkv[3] };
      }
      case 'layernorm': case 'softmax': {
        // Rows over every dim but the normalized one.
        const axis = k.kind === 'softmax' ? k.axis : k.x.shape.length - 1;
        const perm = [...k.x.shape.keys()].filter((d) => d !== axis).concat([axis]);
        const flat = (v) => { const x = this.view(v, B); return { shape: perm.map((d) => x.shape[d]), strides: perm.map((d) => x.strides[d]), off: x.off }; };
        const x = flat(k.x), o = flat(k.out);
        const rows = (r) => offsetTable(r.shape, r.strides, 0, r.shape.length - 1, r.off);
        return { x: rows(x), xs: x.strides[x.strides.length - 1], out: rows(o), os: o.strides[o.strides.length - 1], n: x.shape[x.shape.length - 1], w: k.w && this.view(k.w, B), b: k.b && this.view(k.b, B) };
      }
      case 'reduce': {
        const x = this.view(k.x, B);
        const keep = [...x.shape.keys()].filter((d) => !k.axes.includes(d));
        const order = keep.concat(k.axes);
        const o = this.view(k.out, B);
        return {
          rows: offsetTable(order.map((d) => x.shape[d]), order.map((d) => x.strides[d]), 0, keep.length, x.off),
          cols: offsetTable(order.map((d) => x.shape[d]), order.map((d) => x.strides[d]), keep.length, order.length, 0),
          out: offsetTable(o.shape, o.strides, 0, o.shape.length, o.off),
        };
      }
      case 'elementwise': case 'copy': {
        const ins = k.kind === 'copy' ? [k.x] : k.ins;
        const r = k.out.shape.length;
        const o = this.view(k.out, B);
        const split = Math.max(0, r - 1);
        const lastOf = (x) => (r === 0 ? 0 : x.strides[r - 1]);
        return {
          n: r === 0 ? 1 : o.shape[r - 1], out: offsetTable(o.shape, o.strides, 0, split, o.off), os: lastOf(o),
          ins: ins.map((v) => { const x = this.view(v, B); return { rows: offsetTable(x.shape, x.strides, 0, split, x.off), s: lastOf(x) }; }),
        };
      }
      case 'generic':
        return { ins: k.ins.map((v) => this.view(v, B)), out: this.view(k.out, B) };
    }
  }

  /** Run kernel i, part t of T. */
  runKernel(i, t, T) {
    const k = this.p.kernels[i], pl = this.plans[i], M = this.mem, gen = this.gen[i];
    switch (k.kind) {
      case 'gemm': return gemmKernel(M, k, pl, this.packed.get(k.id), gen, t, T);
      case 'attention': return attentionKernel(M, k, pl, t, T);
      case 'layernorm': return layernormKernel(M, k, pl, t, T);
      case 'softmax': return softmaxKernel(M, pl, t, T);
      case 'reduce': return reduceKernel(M, pl, t, T);
      case 'elementwise': case 'copy': {
        const [lo, hi] = part(pl.out.length, t, T);
        return gen(M, pl, lo, hi);
      }
      case 'generic': if (t === 0) genericKernel(M, k, pl); return;
    }
  }

  /** forward on one thread: input [B, ...] f32 -> output f32 (fresh arrays). */
  run(input, B) {
    this.prepare(B);
    const p = this.p;
    const inBuf = p.inputs[0];
    this.mem.set(input, this.io[inBuf]);
    for (let i = 0; i < p.kernels.length; i++) this.runKernel(i, 0, 1);
    return p.outputs.map((o) => this.mem.slice(this.io[o.buf], this.io[o.buf] + at(p.bufs[o.buf].size, B)));
  }
}

// ---- kernels ----

const ROWS = 64;

/** out[g, m, n] = epi(Σ_k A·B), over blocks of ROWS rows of one group: packs A (LayerNorm-ed when fused), multiplies, runs the epilogue. */
function gemmKernel(M, k, pl, packed, epi, t, T) {
  const { G, M: Mg, K, N } = pl;
  const A = new Float32Array(ROWS * K), C = new Float32Array(ROWS * N);
  const Bt = packed ? M : new Float32Array(N * K), bOff = packed ? packed.at : 0;
  const perG = Math.ceil(Mg / ROWS);
  const [lo, hi] = part(G * perG, t, T);
  let lastG = -1;
  for (let u = lo; u < hi; u++) {
    const g = Math.floor(u / perG);
    const r0 = g * Mg + (u % perG) * ROWS, r1 = Math.min(g * Mg + Mg, r0 + ROWS);
    if (!packed && g !== lastG) {
      const kRows = pl.b.rows, nCols = pl.b.cols;
      for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) Bt[n * K + kk] = M[kRows[g * K + kk] + nCols[n]];
      lastG = g;
    }
    const cols = pl.a.cols;
    for (let r = r0; r < r1; r++) {
      const ro = pl.a.rows[r], ao = (r - r0) * K;
      for (let kk = 0; kk < K; kk++) A[ao + kk] = M[ro + cols[kk]];
      if (k.ln) lnRow(A, ao, K, k.ln.eps, pl.lnw, pl.lnb, M);
    }
    gemmNT(A, 0, r1 - r0, K, Bt, bOff, N, C, 0, null);
    epi(M, C, pl, r0, r1);
  }
}

/** LayerNorm of one packed row in place (f64 statistics). */
function lnRow(A, o, K, eps, w, b, M) {
  let mean = 0;
  for (let i = 0; i < K; i++) mean += A[o + i];
  mean /= K;
  let v = 0;
  for (let i = 0; i < K; i++) { const d = A[o + i] - mean; v += d * d; }
  const inv = 1 / Math.sqrt(v / K + eps);
  for (let i = 0; i < K; i++) {
    let y = (A[o + i] - mean) * inv;
    if (w) y *= M[w.off + i * w.strides[0]];
    if (b) y += M[b.off + i * b.strides[0]];
    A[o + i] = y;
  }
}

function attentionKernel(M, k, pl, t, T) {
  const [Tn, d] = pl.q.n, [S] = pl.k.n, dv = pl.v.n[1];
  const G = pl.q.groups.length;
  const q = new Float32Array(Tn * d), kk = new Float32Array(S * d), vt = new Float32Array(dv * S);
  const s = new Float32Array(Tn * S), o = new Float32Array(Tn * dv);
  const [lo, hi] = part(G, t, T);
  for (let g = lo; g < hi; g++) {
    const gather = (src, dst, rows, cols, transpose) => {
      const base = src.groups[g], [sr, sc] = src.st;
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[transpose ? c * rows + r : r * cols + c] = M[base + r * sr + c * sc];
    };
    gather(pl.q, q, Tn, d, false);
    gather(pl.k, kk, S, d, false);
    gather(pl.v, vt, S, dv, true);
    gemmNT(q, 0, Tn, d, kk, 0, S, s, 0, null);
    for (let r = 0; r < Tn; r++) {
      const ro = r * S;
      let mx = -Infinity;
      for (let j = 0; j < S; j++) { s[ro + j] *= k.scale; if (s[ro + j] > mx) mx = s[ro + j]; }
      let sum = 0;
      for (let j = 0; j < S; j++) { const e = Math.exp(s[ro + j] - mx); s[ro + j] = e; sum += e; }
      const inv = 1 / sum;
      for (let j = 0; j < S; j++) s[ro + j] *= inv;
    }
    gemmNT(s, 0, Tn, S, vt, 0, dv, o, 0, null);
    const base = pl.out.groups[g], [sr, sc] = pl.out.st;
    for (let r = 0; r < Tn; r++) for (let c = 0; c < dv; c++) M[base + r * sr + c * sc] = o[r * dv + c];
  }
}

function layernormKernel(M, k, pl, t, T) {
  const n = pl.n, row = new Float64Array(n);
  const [lo, hi] = part(pl.x.length, t, T);
  for (let r = lo; r < hi; r++) {
    const xo = pl.x[r], oo = pl.out[r];
    let mean = 0;
    for (let i = 0; i < n; i++) { row[i] = M[xo + i * pl.xs]; mean += row[i]; }
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) { const d = row[i] - mean; v += d * d; }
    const inv = 1 / Math.sqrt(v / n + k.eps);
    for (let i = 0; i < n; i++) {
      let y = (row[i] - mean) * inv;
      if (pl.w) y *= M[pl.w.off + i * pl.w.strides[0]];
      if (pl.b) y += M[pl.b.off + i * pl.b.strides[0]];
      M[oo + i * pl.os] = y;
    }
  }
}

function softmaxKernel(M, pl, t, T) {
  const n = pl.n, row = new Float64Array(n);
  const [lo, hi] = part(pl.x.length, t, T);
  for (let r = lo; r < hi; r++) {
    const xo = pl.x[r], oo = pl.out[r];
    let mx = -Infinity;
    for (let i = 0; i < n; i++) { row[i] = M[xo + i * pl.xs]; if (row[i] > mx) mx = row[i]; }
    let sum = 0;
    for (let i = 0; i < n; i++) { row[i] = Math.exp(row[i] - mx); sum += row[i]; }
    for (let i = 0; i < n; i++) M[oo + i * pl.os] = row[i] / sum;
  }
}

function reduceKernel(M, pl, t, T) {
  const [lo, hi] = part(pl.rows.length, t, T);
  const n = pl.cols.length;
  for (let r = lo; r < hi; r++) {
    let s = 0;
    const ro = pl.rows[r];
    for (let j = 0; j < n; j++) s += M[ro + pl.cols[j]];
    M[pl.out[r]] = s / n;
  }
}

/** Gather a resolved view into a contiguous array. */
function gatherView(M, v) {
  const offs = offsetTable(v.shape, v.strides, 0, v.shape.length, v.off);
  const out = new Float32Array(offs.length);
  for (let i = 0; i < offs.length; i++) out[i] = M[offs[i]];
  return out;
}

function genericKernel(M, k, pl) {
  const ref = REFERENCE_OPS[k.op];
  if (!ref) throw new Error(`no reference kernel for op ${k.op}`);
  const y = ref(pl.ins.map((v) => gatherView(M, v)), pl.ins.map((v) => v.shape), k.attrs, pl.out.shape);
  const offs = offsetTable(pl.out.shape, pl.out.strides, 0, pl.out.shape.length, pl.out.off);
  for (let i = 0; i < offs.length; i++) M[offs[i]] = y[i];
}

/** Ops that run as generic kernels, by their plain-JS references (kernels.js): contiguous inputs, shapes, attrs. */
const REFERENCE_OPS = {
  conv2d: ([x, w, b], [xs, ws], a) => conv2d(x, xs, w, ws, b || null, a.stride, a.pad, a.dilation, a.groups),
  maxpool2d: ([x], [xs], a) => maxpool2d(x, xs, a.kernel, a.stride, a.pad),
  groupnorm: ([x, w, b], [xs], a) => groupnorm(x, xs[0], xs[1], numel(xs.slice(2)), a.groups, w || null, b || null, a.eps),
  matmul: ([a, b], [as, bs], _a, os) => matmul(a, as, b, bs, os),
  layernorm: ([x, w, b], [xs], a) => layernorm(x, numel(xs.slice(0, -1)), xs[xs.length - 1], w || null, b || null, a.eps),
  softmax: ([x], [xs], a) => softmax(x, numel(xs.slice(0, a.axis)), xs[a.axis], numel(xs.slice(a.axis + 1))),
};
