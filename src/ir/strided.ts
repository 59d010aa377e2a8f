// Sizes, offsets and strides that may depend on the symbolic batch B, and the algebra of strided
// layouts that layout ops (reshape, transpose, select, slice, expand) apply without moving data.
// Every quantity is affine in B (b·B + c): a value has at most one factor of B, so products of two
// batch-dependent quantities never arise (and are refused where they would).
import { BATCH, type Dim, type Shape } from './types.js';

/** b·B + c. */
export interface Affine {
  readonly b: number;
  readonly c: number;
}

export const ZERO: Affine = { b: 0, c: 0 };
export const ONE: Affine = { b: 0, c: 1 };

export function aff(c: number, b = 0): Affine {
  return { b, c };
}

export function ofDim(d: Dim): Affine {
  return d === BATCH ? { b: 1, c: 0 } : { b: 0, c: d };
}

export function addA(x: Affine, y: Affine): Affine {
  return { b: x.b + y.b, c: x.c + y.c };
}

export function subA(x: Affine, y: Affine): Affine {
  return { b: x.b - y.b, c: x.c - y.c };
}

export function scaleA(x: Affine, k: number): Affine {
  return { b: x.b * k, c: x.c * k };
}

/** x·y; throws when both depend on B (a B² term has no affine form). */
export function mulA(x: Affine, y: Affine): Affine {
  if (x.b !== 0 && y.b !== 0) throw new Error(`product of two batch-dependent sizes (${fmtA(x)})·(${fmtA(y)})`);
  return { b: x.b * y.c + x.c * y.b, c: x.c * y.c };
}

export function eqA(x: Affine, y: Affine): boolean {
  return x.b === y.b && x.c === y.c;
}

export function isConstA(x: Affine): boolean {
  return x.b === 0;
}

/** The value at a concrete batch size. */
export function atB(x: Affine, batch: number): number {
  return x.b * batch + x.c;
}

export function prodA(xs: readonly Affine[]): Affine {
  return xs.reduce(mulA, ONE);
}

/** "197·B", "3", "768·B+128". */
export function fmtA(x: Affine): string {
  if (x.b === 0) return String(x.c);
  const bpart = x.b === 1 ? 'B' : `${x.b}·B`;
  return x.c === 0 ? bpart : `${bpart}${x.c > 0 ? '+' : '-'}${Math.abs(x.c)}`;
}

/** A strided layout over a flat buffer: element i of the tensor is at offset + Σ i_d·strides[d]. */
export interface Strided {
  readonly offset: Affine;
  readonly shape: readonly Affine[];
  readonly strides: readonly Affine[];
}

export function shapeOf(s: Shape): Affine[] {
  return s.map(ofDim);
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly Affine[]): Affine[] {
  const st: Affine[] = new Array(shape.length);
  let s = ONE;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s = mulA(s, shape[i]!);
  }
  return st;
}

export function contiguous(shape: readonly Affine[], offset: Affine = ZERO): Strided {
  return { offset, shape: [...shape], strides: contiguousStrides(shape) };
}

/** Number of elements. */
export function numelA(s: Strided): Affine {
  return prodA(s.shape);
}

/** Whether the layout is row-major contiguous (size-1 dims ignored). */
export function isContiguous(s: Strided): boolean {
  const want = contiguousStrides(s.shape);
  return s.shape.every((d, i) => (d.b === 0 && d.c === 1) || eqA(s.strides[i]!, want[i]!));
}

export function permute(s: Strided, perm: readonly number[]): Strided {
  return { offset: s.offset, shape: perm.map((p) => s.shape[p]!), strides: perm.map((p) => s.strides[p]!) };
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => { inv[p] = i; });
  return inv;
}

export function selectAxis(s: Strided, axis: number, index: number): Strided {
  return {
    offset: addA(s.offset, scaleA(s.strides[axis]!, index)),
    shape: s.shape.filter((_, i) => i !== axis),
    strides: s.strides.filter((_, i) => i !== axis),
  };
}

export function sliceAxis(s: Strided, axis: number, start: number, end: number): Strided {
  return {
    offset: addA(s.offset, scaleA(s.strides[axis]!, start)),
    shape: s.shape.map((d, i) => (i === axis ? aff(end - start) : d)),
    strides: s.strides,
  };
}

