// The GEMM template: out[g, m, n] = epi(Σ_k a[g, m, k] · w[g, k, n]) for any strided views, with
//  - fp32: exact f32 FMA on CUDA cores (SIMT), per-thread register tiles;
//  - tf32: mma.sync.m16n8k8 (TF32 in, f32 accumulate); fp16/bf16: mma.sync.m16n8k16 with ldmatrix;
//  - both operands staged through shared memory in a 2-stage pipeline: cp.async 16-byte copies
//    where the layout allows (contiguous k, aligned), element loads with conversion where not;
//  - weights (param views) repacked at load into [N][Kp] rows, k contiguous;
//  - the epilogue (bias, activation, residual, LayerScale, ...) fused: the kernel's Expr per element.
import { eqA, fmtA, type Affine } from '../../ir/strided.js';
import type { GemmKernel, KernelProgram, Storage } from '../../kernel/types.js';
import { InternalCompilerError } from '../../passes/pipeline.js';
import { NAME_PLACEHOLDER, operand, renderExpr, type Dialect, type Operand } from '../cstyle/index.js';
import { CTYPE, loadAs, param, storeAs } from './dialect.js';
import type { CudaFunction, CudaOperand, KernelPlan, Pack } from './function.js';
import { dimGroup, staticSize, vectorizable, type DimGroup } from './indexing.js';
import { gemmMath, gemmTiles, type GemmMath, type Tile } from './tiles.js';

const SMEM: Readonly<Record<GemmMath, Storage>> = { f32: 'f32', tf32: 'f32', f16: 'f16', bf16: 'bf16' };

interface Ctx {
  readonly k: GemmKernel;
  readonly d: Dialect;
  readonly math: GemmMath;
  readonly smem: Storage;
  readonly vec: number;
  readonly M: Affine;
  readonly N: number;
  readonly K: number;
  readonly G: Affine;
  readonly a: { op: Operand; g: DimGroup; m: DimGroup; k: DimGroup; vec: boolean };
  readonly w: { op: CudaOperand; g: DimGroup; k: DimGroup; n: DimGroup; vec: boolean; pack?: Pack };
  readonly out: { op: Operand; g: DimGroup; m: DimGroup; n: DimGroup };
  readonly ins: readonly { op: Operand; g: DimGroup; m: DimGroup; n: DimGroup }[];
  readonly restrict: (o: Operand) => boolean;
}

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;
const isZero = (a: Affine) => a.b === 0 && a.c === 0;

