// The KernelProgram interpreter: runs a planned program over one flat memory, and is the executable
// reference of the kernel layer (cuda and wgsl are tested against what it computes). Inlined into
// every generated JS module; vitc's own tests import it too.
//
// Memory, all f32, in one WebAssembly.Memory when the engine has WebAssembly (shared between
// threads): [params | consts | GEMM weights packed in panels | per-thread scratch | input | output |
// arena]. Everything before the input is fixed at load; the rest is laid out again when the batch
// size grows. Views are resolved once per batch size into absolute element offsets (row tables and
// strides), so a forward call allocates nothing.
//
// GEMMs multiply panels: A in panels of MR=4 rows, B in panels of NR=8 columns, both k-major and
// zero-padded, with a 4x8 micro-kernel (WebAssembly SIMD128 where the engine has it, plain JS
// otherwise). Work is split across threads by row blocks, column panels or groups, never along a
// reduction, so every result is bit-identical for any thread count.

import { conv2d, maxpool2d, groupnorm, matmul, layernorm, softmax } from './kernels.js';

const at = (a, B) => a.b * B + a.c;
// MB rows per block of A: a whole image's tokens (ViT-B/16: 197) in one block, so each weight panel
// streams from memory once per block, not once per 64 rows (ViT-B/16 on one thread: 0.86x the CPU time of MB = 64).
const MR = 4, NR = 8, MB = 256, KC = 256;
// The GEMM's C rows are CPAD floats (one cache line) longer than their columns: rows a multiple of
// 4 KiB apart (768 or 3072 columns) would all map to the same cache sets.
const CPAD = 16;
const ceilTo = (n, m) => Math.ceil(n / m) * m;

/** Row-major offsets of every index over dims [from, to) of a resolved view, plus `base`. */
/** Whether an offset table is 0, 1, 2, ...: the columns of a row are contiguous. */
function isDense(cols) {
  for (let j = 0; j < cols.length; j++) if (cols[j] !== j) return false;
  return true;
}

/** Whether the output and every epilogue input of a plan has contiguous columns (the epilogue's fast loop). */
const denseEpilogue = (out, ins) => isDense(out.cols) && ins.every((x) => isDense(x.cols));

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

/** The plain-JS micro-kernel over the same panels as the WebAssembly one (f64 sums, stored as f32). */
function gemmPanelsJS(F, a, b, c, mp, np, K, ldc) {
  for (let j = 0; j < np; j++) {
    const bj = b + j * K * NR;
    for (let i = 0; i < mp; i++) {
      const ai = a + i * K * MR;
      for (let h = 0; h < NR; h += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let k = 0, ap = ai, bp = bj + h; k < K; k++, ap += MR, bp += NR) {
          const x0 = F[ap], x1 = F[ap + 1], x2 = F[ap + 2], x3 = F[ap + 3];
          const w0 = F[bp], w1 = F[bp + 1], w2 = F[bp + 2], w3 = F[bp + 3];
          c00 += x0 * w0; c01 += x0 * w1; c02 += x0 * w2; c03 += x0 * w3;
          c10 += x1 * w0; c11 += x1 * w1; c12 += x1 * w2; c13 += x1 * w3;
          c20 += x2 * w0; c21 += x2 * w1; c22 += x2 * w2; c23 += x2 * w3;
          c30 += x3 * w0; c31 += x3 * w1; c32 += x3 * w2; c33 += x3 * w3;
        }
        let o = c + i * MR * ldc + j * NR + h;
        F[o] = c00; F[o + 1] = c01; F[o + 2] = c02; F[o + 3] = c03; o += ldc;
        F[o] = c10; F[o + 1] = c11; F[o + 2] = c12; F[o + 3] = c13; o += ldc;
        F[o] = c20; F[o + 1] = c21; F[o + 2] = c22; F[o + 3] = c23; o += ldc;
        F[o] = c30; F[o + 1] = c31; F[o + 2] = c32; F[o + 3] = c33;
      }
    }
  }
}

