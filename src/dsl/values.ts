// Values of the model language while a model is elaborated into IR: compile-time numbers, strings,
// lists, blocks and parameter initializers, and tensors (IR values under construction).
import type { Value } from '../ir/builder.js';
import type { Init } from '../ir/ops/index.js';
import { fmtType } from '../ir/types.js';
import type { BlockDef, TypeRef } from './ast.js';
import type { Module } from './module.js';
import type { Builtin } from './builtins.js';
import { quote } from '../diag/quote.js';
import type { Span } from '../diag/diagnostic.js';

export type DValue =
  | { readonly kind: 'tensor'; readonly value: Value }
  | { readonly kind: 'int'; readonly n: number }
  | { readonly kind: 'float'; readonly n: number }
  | { readonly kind: 'bool'; readonly b: boolean }
  | { readonly kind: 'str'; readonly s: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'batch' }
  | { readonly kind: 'list'; readonly items: readonly DValue[] }
  | { readonly kind: 'tuple'; readonly items: readonly DValue[] }
  /**
   * A block; `preset` holds arguments bound ahead of the call (a spec's hyperparameters for it), and
   * `bound` says which spec value made it a model's encoder or pooling block.
   */
  | { readonly kind: 'block'; readonly def: BlockDef; readonly module: Module; readonly preset?: ReadonlyMap<string, { readonly value: DValue; readonly span: Span }>; readonly bound?: Binding }
  | { readonly kind: 'builtin'; readonly fn: Builtin }
  | { readonly kind: 'init'; readonly init: Init };

/**
 * A block the spec gives a model (`block:` its encoder, `global_pool:` its pool): the role it plays,
 * the model that calls it, and the spec value that named it (where a misfit is reported).
 */
export interface Binding {
  readonly role: 'encoder' | 'pool';
  readonly model: string;
  readonly span: Span;
}

export const NONE: DValue = { kind: 'none' };
export const int = (n: number): DValue => ({ kind: 'int', n });
export const float = (n: number): DValue => ({ kind: 'float', n });
export const bool = (b: boolean): DValue => ({ kind: 'bool', b });
export const str = (s: string): DValue => ({ kind: 'str', s });
export const tensorV = (value: Value): DValue => ({ kind: 'tensor', value });

/** How a value is named in messages: `int 3`, `tensor f32[B,197,768]`, `block encoder_block`. */
export function describe(v: DValue): string {
  switch (v.kind) {
    case 'tensor': return `tensor ${fmtType(v.value.type)}`;
    case 'int': return `int ${v.n}`;
    case 'float': return `float ${floatText(v.n)}`;
    case 'bool': return `bool ${v.b}`;
    case 'str': return `str ${quote(v.s)}`;
    case 'none': return 'none';
    case 'batch': return 'the batch dim B';
    case 'list': return `list [${v.items.map(describeShort).join(', ')}]`;
    case 'tuple': return `${v.items.length} values`;
    case 'block': return `block ${v.def.name}`;
    case 'builtin': return `builtin ${v.fn.name}`;
    case 'init': return 'an initializer';
  }
}

function describeShort(v: DValue): string {
  return v.kind === 'int' ? String(v.n) : v.kind === 'float' ? floatText(v.n) : v.kind === 'batch' ? 'B' : v.kind === 'str' ? quote(v.s) : v.kind;
}

/** A float as messages print it: whole ones keep a ".0" (`24.0`), so an int and a float never read alike. */
export function floatText(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? n.toFixed(1) : String(n);
}

export function isNumber(v: DValue): v is Extract<DValue, { kind: 'int' | 'float' }> {
  return v.kind === 'int' || v.kind === 'float';
}

/** Does `v` fit the declared type? int widens to float. */
export function fits(v: DValue, t: TypeRef): boolean {
  if (v.kind === 'none') return t.optional;
  if (t.list) return v.kind === 'list' && v.items.every((i) => fits(i, { ...t, list: false, optional: false }));
  switch (t.base) {
    case 'tensor': return v.kind === 'tensor';
    case 'int': return v.kind === 'int';
    case 'float': return v.kind === 'int' || v.kind === 'float';
    case 'bool': return v.kind === 'bool';
    case 'str': return v.kind === 'str';
    case 'block': return v.kind === 'block';
  }
}

/** Convert an int passed for a float parameter. */
export function coerce(v: DValue, t: TypeRef | undefined): DValue {
  return t && t.base === 'float' && !t.list && v.kind === 'int' ? float(v.n) : v;
}

export function typeName(t: TypeRef): string {
  return `${t.base}${t.list ? '[]' : ''}${t.optional ? '?' : ''}`;
}