export function gemmPlan(p: KernelProgram, k: GemmKernel, d: Dialect, aliases: (a: Operand, b: Operand) => boolean): KernelPlan {
  if (k.ln) throw new InternalCompilerError('the cuda target renders LayerNorm as its own kernel (lnPrologue is off)');
  const { g, m, k: kk } = k.rank;
  const math = gemmMath(p.precision);
  const smem = SMEM[math];
  const vec = 16 / (smem === 'f32' ? 4 : 2);
  const aG = dimGroup(k.a, 0, g), aM = dimGroup(k.a, g, g + m), aK = dimGroup(k.a, g + m, g + m + kk);
  const bG = dimGroup(k.b, 0, g), bK = dimGroup(k.b, g, g + kk), bN = dimGroup(k.b, g + kk, k.b.shape.length);
  const viewOut = (v: GemmKernel['out']) => ({ g: dimGroup(v, 0, g), m: dimGroup(v, g, g + m), n: dimGroup(v, g + m, v.shape.length) });
  const K = staticSize(aK.size, 'a GEMM\'s k'), N = staticSize(bN.size, 'a GEMM\'s n');
  const bBuf = p.bufs[k.b.buf]!;
  let pack: Pack | undefined;
  if ((bBuf.kind === 'param' || bBuf.kind === 'const') && bG.strides.every(isZero) && bBuf.dtype === smem) {
    pack = {
      buf: k.b.buf, K, N, Kp: roundUp(K, 8),
      kShape: bK.shape.map((s) => s.c), kStrides: bK.strides.map((s) => s.c),
      nShape: bN.shape.map((s) => s.c), nStrides: bN.strides.map((s) => s.c), offset: k.b.offset.c,
    };
  }
  const aOp = operand(p, 'a', k.a);
  const wOp: CudaOperand = pack ? { ...operand(p, 'w', k.b), offset: { b: 0, c: 0 }, pack } : operand(p, 'w', k.b);
  const outOp = operand(p, 'out', k.out, true);
  const insOps = k.epi.ins.map((v, i) => operand(p, `in${i}`, v));
  const all: Operand[] = [aOp, wOp, ...insOps, outOp];
  const restrict = (o: Operand) => !all.some((x) => x !== o && aliases(o, x));
  const ctx: Ctx = {
    k, d, math, smem, vec, M: aM.size, N, K, G: aG.size,
    a: { op: aOp, g: aG, m: aM, k: aK, vec: p.bufs[k.a.buf]!.dtype === smem && vectorizable(k.a, aK, [aM, aG], vec) },
    w: { op: wOp, g: bG, k: bK, n: bN, pack, vec: pack !== undefined || (bBuf.dtype === smem && vectorizable(k.b, bK, [bN, bG], vec)) },
    out: { op: outOp, ...viewOut(k.out) },
    ins: k.epi.ins.map((v, i) => ({ op: insOps[i]!, ...viewOut(v) })),
    restrict,
  };
  if (!eqA(ctx.out.m.size, ctx.M)) throw new InternalCompilerError(`gemm k${k.id}: out rows ${fmtA(ctx.out.m.size)} differ from a's ${fmtA(ctx.M)}`);
  const tiles = gemmTiles(math, N, ctx.M.b !== 0);
  const fns = tiles.map((t) => gemmFunction(ctx, t));
  return fns.length === 2 ? { kind: 'tiles', large: fns[0]!, small: fns[1]! } : { kind: 'one', fn: fns[0]! };
}

