// The model-specific host code of model.cu: the weight table, the weights block (every parameter and
// constant converted to the storage type, GEMM weights repacked), the memory plan's sizes, and
// vitc_enqueue, which launches every kernel at batch B with pointers into the weights and the arena.
import { formatSpan } from '../../diag/diagnostic.js';
import { atB, type Affine } from '../../ir/strided.js';
import { STORAGE_BYTES, type Buf, type Kernel, type KernelProgram } from '../../kernel/types.js';
import type { Manifest } from '../manifest.js';
import { CTYPE, floatLit } from './dialect.js';
import { packKey, type CudaFunction, type CudaOperand, type GridAxis, type KernelPlan, type Pack } from './function.js';

const ALIGN = 256;
const INT_MAX = 2 ** 31 - 1;
const GRID_YZ_MAX = 65535;

interface Region { at: number; weight: number; constant: number; elements: number; pack?: Pack }

export interface WeightsLayout {
  readonly regions: readonly Region[];
  readonly bytes: number;
  /** Byte offset of each param/const buffer's plain copy, and of each packed GEMM weight. */
  readonly plainAt: ReadonlyMap<number, number>;
  readonly packAt: ReadonlyMap<string, number>;
  readonly constData: readonly number[];
}

const roundUp = (x: number, a: number) => Math.ceil(x / a) * a;

/** Lay out the weights block: a plain copy of every parameter or constant read as such, and each packed weight once. */
export function layoutWeights(p: KernelProgram, m: Manifest, plans: readonly KernelPlan[]): WeightsLayout {
  const esize = STORAGE_BYTES[p.precision.storage];
  const weightIndex = new Map(m.weights.map((w, i) => [w.name, i]));
  const plain = new Set<number>();
  const packs = new Map<string, Pack>();
  for (const plan of plans) {
    for (const fn of plan.kind === 'one' ? [plan.fn] : [plan.large, plan.small]) {
      for (const o of fn.operands) {
        const b = p.bufs[o.buf]!;
        if (b.kind !== 'param' && b.kind !== 'const') continue;
        if (o.pack) packs.set(packKey(o.pack), o.pack);
        else plain.add(o.buf);
      }
    }
  }
  const regions: Region[] = [];
  const plainAt = new Map<number, number>(), packAt = new Map<string, number>();
  const constData: number[] = [];
  const constAt = new Map<number, number>();
  let top = 0;
  const source = (b: Buf): { weight: number; constant: number } => {
    if (b.kind === 'param') {
      const w = weightIndex.get(b.name);
      if (w === undefined) throw new Error(`parameter ${b.name} is not in the manifest`);
      return { weight: w, constant: 0 };
    }
    if (!constAt.has(b.id)) { constAt.set(b.id, constData.length); constData.push(...b.data!); }
    return { weight: -1, constant: constAt.get(b.id)! };
  };
  for (const b of p.bufs) {
    if (!plain.has(b.id)) continue;
    const elements = atB(b.size, 1);
    regions.push({ at: top, ...source(b), elements });
    plainAt.set(b.id, top);
    top += roundUp(elements * esize, ALIGN);
  }
  for (const [key, pk] of [...packs].sort((x, y) => x[1].buf - y[1].buf || (x[0] < y[0] ? -1 : 1))) {
    regions.push({ at: top, ...source(p.bufs[pk.buf]!), elements: pk.N * pk.Kp, pack: pk });
    packAt.set(key, top);
    top += roundUp(pk.N * pk.Kp * esize, ALIGN);
  }
  return { regions, bytes: top, plainAt, packAt, constData };
}

/** The largest batch for which every buffer's element count fits int32 and every grid's y and z fit 65535. */
export function maxBatch(p: KernelProgram, fns: readonly CudaFunction[]): number {
  let best = 1 << 20;
  const bound = (a: Affine, limit: number) => { if (a.b > 0) best = Math.min(best, Math.floor((limit - a.c) / a.b)); };
  for (const b of p.bufs) if (b.kind === 'temp' || b.kind === 'input' || b.kind === 'output') bound(b.size, INT_MAX);
  for (const f of fns) for (const ax of [f.grid[1], f.grid[2]]) bound({ b: ax.items.b, c: ax.items.c + ax.per - 1 }, GRID_YZ_MAX * ax.per);
  return Math.max(1, best);
}

function cArray(xs: readonly number[], n: number): string {
  const v = [...xs];
  while (v.length < n) v.push(0);
  return `{${v.join(', ')}}`;
}

