// Flash-style attention: softmax(q kᵀ · scale) v per group, with an online softmax over tiles of
// keys, so no T x S score matrix ever reaches global memory. q, k and v are read through their
// views (typically strided windows of the packed qkv GEMM output) and the result is written through
// the output view (typically the merge-heads layout the projection GEMM reads).
//  - fp16/bf16: one warp per 16 query rows; S = Q Kᵀ and O += P V on mma.sync.m16n8k16, P kept in
//    registers (the accumulator layout of S is the A-fragment layout of P), K/V tiles double-buffered
//    with cp.async, V read transposed by ldmatrix.trans; f32 max, sum and accumulation.
//  - fp32 (and tf32, which keeps attention in f32): a few threads per query row, f32 FMA, exact exp.
import { fmtA, type Affine } from '../../ir/strided.js';
import type { AttentionKernel, KernelProgram, Storage } from '../../kernel/types.js';
import { NAME_PLACEHOLDER, operand, type Operand } from '../cstyle/index.js';
import { CTYPE, floatLit, loadAs, param, storeAs } from './dialect.js';
import type { CudaFunction } from './function.js';
import { fmtAffine } from './gemm.js';
import { dimGroup, staticSize, vectorizable, type DimGroup } from './indexing.js';

interface Side { op: Operand; view: AttentionKernel['q']; g: DimGroup; r: DimGroup; c: DimGroup }

const STATIC_SMEM = 48 * 1024;

export function attentionFunction(p: KernelProgram, k: AttentionKernel, aliases: (a: Operand, b: Operand) => boolean): CudaFunction {
  const r = k.q.shape.length;
  const side = (name: string, v: AttentionKernel['q'], write = false): Side => ({
    op: operand(p, name, v, write), view: v, g: dimGroup(v, 0, r - 2), r: dimGroup(v, r - 2, r - 1), c: dimGroup(v, r - 1, r),
  });
  const q = side('q', k.q), kk = side('k', k.k), v = side('v', k.v), out = side('out', k.out, true);
  const all = [q.op, kk.op, v.op, out.op];
  const restrict = (o: Operand) => !all.some((x) => x !== o && aliases(o, x));
  const T = staticSize(q.r.size, 'attention query count'), S = staticSize(kk.r.size, 'attention key count');
  const D = staticSize(q.c.size, 'attention head dim'), DV = staticSize(v.c.size, 'attention value dim');
  const G = q.g.size;
  const math = p.precision.math;
  const args = { k, q, kk, v, out, T, S, D, DV, G, restrict };
  return math === 'f16' || math === 'bf16' ? mmaAttention(args, math, p.precision.storage) : simtAttention(args);
}

interface Args {
  k: AttentionKernel;
  q: Side; kk: Side; v: Side; out: Side;
  T: number; S: number; D: number; DV: number; G: Affine;
  restrict: (o: Operand) => boolean;
}

const LOG2E = 1.4426950408889634;

function header(a: Args, threads: number): string[] {
  const ops = [a.q.op, a.kk.op, a.v.op, a.out.op];
  return [
    `__global__ void __launch_bounds__(${threads}) ${NAME_PLACEHOLDER}(${[...ops.map((o) => param(o, a.restrict(o))), 'int B'].join(', ')}) {`,
    `  // softmax(q k^T * ${floatLit(a.k.scale)}) v over ${fmtA(a.G)} groups: T = ${a.T} queries, S = ${a.S} keys, d = ${a.D}, dv = ${a.DV}`,
  ];
}

function groupOffsets(a: Args): string[] {
  return [
    '  const int gz = blockIdx.y;',
    ...[a.q, a.kk, a.v, a.out].map((s) => { const o = s.g.at('gz'); return o === '0' ? '' : `  ${s.op.name} += ${o};`; }).filter(Boolean),
  ];
}

const at = (s: Side, row: string, col: string) => [s.r.at(row), s.c.at(col)].filter((x) => x !== '0').join(' + ') || '0';

