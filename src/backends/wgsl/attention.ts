// The WGSL attention templates: softmax(q kᵀ · scale) v with an online softmax (running max and sum
// in f32), so no T x S score matrix is ever stored. One query row per invocation, with its q row and
// its output accumulator in registers. Two variants, chosen at load like the GEMM's:
//  - workgroup (GPUs): a workgroup takes QB rows of one group and stages keys and values KB at a
//    time in workgroup memory; QB and KB are overrides chosen within maxComputeWorkgroupStorageSize
//    and maxComputeInvocationsPerWorkgroup;
//  - register (CPU adapters): no workgroup memory and no barriers (SwiftShader runs a workgroup with
//    barriers as coroutines), keys and values read where they are;
//  - subgroup (CPU adapters with 4-lane subgroups, SwiftShader): the 4 lanes of a subgroup share
//    ATTENTION_SUBGROUP_ROWS query rows and split the head dimension: each lane holds a quarter of
//    every q row and output row, loads the same quarter of each key and value row (4 lanes, 4
//    consecutive elements: one vector load on SwiftShader), and a subgroupAdd completes each score.
import { prodA, type Affine } from '../../ir/strided.js';
import { InternalCompilerError } from '../../passes/pipeline.js';
import type { AttentionKernel, KernelProgram } from '../../kernel/types.js';
import { affine, coordinates, mergeDims, offsetOf, operand, type Dialect } from '../cstyle/index.js';
import { SUBGROUP_DIRECTIVES, type WgslKernelSource } from './dialect.js';

export interface AttentionGeometry {
  readonly G: Affine;
  readonly T: number;
  readonly S: number;
  readonly d: number;
  readonly dv: number;
}

export function attentionGeometry(k: AttentionKernel): AttentionGeometry {
  const r = k.q.shape.length;
  const stat = (a: Affine, what: string) => {
    if (a.b !== 0) throw new InternalCompilerError(`attention k${k.id}: ${what} depends on the batch`);
    return a.c;
  };
  return {
    G: prodA(k.q.shape.slice(0, r - 2)), T: stat(k.q.shape[r - 2]!, 'T'), S: stat(k.k.shape[r - 2]!, 'S'),
    d: stat(k.q.shape[r - 1]!, 'd'), dv: stat(k.v.shape[r - 1]!, 'dv'),
  };
}

/** Invocations per workgroup of the register variant. */
export const ATTENTION_REGISTER_WG = 16;

function parts(d: Dialect, p: KernelProgram, k: AttentionKernel) {
  const geo = attentionGeometry(k);
  const r = k.q.shape.length;
  const views = [k.q, k.k, k.v, k.out];
  const grp = mergeDims(k.q.shape.slice(0, r - 2), views.map((v) => v.strides.slice(0, r - 2)));
  const gAt = (j: number) => (grp.shape.length ? offsetOf(coordinates('g', grp.shape, 'B'), grp.strides[j]!, 'B') : '0');
  const st = (j: number, dim: number) => views[j]!.strides[r - 2 + dim]!;
  const mul = (x: string, s: Affine) => (s.b === 0 && s.c === 1 ? x : `${x} * ${affine(s, 'B')}`);
  const ops = { q: operand(p, 'q', k.q), k: operand(p, 'k', k.k), v: operand(p, 'v', k.v), out: operand(p, 'out', k.out, true) };
  const D = [...Array(geo.d).keys()], DV = [...Array(geo.dv).keys()];
  /** Row r of group g: q loaded, running max, sum and accumulator started. */
  const start = [
    d.let('gq', 'i32', `${gAt(0)} + ${mul('r', st(0, 0))}`),
    d.let('gk', 'i32', gAt(1)),
    d.let('gv', 'i32', gAt(2)),
    ...D.map((c) => d.let(`q${c}`, 'f32', d.load(ops.q, `gq + ${mul(String(c), st(0, 1))}`))),
    d.var('mx', 'f32', d.f32(-Infinity)),
    d.var('l', 'f32', '0.0'),
    ...DV.map((c) => d.var(`o${c}`, 'f32', '0.0')),
  ];
  /** One key: its score s (from `key(c)`), then the online softmax update with value `val(c)`. */
  const update = (key: (c: number) => string, val: (c: number) => string) => [
    d.var('s', 'f32', '0.0'),
    ...D.map((c) => `s += q${c} * ${key(c)};`),
    `s = s * ${d.f32(k.scale)};`,
    d.let('mn', 'f32', d.call('max', 'mx', 's')),
    d.let('corr', 'f32', d.call('exp', 'mx - mn')),
    d.let('pj', 'f32', d.call('exp', 's - mn')),
    'l = l * corr + pj;',
    ...DV.map((c) => `o${c} = o${c} * corr + pj * ${val(c)};`),
    'mx = mn;',
  ];
  const finish = [
    d.let('go', 'i32', `${gAt(3)} + ${mul('r', st(3, 0))}`),
    d.let('inv', 'f32', '1.0 / l'),
    ...DV.map((c) => d.store(ops.out, `go + ${mul(String(c), st(3, 1))}`, `o${c} * inv`)),
  ];
  /** Closing the key loop, then storing row r when it is a real row. */
  const tail = ['  }', `  if (row < ${geo.T}) {`, ...indent(2, finish), '  }', '}'];
  return { geo, gAt, st, mul, ops, start, update, tail };
}

