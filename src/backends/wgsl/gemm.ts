// The WGSL GEMM templates, out[g, m, n] = epi(Σ_k a[g, m, k] · b[g, k, n]), in two variants the host
// chooses between at load (environment.md has the measurements behind them):
//  - register: each invocation owns a TM x TN tile in registers, no workgroup memory. On CPU
//    adapters (SwiftShader) every load is a per-lane gather, so what counts is FMAs per load;
//    the classic shared-memory GEMM is ~3x slower there.
//  - workgroup: the classic GPU GEMM, TILE_M x TILE_N x 16 tiles staged in workgroup memory, 4x4
//    outputs per invocation; the tile sizes are overrides the host picks from the adapter's limits.
// Index groups of several dims are merged where the views allow (a linear layer has one dim per
// group); a patch convolution keeps 3 m and 3 k dims, decomposed by division. A weight b that the
// host repacked ([K, Npad] rows, place.ts) is read without index math.
import { prodA, type Affine } from '../../ir/strided.js';
import { InternalCompilerError } from '../../passes/pipeline.js';
import type { GemmKernel, KernelProgram, View } from '../../kernel/types.js';
import { affine, coordinates, mergeDims, offsetOf, operand, renderExpr, type Dialect, type Operand } from '../cstyle/index.js';
import { SUBGROUP_DIRECTIVES, type WgslKernelSource } from './dialect.js';
import type { Pack } from './place.js';

interface Group { readonly shape: Affine[]; readonly strides: Affine[][] }

/** The GEMM's index groups, each merged across the views that share it. */
export interface GemmGeometry {
  readonly G: Affine;
  readonly M: Affine;
  readonly K: number;
  readonly N: number;
  /** strides[0] is a's, [1] b's, [2] out's, [3..] the epilogue inputs' (only the views that have the group). */
  readonly g: Group;
  readonly m: Group;
  readonly k: Group;
  readonly n: Group;
}

export function gemmGeometry(k: GemmKernel): GemmGeometry {
  const { g, m, k: kr } = k.rank;
  const outs = [k.out, ...k.epi.ins];
  const part = (v: View, from: number, to: number) => v.strides.slice(from, to);
  const gg = mergeDims(k.out.shape.slice(0, g), [part(k.a, 0, g), part(k.b, 0, g), ...outs.map((v) => part(v, 0, g))]);
  const mg = mergeDims(k.out.shape.slice(g, g + m), [part(k.a, g, g + m), ...outs.map((v) => part(v, g, g + m))]);
  const kg = mergeDims(k.a.shape.slice(g + m), [part(k.a, g + m, k.a.shape.length), part(k.b, g, g + kr)]);
  const ng = mergeDims(k.out.shape.slice(g + m), [part(k.b, g + kr, k.b.shape.length), ...outs.map((v) => part(v, g + m, v.shape.length))]);
  const K = prodA(k.a.shape.slice(g + m)), N = prodA(k.out.shape.slice(g + m));
  if (K.b !== 0 || N.b !== 0) throw new InternalCompilerError(`gemm k${k.id}: K and N must not depend on the batch`);
  if (k.ln) throw new InternalCompilerError(`gemm k${k.id}: the wgsl target asks for LayerNorm kernels, not GEMM prologues`);
  return { G: prodA(k.out.shape.slice(0, g)), M: prodA(k.out.shape.slice(g, g + m)), K: K.c, N: N.c, g: gg, m: mg, k: kg, n: ng };
}

/** Σ coordinate·stride of flat index `x` over a group, for the view with stride list `j`. */
function at(grp: Group, x: string, j: number): string {
  if (grp.shape.length === 0) return '0';
  return offsetOf(coordinates(x, grp.shape, 'B'), grp.strides[j]!, 'B');
}

interface Operands {
  readonly a: Operand;
  readonly b: Operand & { readonly packed?: Pack };
  readonly out: Operand;
  readonly ins: readonly Operand[];
}