function mmaAttention(a: Args, math: 'f16' | 'bf16', storage: Storage): CudaFunction {
  const DP = Math.ceil(a.D / 16) * 16, DVP = Math.ceil(a.DV / 16) * 16;
  const ST = CTYPE[storage];
  const BQ = 64, WARPS = 4, THREADS = 128;
  const LQ = DP + 8, LV = DVP + 8;
  const bytes = (bkv: number) => 2 * (BQ * LQ + 2 * bkv * LQ + 2 * bkv * LV);
  const BKV = [64, 32, 16].find((b) => bytes(b) <= STATIC_SMEM);
  if (!BKV) throw new Error(`attention head dim ${a.D} needs more than 48 KB of shared memory`);
  const NTILES = Math.ceil(a.S / BKV);
  const SN = BKV / 8, ON = DVP / 8, QK = DP / 16;
  const zero = storeAs(storage, '0.0f');
  const vecOf = (s: Side) => s.op.dtype === storage && vectorizable(s.view, s.c, [s.r, s.g], 8);
  const L: string[] = [...header(a, THREADS)];
  const push = (...s: string[]) => L.push(...s);
  push(`  // ${WARPS} warps x 16 query rows; keys in tiles of ${BKV}, double-buffered; mma.sync.m16n8k16 (${math}), f32 softmax statistics`);
  push(`  __shared__ __align__(16) ${ST} Qs[${BQ * LQ}];`);
  push(`  __shared__ __align__(16) ${ST} Ks[2][${BKV * LQ}];`);
  push(`  __shared__ __align__(16) ${ST} Vs[2][${BKV * LV}];`);
  push(...groupOffsets(a));
  push('  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;');
  push(`  const int q0 = blockIdx.x * ${BQ};`);
  // A tile loader: rows [row0, row0 + R) of a side, columns [0, CP) (zero beyond the limits).
  const load = (s: Side, smem: string, R: number, CP: number, C: number, row0: string, limit: number, ld: number): string[] => {
    if (vecOf(s) && C % 8 === 0) {
      const chunks = CP / 8, per = Math.ceil((R * chunks) / THREADS);
      return [
        '#pragma unroll',
        `    for (int i = 0; i < ${per}; ++i) {`,
        `      const int c = tid + i * ${THREADS};`,
        ...(per * THREADS > R * chunks ? [`      if (c >= ${R * chunks}) break;`] : []),
        `      const int r = c / ${chunks}, col = (c % ${chunks}) * 8, gr = ${row0} + r;`,
        `      const bool ok = gr < ${limit} && col < ${C};`,
        `      vitc_cp_async16(&${smem}[r * ${ld} + col], ok ? ${s.op.name} + ${at(s, 'gr', 'col')} : ${s.op.name}, ok ? 16 : 0);`,
        '    }',
      ];
    }
    const conv = s.op.dtype === storage ? (e: string) => e : (e: string) => storeAs(storage, loadAs(s.op.dtype, e));
    return [
      `    for (int e = tid; e < ${R * CP}; e += ${THREADS}) {`,
      `      const int r = e / ${CP}, col = e % ${CP}, gr = ${row0} + r;`,
      `      ${smem}[r * ${ld} + col] = (gr < ${limit} && col < ${C}) ? ${conv(`${s.op.name}[${at(s, 'gr', 'col')}]`)} : ${zero};`,
      '    }',
    ];
  };
  push('  auto load_q = [&]() {', ...load(a.q, 'Qs', BQ, DP, a.D, 'q0', a.T, LQ), '  };');
  push('  auto load_kv = [&](int st, int kv0) {',
    ...load(a.kk, 'Ks[st]', BKV, DP, a.D, 'kv0', a.S, LQ),
    ...load(a.v, 'Vs[st]', BKV, DVP, a.DV, 'kv0', a.S, LV), '  };');
  push('  load_q();', '  load_kv(0, 0);', '  vitc_cp_async_commit();');
  push(`  uint32_t qf[${QK}][4];`);
  push(`  float o[${ON}][4];`);
  push('#pragma unroll', `  for (int j = 0; j < ${ON}; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;`);
  push('  float mrow[2] = {-INFINITY, -INFINITY}, lrow[2] = {0.0f, 0.0f};');
  push(`  const float sl = ${floatLit(a.k.scale * LOG2E)};  // scale * log2(e): exp2 of scaled logits`);
  push(`  for (int kt = 0; kt < ${NTILES}; ++kt) {`);
  push(`    if (kt + 1 < ${NTILES}) load_kv((kt + 1) & 1, (kt + 1) * ${BKV});`);
  push('    vitc_cp_async_commit();', '    vitc_cp_async_wait<1>();', '    __syncthreads();');
  push('    const int st = kt & 1;');
  push('    if (kt == 0) {');
  push('#pragma unroll', `      for (int i = 0; i < ${QK}; ++i) vitc_ldmatrix_x4(qf[i], &Qs[(warp * 16 + (lane & 15)) * ${LQ} + i * 16 + (lane >> 4) * 8]);`);
  push('    }');
  push(`    float s[${SN}][4];`);
  push('#pragma unroll', `    for (int j = 0; j < ${SN}; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;`);
  push('#pragma unroll', `    for (int i = 0; i < ${QK}; ++i) {`);
  push('#pragma unroll', `      for (int j = 0; j < ${SN}; j += 2) {`);
  push('        uint32_t r[4];');
  push(`        vitc_ldmatrix_x4(r, &Ks[st][(j * 8 + (lane & 7) + ((lane >> 4) << 3)) * ${LQ} + i * 16 + ((lane >> 3) & 1) * 8]);`);
  push('        const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};');
  push(`        vitc_mma_${math}(s[j], qf[i], b0);`, `        vitc_mma_${math}(s[j + 1], qf[i], b1);`);
  push('      }', '    }');
  // Online softmax over this tile: rows g (h = 0) and g + 8 (h = 1) of the warp's 16; a quad of lanes shares a row.
  push('    const int kv0 = kt * ' + BKV + ', t2 = (lane & 3) * 2;');
  push('#pragma unroll', '    for (int h = 0; h < 2; ++h) {');
  push('      float mx = mrow[h];');
  push('#pragma unroll', `      for (int j = 0; j < ${SN}; ++j)`);
  push('#pragma unroll', '        for (int e = 0; e < 2; ++e) {');
  push(`          const float x = kv0 + j * 8 + t2 + e < ${a.S} ? s[j][2 * h + e] * sl : -INFINITY;`);
  push('          s[j][2 * h + e] = x;', '          mx = fmaxf(mx, x);', '        }');
  push('      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));', '      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));');
  push('      const float corr = exp2f(mrow[h] - mx);', '      mrow[h] = mx;', '      float sum = 0.0f;');
  push('#pragma unroll', `      for (int j = 0; j < ${SN}; ++j)`);
  push('#pragma unroll', '        for (int e = 0; e < 2; ++e) {', '          const float pe = exp2f(s[j][2 * h + e] - mx);', '          s[j][2 * h + e] = pe;', '          sum += pe;', '        }');
  push('      lrow[h] = lrow[h] * corr + sum;');
  push('#pragma unroll', `      for (int j = 0; j < ${ON}; ++j) { o[j][2 * h] *= corr; o[j][2 * h + 1] *= corr; }`);
  push('    }');
  // O += P V: P's A fragment for keys [16 kk, 16 kk + 16) is S tiles 2kk and 2kk+1; V^T fragments by ldmatrix.trans.
  push('#pragma unroll', `    for (int kk = 0; kk < ${SN / 2}; ++kk) {`);
  push('      uint32_t pf[4];');
  push(`      pf[0] = vitc_pack_${math}(s[2 * kk][0], s[2 * kk][1]);`, `      pf[1] = vitc_pack_${math}(s[2 * kk][2], s[2 * kk][3]);`);
  push(`      pf[2] = vitc_pack_${math}(s[2 * kk + 1][0], s[2 * kk + 1][1]);`, `      pf[3] = vitc_pack_${math}(s[2 * kk + 1][2], s[2 * kk + 1][3]);`);
  push('#pragma unroll', `      for (int j = 0; j < ${ON}; j += 2) {`);
  push('        uint32_t r[4];');
  push(`        vitc_ldmatrix_x4_trans(r, &Vs[st][(kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * ${LV} + j * 8 + (lane >> 4) * 8]);`);
  push('        const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};');
  push(`        vitc_mma_${math}(o[j], pf, b0);`, `        vitc_mma_${math}(o[j + 1], pf, b1);`);
  push('      }', '    }');
  push('    __syncthreads();', '  }');
  // Normalize and write through the output view.
  push('  const int g = lane >> 2, t2 = (lane & 3) * 2;');
  push('#pragma unroll', '  for (int h = 0; h < 2; ++h) {');
  push('    float l = lrow[h];', '    l += __shfl_xor_sync(0xffffffffu, l, 1);', '    l += __shfl_xor_sync(0xffffffffu, l, 2);');
  push('    const int row = q0 + warp * 16 + g + 8 * h;');
  push(`    if (row >= ${a.T}) continue;`);
  push('    const float inv = 1.0f / l;');
  push('#pragma unroll', `    for (int j = 0; j < ${ON}; ++j)`);
  push('#pragma unroll', '      for (int e = 0; e < 2; ++e) {');
  push('        const int col = j * 8 + t2 + e;');
  push(`        if (col < ${a.DV}) out[${at(a.out, 'row', 'col')}] = ${storeAs(a.out.op.dtype, 'o[j][2 * h + e] * inv')};`);
  push('      }', '  }', '}');
  return {
    prefix: 'attention', text: L.join('\n'), operands: [a.q.op, a.kk.op, a.v.op, a.out.op], threads: THREADS,
    grid: [{ items: { b: 0, c: a.T }, per: BQ }, { items: a.G, per: 1 }, { items: { b: 0, c: 1 }, per: 1 }],
    smem: bytes(BKV),
  };
}

