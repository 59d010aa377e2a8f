// Where every operand lives at run time, in elements of its binding: the weights buffer W (parameters
// read as they are, constants, and GEMM weights repacked at load to [K, Npad] rows), the arena A
// (activations at the memory plan's offsets) and the f32 IO buffer (input at 0, output after it).
import { isConstA, numelA, type Affine } from '../../ir/strided.js';
import { kernelInputs } from '../../kernel/walk.js';
import { STORAGE_BYTES, type GemmKernel, type KernelProgram } from '../../kernel/types.js';
import type { HostOperand, WeightSegment } from './runtime/program.js';
import { spaceOf } from './dialect.js';

/** Packed weight rows are padded to a multiple of this many columns, so every tile's loads stay inside. */
export const PACK_COLS = 64;
const ALIGN = 64;

const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;
const numel = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);

/** A GEMM weight repacked at load: element (k, n) at `at + k·Npad + n`. */
export interface Pack {
  readonly at: number;
  readonly K: number;
  readonly N: number;
  readonly Npad: number;
}

/** Whether a GEMM's b is a weight the host can repack (a parameter with a static view, no group dims). */
export function packable(p: KernelProgram, k: GemmKernel): boolean {
  return p.bufs[k.b.buf]!.kind === 'param' && k.rank.g === 0 && isConstA(k.b.offset) && k.b.shape.every(isConstA) && k.b.strides.every(isConstA);
}

export interface Placement {
  readonly segments: readonly WeightSegment[];
  readonly weightElems: number;
  readonly inputPerSample: number;
  readonly outputPerSample: number;
  /** Arena elements (B·perSample + fixed). */
  readonly arena: Affine;
  /** Where an operand of buffer `buf` at element offset `offset` (the view's) lives. */
  operand(buf: number, offset: Affine): HostOperand;
  /** The packed copy of a GEMM's weight, when packable(). */
  pack(k: GemmKernel): Pack | undefined;
}

export function place(p: KernelProgram): Placement {
  const bytes = STORAGE_BYTES[p.precision.storage];
  const segments: WeightSegment[] = [];
  let top = 0;
  const alloc = (n: number) => {
    const at = top;
    top = roundUp(top + n, ALIGN);
    return at;
  };
  // Weights and constants that some kernel reads as they are (a packed GEMM weight is read only through its pack).
  const direct = new Set<number>();
  for (const k of p.kernels) {
    for (const v of kernelInputs(k)) if (spaceOf(p, v.buf) === 'W' && !(k.kind === 'gemm' && v === k.b && packable(p, k))) direct.add(v.buf);
  }
  const base = new Map<number, number>();
  for (const b of p.bufs) {
    if (!direct.has(b.id)) continue;
    const size = numelA({ offset: { b: 0, c: 0 }, shape: b.shape, strides: [] }).c;
    const at = alloc(size);
    base.set(b.id, at);
    if (b.kind === 'param') segments.push({ kind: 'param', name: b.name, at, size });
    else segments.push({ kind: 'const', at, data: Buffer.from(new Float32Array(b.data!).buffer).toString('base64') });
  }
  const packs = new Map<string, Pack>();
  const packOf = new Map<number, Pack>();
  for (const k of p.kernels) {
    if (k.kind !== 'gemm' || !packable(p, k)) continue;
    const kr = k.rank.k;
    const kShape = k.b.shape.slice(0, kr).map((d) => d.c), nShape = k.b.shape.slice(kr).map((d) => d.c);
    const kStrides = k.b.strides.slice(0, kr).map((d) => d.c), nStrides = k.b.strides.slice(kr).map((d) => d.c);
    const key = JSON.stringify([k.b.buf, k.b.offset.c, kShape, kStrides, nShape, nStrides]);
    let pk = packs.get(key);
    if (!pk) {
      const K = numel(kShape), N = numel(nShape), Npad = roundUp(N, PACK_COLS);
      const src = p.bufs[k.b.buf]!;
      pk = { at: alloc(K * Npad), K, N, Npad };
      segments.push({ kind: 'pack', name: src.name, at: pk.at, K, N, Npad, offset: k.b.offset.c, kShape, kStrides, nShape, nStrides });
      packs.set(key, pk);
    }
    packOf.set(k.id, pk);
  }
  const input = p.bufs[p.inputs[0]!]!, output = p.bufs[p.outputs[0]!.buf]!;
  if (p.inputs.length !== 1 || p.outputs.length !== 1) throw new Error('the wgsl target runs models with one input and one output');
  const perSample = (b: typeof input) => {
    if (b.size.c !== 0) throw new Error(`${b.name} has a size that is not a multiple of the batch`);
    return b.size.b;
  };
  const inputPerSample = perSample(input), outputPerSample = perSample(output);
  return {
    segments,
    weightElems: Math.max(top, 1),
    inputPerSample,
    outputPerSample,
    arena: { b: p.arena.perSample / bytes, c: p.arena.fixed / bytes },
    operand(buf: number, offset: Affine): HostOperand {
      const b = p.bufs[buf]!;
      const v = { offset };
      switch (b.kind) {
        case 'param': case 'const': {
          const at = base.get(b.id);
          if (at === undefined) throw new Error(`${b.name} is read directly but was not placed`);
          return { space: 'W', offset: { b: v.offset.b, c: at + v.offset.c } };
        }
        case 'temp': {
          const off = b.offset!;
          if (off.b % bytes || off.c % bytes) throw new Error(`arena offset of ${b.name} is not a whole number of elements`);
          return { space: 'A', offset: { b: off.b / bytes + v.offset.b, c: off.c / bytes + v.offset.c } };
        }
        case 'input': return { space: 'IO', offset: v.offset };
        case 'output': return { space: 'IO', offset: { b: inputPerSample + v.offset.b, c: v.offset.c } };
      }
    },
    pack: (k) => packOf.get(k.id),
  };
}
