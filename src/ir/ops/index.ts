// The op catalog: one registry line per op. `Node` in graph.ts is derived from this table, so
// adding an op here makes the compiler list every switch that must handle it.
import { input, param, constant } from './source.js';
import { linear, matmul } from './linalg.js';
import { conv2d, maxpool2d } from './conv.js';
import { add, sub, mul, div, gelu, gelu_tanh, relu, silu, sigmoid, tanh, exp, log, sqrt, neg } from './elementwise.js';
import { layernorm, groupnorm, softmax } from './norm.js';
import { reshape, transpose, concat, slice, select, expand, mean } from './layout.js';
import { attention } from './composite.js';
import { standardize } from './transform.js';
import type { OpDecl } from '../op.js';

export const OPS = {
  input, param, const: constant,
  linear, matmul, conv2d, maxpool2d,
  add, sub, mul, div,
  gelu, gelu_tanh, relu, silu, sigmoid, tanh, exp, log, sqrt, neg,
  layernorm, groupnorm, softmax,
  reshape, transpose, concat, slice, select, expand, mean,
  attention, standardize,
} as const;

export type OpName = keyof typeof OPS;
export type AttrsOf<K extends OpName> = (typeof OPS)[K] extends OpDecl<infer A> ? A : never;

export function opDecl<K extends OpName>(op: K): OpDecl<AttrsOf<K>> {
  return OPS[op] as unknown as OpDecl<AttrsOf<K>>;
}

export function isOpName(s: string): s is OpName {
  return Object.prototype.hasOwnProperty.call(OPS, s);
}

export type { Init, ParamAttrs } from './source.js';
export type { WeightTransform } from './transform.js';