/** What a program needs besides its buffers: per-thread scratch sizes (floats), from its kernels at batch 1. */
function scratchNeeds(p) {
  let a = 0, b = 0, c = 0;
  const dims = (v, from, to) => numel(v.shape.slice(from, to).map((d) => at(d, 1)));
  for (const k of p.kernels) {
    if (k.kind === 'gemm') {
      const { g, m, k: kk } = k.rank;
      const K = dims(k.a, g + m, k.a.shape.length), N = dims(k.out, g + m, k.out.shape.length);
      a = Math.max(a, MB * K);
      c = Math.max(c, MB * (ceilTo(N, NR) + CPAD));
      if (p.bufs[k.b.buf].kind === 'temp' || g > 0) b = Math.max(b, ceilTo(N, NR) * K);
    } else if (k.kind === 'groupnorm') {
      const C = at(k.x.shape[1], 1), S = numel(k.x.shape.slice(2).map((d) => at(d, 1)));
      c = Math.max(c, (C / k.groups) * S);
    } else if (k.kind === 'attention') {
      const r = k.q.shape.length;
      const T = at(k.q.shape[r - 2], 1), d = at(k.q.shape[r - 1], 1), S = at(k.k.shape[r - 2], 1), dv = at(k.v.shape[r - 1], 1);
      void T;
      a = Math.max(a, MB * Math.max(d, S));
      b = Math.max(b, ceilTo(S, NR) * d + ceilTo(dv, NR) * S);
      c = Math.max(c, MB * Math.max(ceilTo(S, NR), ceilTo(dv, NR)));
    }
  }
  return { a, b, c, total: a + b + c };
}

/**
 * One thread's view of a program. The first runner (`init`) loads the weights into `memory` and
 * packs them; others attach to the same memory. Every runner resolves the same offsets.
 */
export class ProgramRunner {
  constructor(program, gen, opts) {
    this.p = program;
    this.gen = gen;
    this.t = opts.thread || 0;
    this.T = opts.threads || 1;
    this.batch = 0;
    // Fixed region: params, consts, packed GEMM weights, then the scratch of every thread.
    const base = new Array(program.bufs.length).fill(-1);
    let top = 0;
    for (const b of program.bufs) {
      if (b.kind === 'param' || b.kind === 'const') { base[b.id] = top; top += ceilTo(at(b.size, 1), 16); }
    }
    this.packed = new Map();
    const byKey = new Map();
    for (const k of program.kernels) {
      if (k.kind !== 'gemm' || program.bufs[k.b.buf].kind === 'temp' || k.rank.g !== 0) continue;
      const key = JSON.stringify(k.b);
      if (byKey.has(key)) { this.packed.set(k.id, byKey.get(key)); continue; }
      const K = numel(k.b.shape.slice(0, k.rank.k).map((d) => at(d, 1))), N = numel(k.b.shape.slice(k.rank.k).map((d) => at(d, 1)));
      const pk = { at: top, K, N, np: Math.ceil(N / NR), view: k.b, rankK: k.rank.k };
      this.packed.set(k.id, pk);
      byKey.set(key, pk);
      top += pk.np * NR * K;
    }
    this.needs = scratchNeeds(program);
    this.scratch = top + this.t * this.needs.total;
    top += this.T * this.needs.total;
    this.fixed = top;
    this.base = base;
  }

  /**
   * Use `memory` (a WebAssembly.Memory, or a Float32Array where there is no WebAssembly) and `wasm`,
   * the exports of the program's WebAssembly module over that memory (byte addresses: the GEMM
   * micro-kernel, the attention softmax, the epilogues), or null for the plain-JS kernels.
   */
  attach(memory, wasm) {
    this.memory = memory;
    this.W = wasm || null;
    this.gemmImpl = wasm ? wasm.gemm : null;
    this.refresh();
    this.batch = 0;
  }

  /** Bytes of the fixed region (the memory must hold at least this before `load`). */
  get fixedBytes() {
    return this.fixed * 4;
  }

  /** Re-create the f32 view after the memory grew. */
  refresh() {
    this.mem = this.memory instanceof Float32Array ? this.memory : new Float32Array(this.memory.buffer);
  }

  /** Whether the f32 view is stale (the memory grew, possibly in another thread). */
  stale() {
    return !(this.memory instanceof Float32Array) && this.mem.length * 4 !== this.memory.buffer.byteLength;
  }