/** The tables of model.cu's host part. */
export function hostTables(p: KernelProgram, m: Manifest, w: WeightsLayout, maxB: number): string {
  const storage = p.precision.storage;
  const lines = [
    '// ---- the model\'s tables ----',
    `#define VITC_STORAGE_BYTES ${STORAGE_BYTES[storage]}`,
    `#define VITC_STORAGE_IS_BF16 ${storage === 'bf16' ? 1 : 0}`,
    `#define VITC_NUM_WEIGHTS ${m.weights.length}`,
    `#define VITC_NUM_REGIONS ${w.regions.length}`,
    `#define VITC_NUM_TRANSFORMS ${m.weight_transforms.length}`,
    `#define VITC_WEIGHT_BYTES ((size_t)${w.bytes})`,
    `#if VITC_MAX_BATCH != ${maxB}`,
    '#error "model.h does not belong to this model.cu"',
    '#endif',
    '',
    'struct vitc_weight_desc { const char* name; int ndim; long long shape[8]; };',
    '/** Every weight the model binds, by state-dict name, with its shape. */',
    `static const vitc_weight_desc VITC_WEIGHTS[${Math.max(1, m.weights.length)}] = {`,
    ...m.weights.map((x) => `  {${JSON.stringify(x.name)}, ${x.shape.length}, ${cArray(x.shape, 1)}},`),
    ...(m.weights.length ? [] : ['  {"", 0, {0}},']),
    '};',
    '',
    'struct vitc_output_desc { const char* name; int ndim; long long shape[8]; long long numel; };',
    '/** Every output of the model, in the manifest\'s order: name, dims after the batch, floats per image. */',
    `static const vitc_output_desc VITC_OUTPUTS[VITC_NUM_OUTPUTS] = {`,
    ...m.outputs.map((o) => {
      const dims = o.shape.slice(1) as number[];
      return `  {${JSON.stringify(o.name)}, ${dims.length}, ${cArray(dims, 1)}, ${dims.reduce((a, d) => a * d, 1)}},`;
    }),
    '};',
    '',
    'struct vitc_transform { int weight; int op; double eps; };',
    '/** Transforms folded into weights, applied in this order at load (op 0: standardize each filter, StdConv). */',
    `static const vitc_transform VITC_TRANSFORMS[${Math.max(1, m.weight_transforms.length)}] = {`,
    ...m.weight_transforms.map((t) => {
      const wi = m.weights.findIndex((x) => x.name === t.name);
      if (wi < 0) throw new Error(`weight transform of unknown weight ${t.name}`);
      switch (t.op) {
        case 'standardize': return `  {${wi}, 0, ${t.eps}},  // ${t.name}: standardize(eps=${t.eps})`;
      }
    }),
    ...(m.weight_transforms.length ? [] : ['  {-1, 0, 0.0},']),
    '};',
    '',
    '/** Constants of the model (f32), converted to the storage type at load. */',
    `static const float VITC_CONST_DATA[${Math.max(1, w.constData.length)}] = {${w.constData.length ? w.constData.map((v) => floatLit(Math.fround(v))).join(', ') : '0.0f'}};`,
    '',
    'struct vitc_region {',
    '  int weight;           // index in VITC_WEIGHTS, or -1 for a constant',
    '  long long constant;   // offset in VITC_CONST_DATA',
    '  long long elements;   // elements written',
    '  size_t at;            // byte offset in the weights block',
    '  int pack;             // 0: a plain copy; 1: a GEMM weight repacked to [N][Kp], k contiguous',
    '  long long K, N, Kp, offset;',
    '  int nk; int kshape[4]; long long kstride[4];',
    '  int nn; int nshape[4]; long long nstride[4];',
    '};',
    '/** The weights block: one region per plain parameter or constant and per repacked GEMM weight. */',
    `static const vitc_region VITC_REGIONS[${Math.max(1, w.regions.length)}] = {`,
    ...w.regions.map((r) => {
      const pk = r.pack;
      const head = `  {${r.weight}, ${r.constant}, ${r.elements}, ${r.at}, ${pk ? 1 : 0}`;
      if (!pk) return `${head}, 0, 0, 0, 0, 0, {0}, {0}, 0, {0}, {0}},`;
      if (pk.kShape.length > 4 || pk.nShape.length > 4) throw new Error('a GEMM weight view with more than 4 k or n dims');
      return `${head}, ${pk.K}, ${pk.N}, ${pk.Kp}, ${pk.offset}, ${pk.kShape.length}, ${cArray(pk.kShape, 1)}, ${cArray(pk.kStrides, 1)}, ${pk.nShape.length}, ${cArray(pk.nShape, 1)}, ${cArray(pk.nStrides, 1)}},`;
    }),
    ...(w.regions.length ? [] : ['  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, {0}, {0}, 0, {0}, {0}},']),
    '};',
    '',
  ];
  return lines.join('\n');
}