function operandsOf(p: KernelProgram, k: GemmKernel, pack: Pack | undefined): Operands {
  const b = pack ? { ...operand(p, 'b', k.b), offset: { b: 0, c: pack.at }, packed: pack } : operand(p, 'b', k.b);
  return { a: operand(p, 'a', k.a), b, out: operand(p, 'out', k.out, true), ins: k.epi.ins.map((v, i) => operand(p, `in${i}`, v)) };
}

/** The epilogue value of one output element: acc and the inputs at (m, n). */
function epilogueValue(d: Dialect, k: GemmKernel, ops: Operands, acc: string, row: (j: number) => string, col: (j: number) => string): string {
  const e = ops.ins.map((op, i) => d.load(op, `${row(3 + i)} + ${col(3 + i)}`));
  return renderExpr(d, k.epi.expr, (i) => e[i]!, acc);
}

/** The epilogue of one output element, stored to out. */
function epilogue(d: Dialect, k: GemmKernel, ops: Operands, acc: string, row: (j: number) => string, col: (j: number) => string): string {
  return d.store(ops.out, `${row(2)} + ${col(2)}`, epilogueValue(d, k, ops, acc, row, col));
}

/** Group offsets of tile `g` for every view (a, b, out, ins). */
function groupOffsets(geo: GemmGeometry, views: number): string[] {
  return Array.from({ length: views }, (_, j) => `let go${j}: i32 = ${at(geo.g, 'g', j)};`);
}

/**
 * Register tiles for a GEMM's shape: small GEMMs get small tiles (large unrolled tiles compile slowly
 * on CPU adapters). Large subgroup tiles are 16 rows x 32 columns (4 rows per lane), 4 subgroups to a
 * workgroup; measured on ViT-B/16 through SwiftShader against 32 x 16 tiles in workgroups of 16
 * subgroups: fc2 (K = 3072) 25% less CPU time, as a tile's rows of a (16 x 3072 values) stay in the
 * core's cache while the weights stream past; qkv and fc1 5-8% less, as 197 rows pad to 208, not 224;
 * and the threads of the CPU adapter share a projection as 78 workgroups rather than 21, so none idles
 * at the end.
 */
export function registerTile(geo: GemmGeometry, lanes: 1 | 4): { readonly TM: number; readonly TN: number; readonly WG: number } {
  const macs = (geo.M.b + geo.M.c) * geo.N * geo.K;
  const small = macs < 1 << 22;
  if (lanes === 4) return small ? { TM: 2, TN: 8, WG: 64 } : { TM: 4, TN: 32, WG: 16 };
  return small ? { TM: 4, TN: 4, WG: 64 } : { TM: 8, TN: 8, WG: 64 };
}

/**
 * Register-tiled GEMM. With lanes = 1 each invocation owns a TM x TN tile. With lanes = 4 (CPU
 * adapters whose subgroups are 4 SIMD lanes, i.e. SwiftShader) the 4 invocations of a subgroup share
 * a 4·TM x TN tile: each owns TM rows (interleaved), each loads a quarter of the TN weight columns
 * per k and subgroupBroadcast hands them to the others, which saves 3/4 of the weight loads (each
 * load is a per-lane gather there).
 */