const indent = (n: number, lines: readonly string[]) => lines.map((l) => `${'  '.repeat(n)}${l}`);

/** Whether the subgroup variant applies (it splits d and dv over 4 lanes). */
export function attentionLanes(k: AttentionKernel): boolean {
  const g = attentionGeometry(k);
  return g.d % 4 === 0 && g.dv % 4 === 0;
}

/** No workgroup memory: one query row per invocation, keys and values read where they are. */
export function attentionRegister(d: Dialect, p: KernelProgram, k: AttentionKernel): WgslKernelSource {
  const { geo, st, mul, ops, start, update, tail } = parts(d, p, k);
  const wg = ATTENTION_REGISTER_WG;
  const body = [
    d.let('total', 'i32', `${affine(geo.G, 'B')} * ${geo.T}`),
    d.forOpen('t', `gid * ${wg} + lid`, 'total', `ngroups * ${wg}`),
    `  ${d.let('g', 'i32', `t / ${geo.T}`)}`,
    `  ${d.let('row', 'i32', `t % ${geo.T}`)}`,
    `  ${d.let('r', 'i32', `min(row, ${geo.T - 1})`)}`,
    ...indent(1, start),
    `  ${d.forOpen('j', '0', String(geo.S))}`,
    `    ${d.let('kj', 'i32', `gk + ${mul('j', st(1, 0))}`)}`,
    `    ${d.let('vj', 'i32', `gv + ${mul('j', st(2, 0))}`)}`,
    ...indent(2, update((c) => d.load(ops.k, `kj + ${mul(String(c), st(1, 1))}`), (c) => d.load(ops.v, `vj + ${mul(String(c), st(2, 1))}`))),
    ...tail,
  ];
  return {
    name: 'attention', operands: [ops.q, ops.k, ops.v, ops.out], workgroup: wg, grid: { items: { b: 0, c: 0 }, per: wg }, shared: [], body,
    doc: `attention over ${affine(geo.G, 'B')} groups: T=${geo.T} queries, S=${geo.S} keys, d=${geo.d}, dv=${geo.dv}; online softmax (f32 max and sum), one query row per invocation, keys and values read in place`,
  };
}

/** Query rows a subgroup of the subgroup variant takes together (its 4 lanes split d and dv). */
export const ATTENTION_SUBGROUP_ROWS = 4;

/**
 * Subgroups of 4 SIMD lanes (SwiftShader): a subgroup takes R query rows of one group; lane l holds
 * elements 4c + l of each q row and output row. Per key, each lane loads the same elements of the
 * key and value rows (4 lanes read 4 consecutive elements, one vector load), forms its partial dot
 * products, and subgroupAdd gives every lane the R scores; the online softmax then runs in every lane
 * on the same values. No broadcasts and one load per element of K and V per R rows.
 */
