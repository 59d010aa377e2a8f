// Graph sources: the model input, named parameters (weights), and constants computed at build time.
import { defineOp, fmtNum } from '../op.js';
import { fmtShape, type DType, type Shape, tensor } from '../types.js';
import { fmtTransform, type WeightTransform } from './transform.js';

/** How a parameter is filled when no weights are given (seeded random weights). */
export type Init =
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number }
  | { readonly kind: 'constant'; readonly value: number };

export function fmtInit(i: Init): string {
  switch (i.kind) {
    case 'normal': return `normal(${fmtNum(i.std)})`;
    case 'uniform': return `uniform(${fmtNum(i.low)},${fmtNum(i.high)})`;
    case 'constant': return `constant(${fmtNum(i.value)})`;
  }
}

export const input = defineOp<{ readonly name: string; readonly shape: Shape; readonly dtype: DType }>({
  name: 'input', kind: 'source', arity: 0, fusion: 'source',
  doc: 'A model input (NCHW image batch); its first dim is the symbolic batch B.',
  infer: (_args, a) => tensor(a.shape, a.dtype),
  formatAttrs: (a) => `"${a.name}"`,
});

export interface ParamAttrs {
  readonly name: string;
  readonly shape: Shape;
  readonly init: Init;
  /** Folded weight transforms, applied in order when the weights are loaded (absent: none). */
  readonly transforms?: readonly WeightTransform[];
}

export const param = defineOp<ParamAttrs>({
  name: 'param', kind: 'source', arity: 0, fusion: 'source',
  doc: 'A weight, named by its state-dict key (timm names), bound from the weights file by name; `transforms` are applied at load time.',
  infer: (_args, a) => tensor(a.shape),
  formatAttrs: (a) => `"${a.name}" init=${fmtInit(a.init)}${a.transforms?.length ? ` transforms=[${a.transforms.map(fmtTransform).join(', ')}]` : ''}`,
});

export const constant = defineOp<{ readonly label: string; readonly shape: Shape; readonly data: readonly number[] }>({
  name: 'const', kind: 'source', arity: 0, fusion: 'source',
  doc: 'A constant tensor computed at build time (scalars, fixed position tables).',
  infer: (_args, a) => tensor(a.shape),
  formatAttrs: (a) => a.data.length === 1 ? fmtNum(a.data[0]!) : `"${a.label}" ${fmtShape(a.shape)}`,
});