  /** Fill params and consts, and pack GEMM weights into panels (the first runner only). */
  load(weights) {
    const F = this.mem;
    for (const b of this.p.bufs) {
      if (b.kind === 'param') F.set(weights(b.name, b.shape.map((d) => at(d, 1))), this.base[b.id]);
      else if (b.kind === 'const') F.set(b.data, this.base[b.id]);
    }
    for (const pk of new Set(this.packed.values())) {
      // B[k, n] -> panel j = n / 8: packed[at + (j * K + k) * 8 + n % 8], zero past N.
      const v = this.view(pk.view, 1);
      const kRows = offsetTable(v.shape, v.strides, 0, pk.rankK, 0);
      const nCols = offsetTable(v.shape, v.strides, pk.rankK, v.shape.length, v.off);
      for (let n = 0; n < pk.np * NR; n++) {
        const dst = pk.at + Math.floor(n / NR) * pk.K * NR + (n % NR);
        if (n >= pk.N) { for (let kk = 0; kk < pk.K; kk++) F[dst + kk * NR] = 0; continue; }
        const src = nCols[n];
        for (let kk = 0; kk < pk.K; kk++) F[dst + kk * NR] = F[src + kRows[kk]];
      }
    }
  }

  /** A view resolved at batch B: absolute element offset, shape and strides as numbers. */
  view(v, B) {
    const b = this.p.bufs[v.buf];
    const base = b.kind === 'temp' ? this.arena + at(b.offset, B) / 4 : b.kind === 'input' || b.kind === 'output' ? this.io[b.id] : this.base[b.id];
    return { off: base + at(v.offset, B), shape: v.shape.map((d) => at(d, B)), strides: v.strides.map((d) => at(d, B)) };
  }

  /** Elements the memory must hold for batch B. */
  layout(B) {
    const io = {};
    let top = this.fixed;
    for (const b of this.p.bufs) if (b.kind === 'input' || b.kind === 'output') { io[b.id] = top; top = ceilTo(top + at(b.size, B), 16); }
    const arena = top;
    top += (this.p.arena.perSample * B + this.p.arena.fixed) / 4;
    return { io, arena, top };
  }

  /** Lay out the per-batch region for batch B without resolving the kernels (the thread that only feeds input and reads output). */
  layoutFor(B) {
    if (this.stale()) this.refresh();
    if (B === this.batch || B === this.ioBatch) return;
    const { io, arena } = this.layout(B);
    this.io = io;
    this.arena = arena;
    this.ioBatch = B;
  }