function simtAttention(a: Args): CudaFunction {
  const THREADS = 128;
  const width = Math.max(a.D, a.DV);
  const TPR = [1, 2, 4, 8, 16, 32].find((t) => Math.ceil(width / t) <= 16) ?? 32;
  const ROWS = THREADS / TPR;
  const DQ = Math.ceil(a.D / TPR), DVQ = Math.ceil(a.DV / TPR);
  const BKV = 32;
  const NT = Math.ceil(a.S / BKV);
  const L: string[] = [...header(a, THREADS)];
  const push = (...s: string[]) => L.push(...s);
  const ld = (s: Side, row: string, col: string) => loadAs(s.op.dtype, `${s.op.name}[${at(s, row, col)}]`);
  push(`  // ${TPR} threads per query row (${ROWS} rows per block), keys in tiles of ${BKV}; f32 FMA and exp, online softmax`);
  push(`  __shared__ float Ks[${BKV * a.D}];`, `  __shared__ float Vs[${BKV * a.DV}];`);
  push(...groupOffsets(a));
  push('  const int tid = threadIdx.x;');
  push(`  const int row = blockIdx.x * ${ROWS} + tid / ${TPR}, part = tid % ${TPR};`);
  push(`  float qv[${DQ}], o[${DVQ}];`);
  push('#pragma unroll', `  for (int i = 0; i < ${DQ}; ++i) {`, `    const int c = part + i * ${TPR};`);
  push(`    qv[i] = row < ${a.T} && c < ${a.D} ? ${ld(a.q, 'row', 'c')} : 0.0f;`, '  }');
  push('#pragma unroll', `  for (int i = 0; i < ${DVQ}; ++i) o[i] = 0.0f;`);
  push('  float m = -INFINITY, l = 0.0f;');
  push(`  for (int kt = 0; kt < ${NT}; ++kt) {`);
  push(`    const int kv0 = kt * ${BKV};`);
  push(`    for (int e = tid; e < ${BKV * a.D}; e += ${THREADS}) {`, `      const int r = e / ${a.D}, c = e % ${a.D};`);
  push(`      Ks[e] = kv0 + r < ${a.S} ? ${ld(a.kk, 'kv0 + r', 'c')} : 0.0f;`, '    }');
  push(`    for (int e = tid; e < ${BKV * a.DV}; e += ${THREADS}) {`, `      const int r = e / ${a.DV}, c = e % ${a.DV};`);
  push(`      Vs[e] = kv0 + r < ${a.S} ? ${ld(a.v, 'kv0 + r', 'c')} : 0.0f;`, '    }');
  push('    __syncthreads();');
  push(`    const int nk = ${a.S} - kv0 < ${BKV} ? ${a.S} - kv0 : ${BKV};`);
  push('    for (int j = 0; j < nk; ++j) {', '      float dot = 0.0f;');
  push('#pragma unroll', `      for (int i = 0; i < ${DQ}; ++i) {`, `        const int c = part + i * ${TPR};`);
  push(`        if (c < ${a.D}) dot = fmaf(qv[i], Ks[j * ${a.D} + c], dot);`, '      }');
  for (let w = 1; w < TPR; w *= 2) push(`      dot += __shfl_xor_sync(0xffffffffu, dot, ${w});`);
  push(`      const float x = dot * ${floatLit(a.k.scale)};`);
  push('      const float mn = fmaxf(m, x), corr = expf(m - mn), pe = expf(x - mn);');
  push('      l = l * corr + pe;', '      m = mn;');
  push('#pragma unroll', `      for (int i = 0; i < ${DVQ}; ++i) {`, `        const int c = part + i * ${TPR};`);
  push(`        o[i] = c < ${a.DV} ? fmaf(pe, Vs[j * ${a.DV} + c], o[i] * corr) : 0.0f;`, '      }');
  push('    }', '    __syncthreads();', '  }');
  push(`  if (row >= ${a.T}) return;`);
  push('  const float inv = 1.0f / l;');
  push('#pragma unroll', `  for (int i = 0; i < ${DVQ}; ++i) {`, `    const int c = part + i * ${TPR};`);
  push(`    if (c < ${a.DV}) out[${at(a.out, 'row', 'c')}] = ${storeAs(a.out.op.dtype, 'o[i] * inv')};`, '  }', '}');
  return {
    prefix: 'attention', text: L.join('\n'), operands: [a.q.op, a.kk.op, a.v.op, a.out.op], threads: THREADS,
    grid: [{ items: { b: 0, c: a.T }, per: ROWS }, { items: a.G, per: 1 }, { items: { b: 0, c: 1 }, per: 1 }],
    smem: 4 * BKV * (a.D + a.DV),
  };
}

export { fmtAffine };