function gemmFunction(c: Ctx, t: Tile): CudaFunction {
  const simt = c.math === 'f32';
  const T = t.threads;
  const pad = c.smem === 'f32' ? 4 : 8;
  const LD = t.BK + pad;
  const st = CTYPE[c.smem];
  const zero = storeAs(c.smem, '0.0f');
  const kLimit = c.w.pack ? c.w.pack.Kp : c.K;
  const grouped = c.k.rank.g > 0;
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);
  const operands: CudaOperand[] = [c.a.op, c.w.op, ...c.ins.map((x) => x.op), c.out.op];
  const mathNote = simt ? 'f32 FMA on CUDA cores'
    : c.math === 'tf32' ? 'mma.sync.m16n8k8 (tf32 in, f32 accumulate)' : `mma.sync.m16n8k16 (${c.math} in, f32 accumulate)`;
  const layout = simt ? `${T} threads of ${t.WM}x${t.WN}` : `${t.WM * t.WN} warps of ${t.BM / t.WM}x${t.BN / t.WN}`;

  L(`__global__ void __launch_bounds__(${T}) ${NAME_PLACEHOLDER}(${[...operands.map((o) => param(o, c.restrict(o))), 'int B'].join(', ')}) {`);
  L(`  // out = ${renderExpr(c.d, c.k.epi.expr, (i) => `in${i}`, 'acc')}, acc = a . w: M = ${fmtA(c.M)} rows, N = ${c.N}, K = ${c.K}${grouped ? `, ${fmtA(c.G)} groups` : ''}`);
  L(`  // tile ${t.BM}x${t.BN}x${t.BK}, ${layout}, ${mathNote}; a ${c.a.vec ? 'by cp.async' : 'by element loads'}, w ${c.w.pack ? 'repacked [N][Kp] by cp.async' : c.w.vec ? 'by cp.async' : 'by element loads'}`);
  L(`  __shared__ __align__(16) ${st} As[2][${t.BM * LD}];`);
  L(`  __shared__ __align__(16) ${st} Bs[2][${t.BN * LD}];`);
  L(`  const int M = ${fmtAffine(c.M)};`);
  L('  const int tid = threadIdx.x;');
  L(`  const int m0 = blockIdx.y * ${t.BM}, n0 = blockIdx.x * ${t.BN};`);
  if (grouped) {
    L('  const int gz = blockIdx.z;');
    L(`  a += ${c.a.g.at('gz')};`);
    if (!c.w.pack) L(`  w += ${c.w.g.at('gz')};`);
    c.ins.forEach((x) => L(`  ${x.op.name} += ${x.g.at('gz')};`));
    L(`  out += ${c.out.g.at('gz')};`);
  }

  // Loaders: one stage of A (BM x BK) and W (BN x BK, k contiguous) into shared memory.
  const conv = (from: Storage, e: string) => (from === c.smem ? e : storeAs(c.smem, loadAs(from, e)));
  const loader = (smem: string, R: number, rowBase: string, rowLimit: string, colLimit: number | string, ptr: string, at: (r: string, k: string) => string, vecOk: boolean, from: Storage): string[] => {
    if (vecOk) {
      const per = (R * t.BK) / c.vec / T;
      if (!Number.isInteger(per)) throw new InternalCompilerError(`tile ${R}x${t.BK} does not split into ${T} threads`);
      const chunks = t.BK / c.vec;
      return [
        '#pragma unroll',
        `    for (int i = 0; i < ${per}; ++i) {`,
        `      const int c = tid + i * ${T}, r = c / ${chunks}, kc = (c % ${chunks}) * ${c.vec};`,
        `      const int gr = ${rowBase} + r, gk = k0 + kc;`,
        `      const bool ok = gr < ${rowLimit} && gk < ${colLimit};`,
        `      vitc_cp_async16(&${smem}[st][r * ${LD} + kc], ok ? ${ptr} + ${at('gr', 'gk')} : ${ptr}, ok ? 16 : 0);`,
        '    }',
      ];
    }
    return [
      '#pragma unroll 4',
      `    for (int e = tid; e < ${R * t.BK}; e += ${T}) {`,
      `      const int r = e / ${t.BK}, kc = e % ${t.BK}, gr = ${rowBase} + r, gk = k0 + kc;`,
      `      ${smem}[st][r * ${LD} + kc] = (gr < ${rowLimit} && gk < ${colLimit}) ? ${conv(from, `${ptr}[${at('gr', 'gk')}]`)} : ${zero};`,
      '    }',
    ];
  };
  const bufDtype = (o: Operand) => o.dtype;
  L('  auto load_stage = [&](int st, int k0) {');
  for (const s of loader('As', t.BM, 'm0', 'M', c.K, 'a', (r, k) => join(c.a.m.at(r), c.a.k.at(k)), c.a.vec, bufDtype(c.a.op))) L(s);
  const wAt = c.w.pack ? (r: string, k: string) => `${r} * ${c.w.pack!.Kp} + ${k}` : (r: string, k: string) => join(c.w.n.at(r), c.w.k.at(k));
  for (const s of loader('Bs', t.BN, 'n0', String(c.N), kLimit, 'w', wAt, c.w.vec, bufDtype(c.w.op))) L(s);
  L('  };');

  // Accumulators and the compute step for one stage.
  if (simt) {
    const TX = t.BN / t.WN, TY = t.BM / t.WM;
    L(`  const int tx = tid % ${TX}, ty = tid / ${TX};`);
    L(`  float acc[${t.WM}][${t.WN}];`);
    L('#pragma unroll');
    L(`  for (int i = 0; i < ${t.WM}; ++i)`);
    L('#pragma unroll');
    L(`    for (int j = 0; j < ${t.WN}; ++j) acc[i][j] = 0.0f;`);
    L('  auto compute_stage = [&](int st) {');
    L('#pragma unroll');
    L(`    for (int kk = 0; kk < ${t.BK}; ++kk) {`);
    L(`      float av[${t.WM}], bv[${t.WN}];`);
    L('#pragma unroll');
    L(`      for (int i = 0; i < ${t.WM}; ++i) av[i] = As[st][(ty + i * ${TY}) * ${LD} + kk];`);
    L('#pragma unroll');
    L(`      for (int j = 0; j < ${t.WN}; ++j) bv[j] = Bs[st][(tx + j * ${TX}) * ${LD} + kk];`);
    L('#pragma unroll');
    L(`      for (int i = 0; i < ${t.WM}; ++i)`);
    L('#pragma unroll');
    L(`        for (int j = 0; j < ${t.WN}; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);`);
    L('    }');
    L('  };');
  } else {
    const WTM = t.BM / t.WM, WTN = t.BN / t.WN, MT = WTM / 16, NT = WTN / 8;
    if (NT % 2 !== 0 || !Number.isInteger(MT)) throw new InternalCompilerError(`bad warp tile ${WTM}x${WTN}`);
    L('  const int lane = tid & 31, warp = tid >> 5;');
    L(`  const int wm = (warp / ${t.WN}) * ${WTM}, wn = (warp % ${t.WN}) * ${WTN};`);
    L(`  float acc[${MT}][${NT}][4];`);
    L('#pragma unroll');
    L(`  for (int i = 0; i < ${MT}; ++i)`);
    L('#pragma unroll');
    L(`    for (int j = 0; j < ${NT}; ++j)`);
    L('#pragma unroll');
    L('      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.0f;');
    L('  auto compute_stage = [&](int st) {');
    if (c.math === 'tf32') {
      // m16n8k8 tf32 fragments read straight from shared memory: a0 (g, t) a1 (g+8, t) a2 (g, t+4) a3 (g+8, t+4); b0 (k=t, n=g) b1 (k=t+4, n=g).
      L('    const int g = lane >> 2, t = lane & 3;');
      L('#pragma unroll');
      L(`    for (int kk = 0; kk < ${t.BK}; kk += 8) {`);
      L(`      uint32_t af[${MT}][4], bf[${NT}][2];`);
      L('#pragma unroll');
      L(`      for (int i = 0; i < ${MT}; ++i) {`);
      L(`        const float* p = &As[st][(wm + i * 16 + g) * ${LD} + kk + t];`);
      L(`        af[i][0] = vitc_tf32(p[0]); af[i][1] = vitc_tf32(p[${8 * LD}]); af[i][2] = vitc_tf32(p[4]); af[i][3] = vitc_tf32(p[${8 * LD + 4}]);`);
      L('      }');
      L('#pragma unroll');
      L(`      for (int j = 0; j < ${NT}; ++j) {`);
      L(`        const float* q = &Bs[st][(wn + j * 8 + g) * ${LD} + kk + t];`);
      L('        bf[j][0] = vitc_tf32(q[0]); bf[j][1] = vitc_tf32(q[4]);');
      L('      }');
      L('#pragma unroll');
      L(`      for (int i = 0; i < ${MT}; ++i)`);
      L('#pragma unroll');
      L(`        for (int j = 0; j < ${NT}; ++j) vitc_mma_tf32(acc[i][j], af[i], bf[j]);`);
      L('    }');
    } else {
      // ldmatrix.x4 gives an A fragment (rows lane&15, k-half lane>>4) and B fragments of two n8 tiles.
      L('#pragma unroll');
      L(`    for (int kk = 0; kk < ${t.BK}; kk += 16) {`);
      L(`      uint32_t af[${MT}][4], bf[${NT}][2];`);
      L('#pragma unroll');
      L(`      for (int i = 0; i < ${MT}; ++i) vitc_ldmatrix_x4(af[i], &As[st][(wm + i * 16 + (lane & 15)) * ${LD} + kk + (lane >> 4) * 8]);`);
      L('#pragma unroll');
      L(`      for (int j = 0; j < ${NT}; j += 2) {`);
      L('        uint32_t r[4];');
      L(`        vitc_ldmatrix_x4(r, &Bs[st][(wn + j * 8 + (lane & 7) + ((lane >> 4) << 3)) * ${LD} + kk + ((lane >> 3) & 1) * 8]);`);
      L('        bf[j][0] = r[0]; bf[j][1] = r[1]; bf[j + 1][0] = r[2]; bf[j + 1][1] = r[3];');
      L('      }');
      L('#pragma unroll');
      L(`      for (int i = 0; i < ${MT}; ++i)`);
      L('#pragma unroll');
      L(`        for (int j = 0; j < ${NT}; ++j) vitc_mma_${c.math}(acc[i][j], af[i], bf[j]);`);
      L('    }');
    }
    L('  };');
  }

  // The pipeline: stage kt+1 is in flight while stage kt is multiplied.
  const KT = Math.ceil(kLimit / t.BK);
  L('  load_stage(0, 0);');
  L('  vitc_cp_async_commit();');
  L(`  for (int kt = 0; kt < ${KT}; ++kt) {`);
  L(`    if (kt + 1 < ${KT}) load_stage((kt + 1) & 1, (kt + 1) * ${t.BK});`);
  L('    vitc_cp_async_commit();');
  L('    vitc_cp_async_wait<1>();');
  L('    __syncthreads();');
  L('    compute_stage(kt & 1);');
  L('    __syncthreads();');
  L('  }');

  // The epilogue, per accumulator element.
  const element = (rowOffs: string[], v: string, gn: string, indent: string): string[] => {
    const out: string[] = [`${indent}if (${gn} < ${c.N}) {`, `${indent}  const float v = ${v};`];
    c.ins.forEach((x, i) => out.push(`${indent}  const float x${i} = ${loadAs(x.op.dtype, `${x.op.name}[${join(rowOffs[i + 1]!, x.n.at(gn))}]`)};`));
    out.push(`${indent}  out[${join(rowOffs[0]!, c.out.n.at(gn))}] = ${storeAs(c.out.op.dtype, renderExpr(c.d, c.k.epi.expr, (i) => `x${i}`, 'v'))};`);
    out.push(`${indent}}`);
    return out;
  };
  const rowDecls = (gm: string, indent: string): string[] => [
    `${indent}const int ro = ${c.out.m.at(gm)};`,
    ...c.ins.map((x, i) => `${indent}const int r${i} = ${x.m.at(gm)};`),
  ];
  const rowNames = ['ro', ...c.ins.map((_, i) => `r${i}`)];
  if (simt) {
    const TX = t.BN / t.WN, TY = t.BM / t.WM;
    L('#pragma unroll');
    L(`  for (int i = 0; i < ${t.WM}; ++i) {`);
    L(`    const int gm = m0 + ty + i * ${TY};`);
    L('    if (gm >= M) continue;');
    for (const s of rowDecls('gm', '    ')) L(s);
    L('#pragma unroll');
    L(`    for (int j = 0; j < ${t.WN}; ++j) {`);
    L(`      const int gn = n0 + tx + j * ${TX};`);
    for (const s of element(rowNames, 'acc[i][j]', 'gn', '      ')) L(s);
    L('    }');
    L('  }');
  } else {
    const WTM = t.BM / t.WM, WTN = t.BN / t.WN, MT = WTM / 16, NT = WTN / 8;
    L('  const int g = lane >> 2, t2 = (lane & 3) * 2;');
    L('#pragma unroll');
    L(`  for (int i = 0; i < ${MT}; ++i)`);
    L('#pragma unroll');
    L('    for (int h = 0; h < 2; ++h) {');
    L('      const int gm = m0 + wm + i * 16 + g + 8 * h;');
    L('      if (gm >= M) continue;');
    for (const s of rowDecls('gm', '      ')) L(s);
    L('#pragma unroll');
    L(`      for (int j = 0; j < ${NT}; ++j)`);
    L('#pragma unroll');
    L('        for (int e = 0; e < 2; ++e) {');
    L('          const int gn = n0 + wn + j * 8 + t2 + e;');
    for (const s of element(rowNames, 'acc[i][j][2 * h + e]', 'gn', '          ')) L(s);
    L('        }');
    L('    }');
  }
  L('}');
  const esize = c.smem === 'f32' ? 4 : 2;
  return {
    prefix: 'gemm', text: lines.join('\n'), operands, threads: T,
    grid: [{ items: { b: 0, c: c.N }, per: t.BN }, { items: c.M, per: t.BM }, { items: c.G, per: 1 }],
    smem: 2 * (t.BM + t.BN) * LD * esize,
  };
}

function join(a: string, b: string): string {
  if (a === '0') return b;
  if (b === '0') return a;
  return `${a} + ${b}`;
}

/** An affine size as a C expression of B. */
export function fmtAffine(a: Affine): string {
  if (a.b === 0) return String(a.c);
  const bp = a.b === 1 ? 'B' : `${a.b} * B`;
  return a.c === 0 ? bp : `${bp} ${a.c > 0 ? '+' : '-'} ${Math.abs(a.c)}`;
}