export function attentionSubgroup(d: Dialect, p: KernelProgram, k: AttentionKernel): WgslKernelSource {
  const { geo, gAt, st, mul, ops } = parts(d, p, k);
  const R = ATTENTION_SUBGROUP_ROWS, wg = ATTENTION_REGISTER_WG;
  const blocks = Math.ceil(geo.T / R);
  const I = [...Array(R).keys()], Dq = [...Array(geo.d / 4).keys()], DVq = [...Array(geo.dv / 4).keys()];
  const el = (c: number) => `(${4 * c} + lane)`;
  const body = [
    d.let('total', 'i32', `${affine(geo.G, 'B')} * ${blocks * 4}`),
    d.let('lane', 'i32', 'lid % 4'),
    d.forOpen('t', `gid * ${wg} + lid`, 'total', `ngroups * ${wg}`),
    `  ${d.let('u', 'i32', 't / 4')}`,
    `  ${d.let('g', 'i32', `u / ${blocks}`)}`,
    `  ${d.let('r0', 'i32', `(u % ${blocks}) * ${R}`)}`,
    `  ${d.let('gk', 'i32', gAt(1))}`,
    `  ${d.let('gv', 'i32', gAt(2))}`,
    ...I.flatMap((i) => [
      `  ${d.let(`gq${i}`, 'i32', `${gAt(0)} + ${mul(`min(r0 + ${i}, ${geo.T - 1})`, st(0, 0))}`)}`,
      ...Dq.map((c) => `  ${d.let(`q${i}_${c}`, 'f32', d.load(ops.q, `gq${i} + ${mul(el(c), st(0, 1))}`))}`),
      `  ${d.var(`mx${i}`, 'f32', d.f32(-Infinity))}`,
      `  ${d.var(`l${i}`, 'f32', '0.0')}`,
      ...DVq.map((c) => `  ${d.var(`o${i}_${c}`, 'f32', '0.0')}`),
    ]),
    `  ${d.forOpen('j', '0', String(geo.S))}`,
    `    ${d.let('kj', 'i32', `gk + ${mul('j', st(1, 0))}`)}`,
    `    ${d.let('vj', 'i32', `gv + ${mul('j', st(2, 0))}`)}`,
    ...Dq.map((c) => `    ${d.let(`k${c}`, 'f32', d.load(ops.k, `kj + ${mul(el(c), st(1, 1))}`))}`),
    ...DVq.map((c) => `    ${d.let(`v${c}`, 'f32', d.load(ops.v, `vj + ${mul(el(c), st(2, 1))}`))}`),
    ...I.flatMap((i) => [
      `    ${d.let(`s${i}`, 'f32', `subgroupAdd(${Dq.map((c) => `q${i}_${c} * k${c}`).join(' + ')}) * ${d.f32(k.scale)}`)}`,
      `    ${d.let(`mn${i}`, 'f32', d.call('max', `mx${i}`, `s${i}`))}`,
      `    ${d.let(`corr${i}`, 'f32', d.call('exp', `mx${i} - mn${i}`))}`,
      `    ${d.let(`p${i}`, 'f32', d.call('exp', `s${i} - mn${i}`))}`,
      `    l${i} = l${i} * corr${i} + p${i};`,
      ...DVq.map((c) => `    o${i}_${c} = o${i}_${c} * corr${i} + p${i} * v${c};`),
      `    mx${i} = mn${i};`,
    ]),
    '  }',
    ...I.flatMap((i) => [
      `  if (r0 + ${i} < ${geo.T}) {`,
      `    ${d.let(`go${i}`, 'i32', `${gAt(3)} + ${mul(`(r0 + ${i})`, st(3, 0))}`)}`,
      `    ${d.let(`inv${i}`, 'f32', `1.0 / l${i}`)}`,
      ...DVq.map((c) => `    ${d.store(ops.out, `go${i} + ${mul(el(c), st(3, 1))}`, `o${i}_${c} * inv${i}`)}`),
      '  }',
    ]),
    '}',
  ];
  return {
    name: 'attention', operands: [ops.q, ops.k, ops.v, ops.out], workgroup: wg, grid: { items: { b: 0, c: 0 }, per: wg }, shared: [], body,
    directives: SUBGROUP_DIRECTIVES,
    doc: `attention over ${affine(geo.G, 'B')} groups: T=${geo.T} queries, S=${geo.S} keys, d=${geo.d}, dv=${geo.dv}; online softmax (f32 max and sum), ${R} query rows per subgroup of 4, each lane a quarter of d and dv, scores completed by subgroupAdd`,
  };
}