export function gemmRegister(d: Dialect, p: KernelProgram, k: GemmKernel, pack: Pack | undefined, lanes: 1 | 4): WgslKernelSource {
  const geo = gemmGeometry(k);
  const ops = operandsOf(p, k, pack);
  const { TM, TN, WG } = registerTile(geo, lanes);
  const views = 3 + ops.ins.length;
  const tilesN = Math.ceil(geo.N / TN);
  const I = [...Array(TM).keys()], J = [...Array(TN).keys()], Q = [...Array(TN / lanes).keys()];
  // m-group strides: [a, out, ins...]; n-group: [b, out, ins...]; k-group: [a, b].
  const mAt = (x: string, j: number) => at(geo.m, x, j === 0 ? 0 : j - 1);
  const nAt = (x: string, j: number) => at(geo.n, x, j - 1);
  const clampN = (x: string) => (geo.N % TN === 0 ? x : `min(${x}, ${geo.N - 1})`);
  // Column j of the tile (clamped to N-1 when N is not a multiple of TN: the packed padding is zeros).
  const col = (j: number) => clampN(`n0 + ${j}`);
  // The column whose weights this lane loads for part q (lanes = 4), or column q (lanes = 1).
  const loadCol = (q: number) => (lanes === 1 ? col(q) : clampN(`n0 + ${4 * q} + lane`));
  // Row i of this lane's part of the tile, and its clamped index.
  const row = (i: number) => (lanes === 1 ? `m0 + ${i}` : `m0 + ${4 * i} + lane`);
  const bval = (j: number) => (lanes === 1 ? `b${j}` : `subgroupBroadcast(b${j >> 2}, ${j & 3}u)`);
  const body = [
    d.let('M', 'i32', affine(geo.M, 'B')),
    d.let('tilesM', 'i32', `(M + ${lanes * TM - 1}) / ${lanes * TM}`),
    d.let('total', 'i32', `${affine(geo.G, 'B')} * tilesM * ${tilesN * lanes}`),
    ...(lanes === 4 ? [d.let('lane', 'i32', 'lid % 4')] : []),
    d.forOpen('t', `gid * ${WG} + lid`, 'total', `ngroups * ${WG}`),
    `  ${d.let('u', 'i32', lanes === 1 ? 't' : 't / 4')}`,
    `  ${d.let('n0', 'i32', `(u % ${tilesN}) * ${TN}`)}`,
    `  ${d.let('r0', 'i32', `u / ${tilesN}`)}`,
    `  ${d.let('m0', 'i32', `(r0 % tilesM) * ${lanes * TM}`)}`,
    `  ${d.let('g', 'i32', 'r0 / tilesM')}`,
    ...groupOffsets(geo, views).map((l) => `  ${l}`),
    ...I.map((i) => `  ${d.let(`ra${i}`, 'i32', `go0 + ${at(geo.m, `min(${row(i)}, M - 1)`, 0)}`)}`),
    ...(ops.b.packed ? [] : Q.map((q) => `  ${d.let(`cb${q}`, 'i32', `go1 + ${at(geo.n, loadCol(q), 0)}`)}`)),
    ...I.flatMap((i) => J.map((j) => `  ${d.var(`c${i}_${j}`, 'f32', '0.0')}`)),
    `  ${d.forOpen('k', '0', String(geo.K))}`,
    `    ${d.let('ka', 'i32', at(geo.k, 'k', 0))}`,
    ...I.map((i) => `    ${d.let(`a${i}`, 'f32', d.load(ops.a, `ra${i} + ka`))}`),
    ...(ops.b.packed
      ? [`    ${d.let('kb', 'i32', `k * ${ops.b.packed.Npad}`)}`, ...Q.map((q) => `    ${d.let(`b${q}`, 'f32', d.load(ops.b, `kb + ${loadCol(q)}`))}`)]
      : [`    ${d.let('kb', 'i32', at(geo.k, 'k', 1))}`, ...Q.map((q) => `    ${d.let(`b${q}`, 'f32', d.load(ops.b, `cb${q} + kb`))}`)]),
    ...(lanes === 1 ? [] : J.map((j) => `    ${d.let(`s${j}`, 'f32', bval(j))}`)),
    ...I.flatMap((i) => J.map((j) => `    c${i}_${j} += a${i} * ${lanes === 1 ? `b${j}` : `s${j}`};`)),
    '  }',
    ...I.flatMap((i) => Array.from({ length: views - 2 }, (_, v) => `  ${d.let(`ro${i}_${v + 2}`, 'i32', `go${v + 2} + ${mAt(`min(${row(i)}, M - 1)`, v + 2)}`)}`)),
    ...J.flatMap((j) => Array.from({ length: views - 2 }, (_, v) => `  ${d.let(`co${j}_${v + 2}`, 'i32', nAt(col(j), v + 2))}`)),
    // Stores without a branch per element (SwiftShader compiles those very slowly). Columns past N
    // were computed from column N-1 (and, with lanes = 1, rows past M from row M-1), and all values
    // are loaded before any is stored, so a duplicate stores the same value again, even when out is
    // written in place over an input. With lanes = 4 a row past M would duplicate another lane's row,
    // so those rows are skipped instead.
    ...I.flatMap((i) => J.map((j) => `  ${d.let(`v${i}_${j}`, 'f32', epilogueValue(d, k, ops, `c${i}_${j}`, (v) => `ro${i}_${v}`, (v) => `co${j}_${v}`))}`)),
    ...(lanes === 1
      ? I.flatMap((i) => J.map((j) => `  ${d.store(ops.out, `ro${i}_2 + co${j}_2`, `v${i}_${j}`)}`))
      : I.map((i) => `  if (${row(i)} < M) { ${J.map((j) => d.store(ops.out, `ro${i}_2 + co${j}_2`, `v${i}_${j}`)).join(' ')} }`)),
    '}',
  ];
  return {
    name: 'gemm', operands: [ops.a, ops.b, ops.out, ...ops.ins], workgroup: WG, grid: { items: { b: 0, c: 0 }, per: WG }, shared: [], body,
    directives: lanes === 4 ? SUBGROUP_DIRECTIVES : [],
    doc: lanes === 1
      ? `GEMM ${fmtShape(geo)}, ${TM}x${TN} register tiles per invocation (no workgroup memory)${ops.b.packed ? ', b repacked to [K, Npad]' : ''}`
      : `GEMM ${fmtShape(geo)}, ${4 * TM}x${TN} register tiles per subgroup of 4 (${TM} rows per invocation, weights shared by subgroupBroadcast)${ops.b.packed ? ', b repacked to [K, Npad]' : ''}`,
  };
}