/** Broadcast (numpy rules) to `shape`: new leading dims and expanded size-1 dims get stride 0. */
export function broadcastTo(s: Strided, shape: readonly Affine[]): Strided {
  const lead = shape.length - s.shape.length;
  if (lead < 0) throw new Error('broadcast to a lower rank');
  const strides = shape.map((d, i) => {
    if (i < lead) return ZERO;
    const own = s.shape[i - lead]!;
    if (eqA(own, d)) return s.strides[i - lead]!;
    if (own.b === 0 && own.c === 1) return ZERO;
    throw new Error(`cannot broadcast dim ${fmtA(own)} to ${fmtA(d)}`);
  });
  return { offset: s.offset, shape: [...shape], strides };
}

/**
 * The same elements in row-major order under a new shape, as a strided layout, or undefined when no
 * strided layout can express it (then the data must be copied). A contiguous layout reshapes to any
 * shape of the same size; otherwise each run of static dims must merge (stride_i = stride_{i+1}·n_{i+1})
 * and the batch dim must map to the batch dim.
 */
export function reshapeTo(s: Strided, shape: readonly Affine[]): Strided | undefined {
  if (isContiguous(s)) return contiguous(shape, s.offset);
  // Drop size-1 dims, then split both shapes at their batch-dependent dims.
  const keep = s.shape.map((d, i) => [d, s.strides[i]!] as const).filter(([d]) => !(d.b === 0 && d.c === 1));
  const segs = (dims: readonly Affine[]) => {
    const out: { batch?: Affine; stat: number[] }[] = [{ stat: [] }];
    for (const d of dims) {
      if (d.b !== 0) out.push({ batch: d, stat: [] });
      else out[out.length - 1]!.stat.push(d.c);
    }
    return out;
  };
  const oldSegs: { batch?: readonly [Affine, Affine]; stat: (readonly [number, Affine])[] }[] = [{ stat: [] }];
  for (const [d, st] of keep) {
    if (d.b !== 0) oldSegs.push({ batch: [d, st], stat: [] });
    else oldSegs[oldSegs.length - 1]!.stat.push([d.c, st]);
  }
  const newSegs = segs(shape);
  if (oldSegs.length !== newSegs.length) return undefined;
  const strides: Affine[] = [];
  for (let si = 0; si < newSegs.length; si++) {
    const o = oldSegs[si]!, n = newSegs[si]!;
    if (si > 0) {
      if (!o.batch || !n.batch || !eqA(o.batch[0], n.batch)) return undefined;
      strides.push(o.batch[1]);
    }
    const st = reshapeStatic(o.stat, n.stat);
    if (!st) return undefined;
    strides.push(...st);
  }
  return { offset: s.offset, shape: [...shape], strides };
}

/** Strides for new static dims `to` over old static dims `from` (with strides), or undefined. */
function reshapeStatic(from: readonly (readonly [number, Affine])[], toAll: readonly number[]): Affine[] | undefined {
  const to = toAll.filter((d) => d !== 1);
  const out: Affine[] = [];
  let i = 0, j = 0;
  while (i < from.length || j < to.length) {
    // Take the smallest groups from..i2 and to..j2 with equal products.
    let pi = 1, pj = 1;
    const i0 = i, j0 = j;
    if (i < from.length) pi *= from[i++]![0];
    if (j < to.length) pj *= to[j++]!;
    while (pi !== pj) {
      if (pi < pj) {
        if (i >= from.length) return undefined;
        pi *= from[i++]![0];
      } else {
        if (j >= to.length) return undefined;
        pj *= to[j++]!;
      }
    }
    // The old group must be mergeable into one run.
    for (let t = i0; t < i - 1; t++) if (!eqA(from[t]![1], scaleA(from[t + 1]![1], from[t + 1]![0]))) return undefined;
    let st = from[i - 1]?.[1] ?? ONE;
    const group: Affine[] = [];
    for (let t = j - 1; t >= j0; t--) {
      group.unshift(st);
      st = scaleA(st, to[t]!);
    }
    out.push(...group);
  }
  // Map back to toAll, with size-1 dims given stride 0.
  const res: Affine[] = [];
  let k = 0;
  for (const d of toAll) res.push(d === 1 ? ZERO : out[k++]!);
  return res;
}

/** "[B,197,768]@0 /[151296,768,1]". */
export function fmtStrided(s: Strided): string {
  return `[${s.shape.map(fmtA).join(',')}]@${fmtA(s.offset)} /[${s.strides.map(fmtA).join(',')}]`;
}
