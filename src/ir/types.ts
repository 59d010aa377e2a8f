// Tensor types: a dtype and a shape of static dims plus the one symbolic batch dim "B".

export type DType = 'f32' | 'f16';
export const BATCH = 'B';
export type Dim = number | typeof BATCH;
export type Shape = readonly Dim[];

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export function tensor(shape: Shape, dtype: DType = 'f32'): TensorType {
  return { dtype, shape: [...shape] };
}

export function fmtShape(s: Shape): string {
  return `[${s.join(',')}]`;
}

export function fmtType(t: TensorType): string {
  return `${t.dtype}${fmtShape(t.shape)}`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

/** Number of elements with the batch dim set to `batch`. */
export function numel(s: Shape, batch = 1): number {
  return s.reduce<number>((n, d) => n * (d === BATCH ? batch : d), 1);
}

/** Product of the static dims only (the batch dim counts as 1). */
export function staticNumel(s: Shape): number {
  return numel(s, 1);
}

export function hasBatch(s: Shape): boolean {
  return s.includes(BATCH);
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4;
}

/** Thrown by shape rules; the builder turns it into a diagnostic at the offending expression. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

export function shapeCheck(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new ShapeError(message());
}

/** Normalize a possibly negative axis for a tensor of rank `rank`. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  shapeCheck(a >= 0 && a < rank && Number.isInteger(a), () => `axis ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

/** numpy-style broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new ShapeError(`shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dim ${i}: ${da} vs ${db})`);
  }
  return out;
}