  /** Lay out the per-batch region and resolve every kernel for batch B (the memory must be large enough). */
  prepare(B) {
    if (this.stale()) this.refresh();
    if (B === this.batch) return;
    const { io, arena } = this.layout(B);
    this.io = io;
    this.arena = arena;
    this.plans = this.p.kernels.map((k) => this.plan(k, B));
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
        const out = rowsCols(k.out, split), ins = k.epi.ins.map((v) => rowsCols(v, split));
        const o = this.view(k.out, B), a = this.view(k.a, B);
        return {
          a: rowsCols(k.a, split), out, ins, dense: denseEpilogue(out, ins),
          b: this.packed.get(k.id) ? undefined : rowsCols(k.b, g + kk),
          G: numel(o.shape.slice(0, g)), M: numel(o.shape.slice(g, split)), K: numel(a.shape.slice(split)), N: out.cols.length,
          lnw: k.ln && k.ln.w ? this.view(k.ln.w, B) : undefined, lnb: k.ln && k.ln.b ? this.view(k.ln.b, B) : undefined,
        };
      }
      case 'attention': {
        const r = k.q.shape.length;
        const one = (v) => { const x = this.view(v, B); return { groups: offsetTable(x.shape, x.strides, 0, r - 2, x.off), st: x.strides.slice(r - 2), n: x.shape.slice(r - 2) }; };
        return { q: one(k.q), k: one(k.k), v: one(k.v), out: one(k.out) };
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
      case 'groupnorm': {
        const x = this.view(k.x, B), out = rowsCols(k.out, 2), ins = k.epi.ins.map((v) => rowsCols(v, 2));
        return {
          x: rowsCols(k.x, 2), out, ins, dense: denseEpilogue(out, ins),
          N: x.shape[0], C: x.shape[1], w: k.w && this.view(k.w, B), b: k.b && this.view(k.b, B),
        };
      }
      case 'im2col': {
        const x = this.view(k.x, B), o = this.view(k.out, B);
        return { x, rows: offsetTable(o.shape, o.strides, 0, 3, o.off), cols: offsetTable(o.shape, o.strides, 3, 6, 0), o };
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

  /**
   * C[0.., 0..] = A panels x B panels (element offsets; panels K deep). The SIMD kernel goes through K
   * in chunks of KC (a B panel chunk stays in L1; the f32 sums are the same); the JS one in one pass.
   */
  gemm(a, b, c, mp, np, K, ldc) {
    if (!this.gemmImpl) return gemmPanelsJS(this.mem, a, b, c, mp, np, K, ldc);
    for (let k0 = 0; k0 < K; k0 += KC) this.gemmImpl((a + k0 * MR) * 4, (b + k0 * NR) * 4, c * 4, mp, np, Math.min(KC, K - k0), K, ldc, k0 > 0 ? 1 : 0);
  }

  /** Run this thread's part of kernel i. */
  runKernel(i) {
    const k = this.p.kernels[i], pl = this.plans[i], F = this.mem, gen = this.gen[i], t = this.t, T = this.T;
    switch (k.kind) {
      case 'gemm': return this.gemmKernel(k, pl, gen);
      case 'attention': return this.attentionKernel(k, pl);
      case 'layernorm': return layernormKernel(F, k, pl, t, T);
      case 'groupnorm': return this.groupnormKernel(k, pl, gen);
      case 'im2col': return im2colKernel(F, k, pl, t, T);
      case 'softmax': return softmaxKernel(F, pl, t, T);
      case 'reduce': return reduceKernel(F, pl, t, T);
      case 'elementwise': case 'copy': {
        const [lo, hi] = part(pl.out.length, t, T);
        return gen(F, pl, lo, hi);
      }
      case 'generic': if (t === 0) genericKernel(F, k, pl); return;
    }
  }

  /** Pack rows [r0, r1) of an A operand (row table + column table) into panels at `dst`, LayerNorm-ing them when asked. */
  packRows(dst, rows, cols, r0, r1, K, ln, lnw, lnb) {
    const F = this.mem, W = this.W;
    // WebAssembly where each row is contiguous (f32 LayerNorm statistics there, f64 in JS).
    if (W && isDense(cols) && (!lnw || lnw.strides[0] === 1) && (!lnb || lnb.strides[0] === 1)) {
      const mode = ln ? 1 | (lnw ? 2 : 0) | (lnb ? 4 : 0) : 0, eps = ln ? ln.eps : 0, w = lnw ? lnw.off * 4 : 0, b = lnb ? lnb.off * 4 : 0;
      for (let r = r0; r < r1; r++) { const i = r - r0; W.pack(rows[r] * 4, K, (dst + Math.floor(i / MR) * K * MR + (i % MR)) * 4, MR * 4, mode, eps, w, b); }
    } else for (let r = r0; r < r1; r++) {
      const ro = rows[r], i = r - r0, o = dst + Math.floor(i / MR) * K * MR + (i % MR);
      if (!ln) {
        for (let kk = 0; kk < K; kk++) F[o + kk * MR] = F[ro + cols[kk]];
        continue;
      }
      let mean = 0;
      for (let kk = 0; kk < K; kk++) mean += F[ro + cols[kk]];
      mean /= K;
      let v = 0;
      for (let kk = 0; kk < K; kk++) { const d = F[ro + cols[kk]] - mean; v += d * d; }
      const inv = 1 / Math.sqrt(v / K + ln.eps);
      for (let kk = 0; kk < K; kk++) {
        let y = (F[ro + cols[kk]] - mean) * inv;
        if (lnw) y *= F[lnw.off + kk * lnw.strides[0]];
        if (lnb) y += F[lnb.off + kk * lnb.strides[0]];
        F[o + kk * MR] = y;
      }
    }
    for (let i = r1 - r0; i < ceilTo(r1 - r0, MR); i++) {
      const o = dst + Math.floor(i / MR) * K * MR + (i % MR);
      for (let kk = 0; kk < K; kk++) F[o + kk * MR] = 0;
    }
  }

  /** out[g, m, n] = epi(Σ_k A·B) over blocks of MB rows: packs A (LayerNorm-ed when fused), multiplies panels, runs the epilogue. */
  gemmKernel(k, pl, epi) {
    const { G, M: Mg, K, N } = pl, t = this.t, T = this.T, F = this.mem;
    const sA = this.scratch, sB = sA + this.needs.a, sC = sB + this.needs.b;
    const np = Math.ceil(N / NR);
    const packed = this.packed.get(k.id);
    const perG = Math.ceil(Mg / MB);
    const units = G * perG;
    // Split rows between threads when there are enough row blocks, else column panels (one image:
    // each thread packs every row and multiplies its share of the weight panels, which are then read
    // once in all). One group's rows are split evenly in whole MR-row panels; several groups are split
    // by row blocks. Either way each element is the same sum.
    const byRows = units >= 2 * T || np < T;
    const [j0, j1] = byRows ? [0, np] : part(np, t, T);
    if (j0 >= j1) return;
    let u0 = 0, u1 = units, rLo = 0, rHi = Mg, bs = MB;
    if (byRows && G === 1) {
      const [p0, p1] = part(Math.ceil(Mg / MR), t, T);
      rLo = p0 * MR;
      rHi = Math.min(Mg, p1 * MR);
    } else if (byRows) [u0, u1] = part(units, t, T);
    if (G === 1) {
      // This thread's rows in blocks of equal size (788 rows: 4 x 197, not 3 x 256 + 20).
      u1 = Math.ceil((rHi - rLo) / MB);
      bs = ceilTo(Math.ceil((rHi - rLo) / u1), MR);
    }
    let lastG = -1, bAt = packed ? packed.at : sB;
    for (let u = u0; u < u1; u++) {
      const g = G === 1 ? 0 : Math.floor(u / perG);
      const r0 = G === 1 ? rLo + u * bs : g * Mg + (u % perG) * MB, r1 = Math.min(G === 1 ? rHi : g * Mg + Mg, r0 + bs);
      if (!packed && g !== lastG) {
        const kRows = pl.b.rows, nCols = pl.b.cols;
        for (let j = j0; j < j1; j++) for (let kk = 0; kk < K; kk++) {
          const o = sB + (j * K + kk) * NR;
          for (let s = 0; s < NR; s++) { const n = j * NR + s; F[o + s] = n < N ? F[kRows[g * K + kk] + nCols[n]] : 0; }
        }
        bAt = sB;
        lastG = g;
      }
      this.packRows(sA, pl.a.rows, pl.a.cols, r0, r1, K, k.ln, pl.lnw, pl.lnb);
      const ldc = (j1 - j0) * NR + CPAD;
      this.gemm(sA, bAt + j0 * K * NR, sC, Math.ceil((r1 - r0) / MR), j1 - j0, K, ldc);
      epi(F, sC, pl, r0, r1, j0 * NR, Math.min(N, j1 * NR), ldc, this.W);
    }
  }

  /** GroupNorm per (image, group): f64 statistics over the group's channels and positions, the affine, then the epilogue. */
  groupnormKernel(k, pl, epi) {
    const F = this.mem, { N, C } = pl, cg = C / k.groups, S = pl.x.cols.length, sC = this.scratch + this.needs.a + this.needs.b;
    const [lo, hi] = part(N * k.groups, this.t, this.T);
    for (let u = lo; u < hi; u++) {
      const r0 = Math.floor(u / k.groups) * C + (u % k.groups) * cg, r1 = r0 + cg;
      let mean = 0;
      for (let r = r0; r < r1; r++) for (let j = 0; j < S; j++) mean += F[pl.x.rows[r] + pl.x.cols[j]];
      mean /= cg * S;
      let v = 0;
      for (let r = r0; r < r1; r++) for (let j = 0; j < S; j++) { const d = F[pl.x.rows[r] + pl.x.cols[j]] - mean; v += d * d; }
      const inv = 1 / Math.sqrt(v / (cg * S) + k.eps);
      for (let r = r0; r < r1; r++) {
        const c = r % C, w = pl.w ? F[pl.w.off + c * pl.w.strides[0]] : 1, b = pl.b ? F[pl.b.off + c * pl.b.strides[0]] : 0;
        const o = sC + (r - r0) * S, xo = pl.x.rows[r];
        for (let j = 0; j < S; j++) F[o + j] = (F[xo + pl.x.cols[j]] - mean) * inv * w + b;
      }
      epi(F, sC, pl, r0, r1, 0, S, S, this.W);
    }
  }

  /** softmax(q kᵀ·scale) v per group, over blocks of MB query rows: K and V packed once per group, P written as A panels. */
  attentionKernel(k, pl) {
    const F = this.mem, W = this.W, t = this.t, T = this.T;
    const [Tn, d] = pl.q.n, [S] = pl.k.n, dv = pl.v.n[1];
    const npS = Math.ceil(S / NR), npV = Math.ceil(dv / NR);
    const sA = this.scratch, sK = sA + this.needs.a, sV = sK + npS * NR * d, sC = sA + this.needs.a + this.needs.b;
    const G = pl.q.groups.length;
    const [lo, hi] = part(G, t, T);
    const ldS = npS * NR, ldO = npV * NR;
    for (let g = lo; g < hi; g++) {
      // K as B panels over s (k = feature), V as B panels over its features (k = s).
      const kb = pl.k.groups[g], [ks, kf] = pl.k.st;
      if (W && kf === 1) {
        for (let n = 0; n < S; n++) W.pack((kb + n * ks) * 4, d, (sK + Math.floor(n / NR) * d * NR + (n % NR)) * 4, NR * 4, 0, 0, 0, 0);
        for (let n = S; n < npS * NR; n++) for (let f = 0; f < d; f++) F[sK + (Math.floor(n / NR) * d + f) * NR + (n % NR)] = 0;
      } else for (let j = 0; j < npS; j++) for (let f = 0; f < d; f++) {
        const o = sK + (j * d + f) * NR;
        for (let s = 0; s < NR; s++) { const n = j * NR + s; F[o + s] = n < S ? F[kb + n * ks + f * kf] : 0; }
      }
      const vb = pl.v.groups[g], [vs, vf] = pl.v.st;
      for (let j = 0; j < npV; j++) for (let s = 0; s < S; s++) {
        const o = sV + (j * S + s) * NR;
        for (let c = 0; c < NR; c++) { const n = j * NR + c; F[o + c] = n < dv ? F[vb + s * vs + n * vf] : 0; }
      }
      const qb = pl.q.groups[g], [qs, qf] = pl.q.st;
      const ob = pl.out.groups[g], [os, of] = pl.out.st;
      for (let r0 = 0; r0 < Tn; r0 += MB) {
        const rows = Math.min(MB, Tn - r0), mp = Math.ceil(rows / MR);
        for (let i = 0; i < mp * MR; i++) {
          const o = sA + Math.floor(i / MR) * d * MR + (i % MR);
          if (i < rows && W && qf === 1) W.pack((qb + (r0 + i) * qs) * 4, d, o * 4, MR * 4, 0, 0, 0, 0);
          else if (i < rows) for (let f = 0; f < d; f++) F[o + f * MR] = F[qb + (r0 + i) * qs + f * qf];
          else for (let f = 0; f < d; f++) F[o + f * MR] = 0;
        }
        this.gemm(sA, sK, sC, mp, npS, d, ldS);
        // Softmax of each score row (f64 sums in JS, f32 in WebAssembly), written as A panels over s for P·V.
        for (let i = 0; i < mp * MR; i++) {
          const c = sC + i * ldS, o = sA + Math.floor(i / MR) * S * MR + (i % MR);
          if (i >= rows) { for (let s = 0; s < S; s++) F[o + s * MR] = 0; continue; }
          if (W) { W.softmax(c * 4, S, k.scale, o * 4); continue; }
          let mx = -Infinity;
          for (let s = 0; s < S; s++) { const x = F[c + s] * k.scale; if (x > mx) mx = x; }
          let sum = 0;
          for (let s = 0; s < S; s++) { const e = Math.exp(F[c + s] * k.scale - mx); F[c + s] = e; sum += e; }
          const inv = 1 / sum;
          for (let s = 0; s < S; s++) F[o + s * MR] = F[c + s] * inv;
        }
        this.gemm(sA, sV, sC, mp, npV, S, ldO);
        for (let i = 0; i < rows; i++) {
          const c = sC + i * ldO, o = ob + (r0 + i) * os;
          if (of === 1) F.copyWithin(o, c, c + dv);
          else for (let f = 0; f < dv; f++) F[o + f * of] = F[c + f];
        }
      }
    }
  }

  /** The caller's input goes into memory; forward runs every kernel; outputs come back as fresh arrays. */
  setInput(input) {
    this.mem.set(input, this.io[this.p.inputs[0]]);
  }

  outputs(B) {
    return this.p.outputs.map((o) => this.mem.slice(this.io[o.buf], this.io[o.buf] + at(this.p.bufs[o.buf].size, B)));
  }
}

// ---- kernels without panels ----

function layernormKernel(F, k, pl, t, T) {
  const n = pl.n, row = new Float64Array(n);
  const [lo, hi] = part(pl.x.length, t, T);
  for (let r = lo; r < hi; r++) {
    const xo = pl.x[r], oo = pl.out[r];
    let mean = 0;
    for (let i = 0; i < n; i++) { row[i] = F[xo + i * pl.xs]; mean += row[i]; }
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) { const d = row[i] - mean; v += d * d; }
    const inv = 1 / Math.sqrt(v / n + k.eps);
    for (let i = 0; i < n; i++) {
      let y = (row[i] - mean) * inv;
      if (pl.w) y *= F[pl.w.off + i * pl.w.strides[0]];
      if (pl.b) y += F[pl.b.off + i * pl.b.strides[0]];
      F[oo + i * pl.os] = y;
    }
  }
}

/** Patches of a convolution, zero outside the image; split over (image, output row). */
function im2colKernel(F, k, pl, t, T) {
  const [N, C, H, W] = pl.x.shape, [sN, sC, sH, sW] = pl.x.strides, [, OH, OW] = pl.o.shape;
  const [kh, kw] = k.kernel, [sy, sx] = k.stride, [pt, pl0] = k.pad, [dy, dx] = k.dilation;
  const [lo, hi] = part(N * OH, t, T);
  for (let u = lo; u < hi; u++) {
    const n = Math.floor(u / OH), oy = u % OH;
    for (let ox = 0; ox < OW; ox++) {
      const ro = pl.rows[(n * OH + oy) * OW + ox];
      let col = 0;
      for (let c = 0; c < C; c++) for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sy - pt + ky * dy;
        for (let kx = 0; kx < kw; kx++, col++) {
          const ix = ox * sx - pl0 + kx * dx;
          F[ro + pl.cols[col]] = iy >= 0 && iy < H && ix >= 0 && ix < W ? F[pl.x.off + n * sN + c * sC + iy * sH + ix * sW] : 0;
        }
      }
    }
  }
}