/** Work items of the register variant (one per query row) or the subgroup one (4 per R query rows). */
export function attentionRegisterItems(k: AttentionKernel, lanes: 1 | 4): readonly (readonly [Affine, number])[] {
  const geo = attentionGeometry(k);
  return lanes === 1 ? [[geo.G, 1], [{ b: 0, c: geo.T }, 1]] : [[geo.G, 1], [{ b: 0, c: geo.T }, ATTENTION_SUBGROUP_ROWS], [{ b: 0, c: 4 }, 1]];
}

export function attentionWorkgroup(d: Dialect, p: KernelProgram, k: AttentionKernel): WgslKernelSource {
  const { geo, st, mul, ops, start, update, tail } = parts(d, p, k);
  const { k: kk, v, out } = ops;
  const body = [
    d.let('qb', 'i32', 'i32(QB)'),
    d.let('kb', 'i32', 'i32(KB)'),
    d.let('blocks', 'i32', `(${geo.T} + qb - 1) / qb`),
    d.let('total', 'i32', `${affine(geo.G, 'B')} * blocks`),
    d.forOpen('t', 'gid', 'total', 'ngroups'),
    `  ${d.let('g', 'i32', 't / blocks')}`,
    `  ${d.let('row', 'i32', '(t % blocks) * qb + lid')}`,
    `  ${d.let('r', 'i32', `min(row, ${geo.T - 1})`)}`,
    ...indent(1, start),
    `  ${d.forOpen('s0', '0', String(geo.S), 'kb')}`,
    `    ${d.forOpen('e', 'lid', `kb * ${geo.d}`, 'qb')}`,
    `      Ks[e] = ${d.load(kk, `gk + ${mul(`min(s0 + e / ${geo.d}, ${geo.S - 1})`, st(1, 0))} + ${mul(`(e % ${geo.d})`, st(1, 1))}`)};`,
    '    }',
    `    ${d.forOpen('e', 'lid', `kb * ${geo.dv}`, 'qb')}`,
    `      Vs[e] = ${d.load(v, `gv + ${mul(`min(s0 + e / ${geo.dv}, ${geo.S - 1})`, st(2, 0))} + ${mul(`(e % ${geo.dv})`, st(2, 1))}`)};`,
    '    }',
    `    ${d.barrier}`,
    `    ${d.forOpen('j', '0', `min(kb, ${geo.S} - s0)`)}`,
    `      ${d.let('kj', 'i32', `j * ${geo.d}`)}`,
    `      ${d.let('vj', 'i32', `j * ${geo.dv}`)}`,
    ...indent(3, update((c) => `Ks[kj + ${c}]`, (c) => `Vs[vj + ${c}]`)),
    '    }',
    `    ${d.barrier}`,
    ...tail,
  ];
  return {
    name: 'attention', operands: [ops.q, kk, v, out], workgroup: 0, grid: { items: { b: 0, c: 0 }, per: 1 }, shared: [], body,
    overrides: [
      'override QB: u32 = 64u;',
      'override KB: u32 = 32u;',
      `override K_TILE: u32 = KB * ${geo.d}u;`,
      `override V_TILE: u32 = KB * ${geo.dv}u;`,
    ],
    sharedExpr: [{ name: 'Ks', count: 'K_TILE' }, { name: 'Vs', count: 'V_TILE' }],
    workgroupSize: 'QB',
    doc: `attention over ${affine(geo.G, 'B')} groups: T=${geo.T} queries, S=${geo.S} keys, d=${geo.d}, dv=${geo.dv}; online softmax (f32 max and sum), K/V tiles of KB keys in workgroup memory`,
  };
}