/** Work items of a register variant: one invocation per TM x TN tile (lanes = 1), or 4 per 4·TM x TN tile. */
export function registerItems(k: GemmKernel, lanes: 1 | 4): readonly (readonly [Affine, number])[] {
  const geo = gemmGeometry(k);
  const { TM, TN } = registerTile(geo, lanes);
  return [[geo.G, 1], [geo.M, lanes * TM], [{ b: 0, c: geo.N }, TN], [{ b: 0, c: lanes }, 1]];
}

const TK = 16;

export function gemmWorkgroup(d: Dialect, p: KernelProgram, k: GemmKernel, pack: Pack | undefined): WgslKernelSource {
  const geo = gemmGeometry(k);
  const ops = operandsOf(p, k, pack);
  const views = 3 + ops.ins.length;
  const mAt = (x: string, j: number) => at(geo.m, x, j === 0 ? 0 : j - 1);
  const nAt = (x: string, j: number) => at(geo.n, x, j - 1);
  const bLoad = ops.b.packed
    ? d.select(`kk < ${geo.K}`, d.load(ops.b, `min(kk, ${geo.K - 1}) * ${ops.b.packed.Npad} + n`), '0.0')
    : d.select(`kk < ${geo.K} && n < ${geo.N}`, d.load(ops.b, `go1 + ${at(geo.k, `min(kk, ${geo.K - 1})`, 1)} + ${at(geo.n, `min(n, ${geo.N - 1})`, 0)}`), '0.0');
  const IJ = [0, 1, 2, 3];
  const body = [
    d.let('M', 'i32', affine(geo.M, 'B')),
    d.let('TMt', 'i32', 'i32(TILE_M)'),
    d.let('TNt', 'i32', 'i32(TILE_N)'),
    d.let('threads', 'i32', 'i32(WX * WY)'),
    d.let('tx', 'i32', 'i32(lid3.x)'),
    d.let('ty', 'i32', 'i32(lid3.y)'),
    d.let('tilesM', 'i32', '(M + TMt - 1) / TMt'),
    d.let('tilesN', 'i32', `(${geo.N} + TNt - 1) / TNt`),
    d.let('total', 'i32', `${affine(geo.G, 'B')} * tilesM * tilesN`),
    d.forOpen('t', 'gid', 'total', 'ngroups'),
    `  ${d.let('n0', 'i32', '(t % tilesN) * TNt')}`,
    `  ${d.let('r0', 'i32', 't / tilesN')}`,
    `  ${d.let('m0', 'i32', '(r0 % tilesM) * TMt')}`,
    `  ${d.let('g', 'i32', 'r0 / tilesM')}`,
    ...groupOffsets(geo, views).map((l) => `  ${l}`),
    '  var c: array<f32, 16>;',
    `  ${d.forOpen('k0', '0', String(geo.K), String(TK))}`,
    `    ${d.forOpen('e', 'lid', `TMt * ${TK}`, 'threads')}`,
    `      ${d.let('m', 'i32', `m0 + e / ${TK}`)}`,
    `      ${d.let('kk', 'i32', `k0 + e % ${TK}`)}`,
    `      As[e] = ${d.select(`m < M && kk < ${geo.K}`, d.load(ops.a, `go0 + ${at(geo.m, 'min(m, M - 1)', 0)} + ${at(geo.k, `min(kk, ${geo.K - 1})`, 0)}`), '0.0')};`,
    '    }',
    `    ${d.forOpen('e', 'lid', `${TK} * TNt`, 'threads')}`,
    `      ${d.let('kk', 'i32', 'k0 + e / TNt')}`,
    `      ${d.let('n', 'i32', 'n0 + e % TNt')}`,
    `      Bs[e] = ${bLoad};`,
    '    }',
    `    ${d.barrier}`,
    `    ${d.forOpen('q', '0', String(TK))}`,
    ...IJ.map((i) => `      ${d.let(`a${i}`, 'f32', `As[(ty * 4 + ${i}) * ${TK} + q]`)}`),
    ...IJ.map((j) => `      ${d.let(`b${j}`, 'f32', `Bs[q * TNt + tx * 4 + ${j}]`)}`),
    ...IJ.flatMap((i) => IJ.map((j) => `      c[${i * 4 + j}] += a${i} * b${j};`)),
    '    }',
    `    ${d.barrier}`,
    '  }',
    ...IJ.flatMap((i) => Array.from({ length: views - 2 }, (_, v) => `  ${d.let(`ro${i}_${v + 2}`, 'i32', `go${v + 2} + ${mAt(`min(m0 + ty * 4 + ${i}, M - 1)`, v + 2)}`)}`)),
    ...IJ.flatMap((j) => Array.from({ length: views - 2 }, (_, v) => `  ${d.let(`co${j}_${v + 2}`, 'i32', nAt(`min(n0 + tx * 4 + ${j}, ${geo.N - 1})`, v + 2))}`)),
    ...IJ.flatMap((i) => IJ.map((j) => `  if (m0 + ty * 4 + ${i} < M && n0 + tx * 4 + ${j} < ${geo.N}) { ${epilogue(d, k, ops, `c[${i * 4 + j}]`, (v) => `ro${i}_${v}`, (v) => `co${j}_${v}`)} }`)),
    '}',
  ];
  return {
    name: 'gemm', operands: [ops.a, ops.b, ops.out, ...ops.ins], workgroup: 0, grid: { items: { b: 0, c: 0 }, per: 1 }, shared: [], body,
    overrides: [
      'override TILE_M: u32 = 64u;',
      'override TILE_N: u32 = 64u;',
      'override WX: u32 = TILE_N / 4u;',
      'override WY: u32 = TILE_M / 4u;',
      `override A_TILE: u32 = TILE_M * ${TK}u;`,
      `override B_TILE: u32 = TILE_N * ${TK}u;`,
    ],
    sharedExpr: [{ name: 'As', count: 'A_TILE' }, { name: 'Bs', count: 'B_TILE' }],
    workgroupSize: 'WX, WY',
    doc: `GEMM ${fmtShape(geo)}, TILE_M x TILE_N x ${TK} tiles in workgroup memory, 4x4 per invocation${ops.b.packed ? ', b repacked to [K, Npad]' : ''}`,
  };
}

function fmtShape(geo: GemmGeometry): string {
  const g = geo.G.b === 0 && geo.G.c === 1 ? '' : `${affine(geo.G, 'B')} x `;
  return `${g}[${affine(geo.M, 'B')} x ${geo.K}] · [${geo.K} x ${geo.N}]`;
}