function softmaxKernel(F, pl, t, T) {
  const n = pl.n, row = new Float64Array(n);
  const [lo, hi] = part(pl.x.length, t, T);
  for (let r = lo; r < hi; r++) {
    const xo = pl.x[r], oo = pl.out[r];
    let mx = -Infinity;
    for (let i = 0; i < n; i++) { row[i] = F[xo + i * pl.xs]; if (row[i] > mx) mx = row[i]; }
    let sum = 0;
    for (let i = 0; i < n; i++) { row[i] = Math.exp(row[i] - mx); sum += row[i]; }
    for (let i = 0; i < n; i++) F[oo + i * pl.os] = row[i] / sum;
  }
}

function reduceKernel(F, pl, t, T) {
  const [lo, hi] = part(pl.rows.length, t, T);
  const n = pl.cols.length;
  for (let r = lo; r < hi; r++) {
    let s = 0;
    const ro = pl.rows[r];
    for (let j = 0; j < n; j++) s += F[ro + pl.cols[j]];
    F[pl.out[r]] = s / n;
  }
}

/** Gather a resolved view into a contiguous array. */
function gatherView(F, v) {
  const offs = offsetTable(v.shape, v.strides, 0, v.shape.length, v.off);
  const out = new Float32Array(offs.length);
  for (let i = 0; i < offs.length; i++) out[i] = F[offs[i]];
  return out;
}

function genericKernel(F, k, pl) {
  const ref = REFERENCE_OPS[k.op];
  if (!ref) throw new Error(`no reference kernel for op ${k.op}`);
  const y = ref(pl.ins.map((v) => gatherView(F, v)), pl.ins.map((v) => v.shape), k.attrs, pl.out.shape);
  const offs = offsetTable(pl.out.shape, pl.out.strides, 0, pl.out.shape.length, pl.out.off);
  for (let i = 0; i < offs.length; i++) F[offs[i]] = y[i];
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