/** A C integer expression for an affine quantity, with B of type int and the result long long. */
export function cAffine(a: Affine): string {
  if (a.b === 0) return `${a.c}LL`;
  const bp = a.b === 1 ? '(long long)B' : `${a.b}LL * B`;
  return a.c === 0 ? bp : `${bp} ${a.c > 0 ? '+' : '-'} ${Math.abs(a.c)}LL`;
}

function gridExpr(ax: GridAxis): string {
  if (ax.items.b === 0) {
    const n = Math.ceil(ax.items.c / ax.per);
    return String(ax.cap ? Math.min(n, ax.cap) : n);
  }
  const e = `vitc_cdiv(${cAffine(ax.items)}, ${ax.per})`;
  return ax.cap ? `vitc_cap(${e}, ${ax.cap}u)` : e;
}

/** The pointer a kernel gets for an operand at batch B. */
function pointer(p: KernelProgram, o: CudaOperand, w: WeightsLayout): string {
  const b = p.bufs[o.buf]!;
  const t = CTYPE[o.dtype];
  const plus = (base: string) => (o.offset.b === 0 && o.offset.c === 0 ? base : `${base} + ${cAffine(o.offset)}`);
  switch (b.kind) {
    case 'input': return plus('input');
    case 'output': {
      const k = p.outputs.findIndex((x) => x.buf === b.id);
      if (k < 0) throw new Error(`output buffer ${b.name} is not an output of the program`);
      return plus(`outputs[${k}]`);
    }
    case 'temp': return plus(`(${t}*)(A + ${cAffine(b.offset!)})`);
    case 'param': case 'const':
      if (o.pack) return `(${t}*)(W + ${w.packAt.get(packKey(o.pack))})`;
      return plus(`(${t}*)(W + ${w.plainAt.get(b.id)})`);
  }
}

function launch(p: KernelProgram, fn: CudaFunction, name: string, w: WeightsLayout): string {
  const grid = `dim3(${fn.grid.map(gridExpr).join(', ')})`;
  return `VITC_LAUNCH(${name}, ${grid}, dim3(${fn.threads}), stream, ${[...fn.operands.map((o) => pointer(p, o, w)), 'B'].join(', ')});`;
}

/**
 * What a kernel is, for its comment line: scope, source position, kind, covered IR nodes. `fileName`
 * names the source file as the manifest does (never by absolute path: builds are the same anywhere).
 */
export function describe(k: Kernel, fileName: (file: string) => string): string {
  const where = [k.scope || '-', k.span ? formatSpan({ ...k.span, file: fileName(k.span.file) }) : ''].filter(Boolean).join(' @ ');
  const kind = k.kind === 'generic' ? `generic ${k.op}` : k.kind;
  return `k${k.id} ${where}: ${kind}, covers ${k.covers.map((c) => `%${c}`).join(',') || '-'}`;
}

/** vitc_enqueue: the forward at batch B, one comment line and one launch per kernel. */
export function enqueue(p: KernelProgram, plans: readonly KernelPlan[], names: readonly (readonly string[])[], w: WeightsLayout, fileName: (file: string) => string): string {
  const lines = [
    '// ---- the forward: every kernel of the program, in order ----',
    'static void vitc_enqueue(vitc_model* m, const float* input, float* const* outputs, int B, cudaStream_t stream) {',
    '  char* const A = m->arena;',
    '  char* const W = m->weights;',
    '  (void)A;',
    '  (void)W;',
  ];
  p.kernels.forEach((k, i) => {
    const plan = plans[i]!;
    lines.push(`  // ${describe(k, fileName)}`);
    if (plan.kind === 'one') lines.push(`  ${launch(p, plan.fn, names[i]![0]!, w)}`);
    else {
      const blocks = plan.large.grid.map((ax) => `(long long)${gridExpr(ax)}`).join(' * ');
      lines.push(`  if (vitc_large(m, ${blocks}))`);
      lines.push(`    ${launch(p, plan.large, names[i]![0]!, w)}`);
      lines.push('  else');
      lines.push(`    ${launch(p, plan.small, names[i]![1]!, w)}`);
    }
    lines.push(`  VITC_MARK(${i});`);
  });
  lines.push('}', '');
  // What vitc_profile reports per kernel.
  lines.push(
    '/** Per kernel: its id, function(s) and scope, for vitc_profile. */',
    `static const char* const VITC_KERNEL_NAMES[${p.kernels.length}] = {`,
    ...p.kernels.map((k, i) => `  ${JSON.stringify(`k${k.id} ${names[i]!.join('|')} ${k.scope || '-'}`)},`),
    '};',
    '',
  );
  return lines.join('\n');
}
