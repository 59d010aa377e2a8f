// Built-in functions of the model language: IR primitives, sugar over them (split_heads,
// merge_heads, flatten_tokens), compile-time helpers (size, int) and parameter initializers.
// One table entry per builtin: its parameters (with types and defaults), its doc line, its meaning.
import { fail, type Span } from '../diag/diagnostic.js';
import type { GraphBuilder, Value } from '../ir/builder.js';
import { BATCH, type Dim } from '../ir/types.js';
import { sincos2d } from '../models/sincos.js';
import { didYouMean, divisorsNear } from '../util/suggest.js';
import { samePads, type Pads, type Pair } from '../ir/ops/conv.js';
import { describe, float, int, isNumber, NONE, tensorV, type DValue } from './values.js';
import { quote } from '../diag/quote.js';

export type BType = 'tensor' | 'tensor?' | 'int' | 'int?' | 'float' | 'bool' | 'str' | 'shape' | 'int|ints' | 'int|ints?' | 'padding' | 'list' | 'tensors' | 'number' | 'tensor|number';

export interface BuiltinParam {
  readonly name: string;
  readonly type: BType;
  readonly default?: DValue;
  /** An int that must be at least 1 (a count such as `groups`), checked statically when written as a literal. */
  readonly positive?: boolean;
}

export interface Ctx {
  readonly b: GraphBuilder;
  readonly span: Span;
}

export interface Builtin {
  readonly name: string;
  readonly doc: string;
  readonly params: readonly BuiltinParam[];
  call(a: Readonly<Record<string, DValue>>, ctx: Ctx): DValue;
}

const TYPE_WORDS: Record<BType, string> = {
  tensor: 'a tensor', 'tensor?': 'a tensor or none', int: 'an int', 'int?': 'an int or none', float: 'a number', bool: 'a bool', str: 'a string',
  shape: 'a shape: a list of ints, B and at most one -1', 'int|ints': 'an int or a list of ints', 'int|ints?': 'an int, a list of ints or none',
  padding: 'an int, a list of ints, "same" or "valid"', list: 'a list', tensors: 'a list of tensors', number: 'a number', 'tensor|number': 'a tensor or a number',
};

export function fitsB(v: DValue, t: BType): boolean {
  switch (t) {
    case 'tensor': return v.kind === 'tensor';
    case 'tensor?': return v.kind === 'tensor' || v.kind === 'none';
    case 'int': return v.kind === 'int';
    case 'int?': return v.kind === 'int' || v.kind === 'none';
    case 'float': case 'number': return isNumber(v);
    case 'bool': return v.kind === 'bool';
    case 'str': return v.kind === 'str';
    case 'shape': return v.kind === 'list' && v.items.every((i) => i.kind === 'int' || i.kind === 'batch');
    case 'int|ints': return v.kind === 'int' || (v.kind === 'list' && v.items.every((i) => i.kind === 'int'));
    case 'int|ints?': return v.kind === 'none' || fitsB(v, 'int|ints');
    case 'padding': return v.kind === 'str' || fitsB(v, 'int|ints');
    case 'list': return v.kind === 'list';
    case 'tensors': return v.kind === 'list' && v.items.length > 0 && v.items.every((i) => i.kind === 'tensor');
    case 'tensor|number': return v.kind === 'tensor' || isNumber(v);
  }
}

export function typeWords(t: BType): string {
  return TYPE_WORDS[t];
}

// ---- helpers ----

const T = (v: DValue): Value => (v as Extract<DValue, { kind: 'tensor' }>).value;
const N = (v: DValue): number => (v as Extract<DValue, { kind: 'int' | 'float' }>).n;
const ints = (v: DValue): number[] => (v.kind === 'int' ? [v.n] : (v as Extract<DValue, { kind: 'list' }>).items.map(N));
const shapeOf = (v: DValue): (Dim | -1)[] => (v as Extract<DValue, { kind: 'list' }>).items.map((i) => (i.kind === 'batch' ? BATCH : N(i) as Dim | -1));
const opt = (v: DValue): Value[] => (v.kind === 'tensor' ? [v.value] : []);
const p = (name: string, type: BType, dflt?: DValue): BuiltinParam => ({ name, type, default: dflt });
/** A count parameter: an int >= 1. */
const count = (name: string, dflt?: DValue): BuiltinParam => ({ name, type: 'int', default: dflt, positive: true });

function axisOf(ctx: Ctx, x: Value, axis: number): number {
  const r = x.type.shape.length;
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) fail('dsl/axis', `axis ${axis} is out of range for a tensor of rank ${r}`, ctx.span);
  return a;
}

/** An int or [h, w] as a pair (stride, dilation, kernel sizes). */
function pairOf(ctx: Ctx, what: string, v: DValue): Pair {
  const xs = ints(v);
  if (xs.length < 1 || xs.length > 2) fail('dsl/arg', `${what} must be an int or [h, w]; got ${xs.length} values`, ctx.span);
  return (xs.length === 1 ? [xs[0], xs[0]] : xs) as [number, number];
}

/** [N, C, H, W] with static C, H and W, or a diagnostic at the call. */
function spatial(ctx: Ctx, fn: string, x: Value): [number, number, number] {
  const s = x.type.shape;
  if (s.length !== 4 || s.slice(1).some((d) => d === BATCH)) fail('dsl/arg', `${fn} expects an input [B, C, H, W]; got a tensor of shape [${s.join(', ')}]`, ctx.span);
  return s.slice(1) as [number, number, number];
}

/**
 * Padding as [top, left, bottom, right]: an int, [h, w], [top, left, bottom, right], "valid" (none)
 * or "same" (TensorFlow's: resolved from the static input size, the odd pixel at the bottom/right).
 */
function padsOf(ctx: Ctx, v: DValue, input: Pair, kernel: Pair, stride: Pair, dilation: Pair): Pads {
  if (v.kind === 'str') {
    if (v.s === 'same') return samePads(input, kernel, stride, dilation);
    if (v.s === 'valid') return [0, 0, 0, 0];
    return fail('dsl/arg', `padding must be an int, a list or "same" or "valid"; got ${JSON.stringify(v.s)}`, ctx.span, didYouMean(v.s, ['same', 'valid']));
  }
  const pd = ints(v);
  if (![1, 2, 4].includes(pd.length)) fail('dsl/arg', 'padding must be an int, [h, w], [top, left, bottom, right], "same" or "valid"', ctx.span);
  return (pd.length === 1 ? [pd[0], pd[0], pd[0], pd[0]] : pd.length === 2 ? [pd[0], pd[1], pd[0], pd[1]] : pd) as [number, number, number, number];
}

/** `groups` must be a positive divisor of every channel count given; said at the call. */
function checkGroups(ctx: Ctx, fn: string, groups: number, counts: readonly [string, number][]): void {
  if (groups < 1) fail('dsl/groups', `${fn}: groups must be a positive integer; got ${groups}`, ctx.span);
  for (const [what, n] of counts) {
    if (n % groups !== 0) fail('dsl/groups', `${fn}: groups ${groups} does not divide the ${n} ${what}`, ctx.span, `try groups ${divisorsNear(n, groups)}`);
  }
}

function unaryMath(name: 'gelu' | 'gelu_tanh' | 'relu' | 'silu' | 'sigmoid' | 'tanh' | 'exp' | 'log' | 'sqrt', doc: string, scalar?: (x: number) => number): Builtin {
  return {
    name, doc, params: [p('x', scalar ? 'tensor|number' : 'tensor')],
    call: (a, ctx) => (a.x!.kind === 'tensor' ? tensorV(ctx.b.op(name, [T(a.x!)], {})) : float(scalar!(N(a.x!)))),
  };
}

const ACTIVATIONS = ['gelu', 'gelu_tanh', 'relu', 'silu', 'sigmoid', 'tanh'] as const;

function initFn(name: string, doc: string, params: BuiltinParam[], make: (a: Readonly<Record<string, DValue>>) => DValue): Builtin {
  return { name, doc, params, call: (a) => make(a) };
}

export const BUILTINS: readonly Builtin[] = [
  // IR primitives
  { name: 'linear', doc: 'x W^T + b over the last dim (W is [out, in]).', params: [p('x', 'tensor'), p('weight', 'tensor'), p('bias', 'tensor?', NONE)],
    call: (a, ctx) => tensorV(ctx.b.op('linear', [T(a.x!), T(a.weight!), ...opt(a.bias!)], {})) },
  { name: 'matmul', doc: 'Batched matrix product (also written a @ b).', params: [p('a', 'tensor'), p('b', 'tensor')],
    call: (a, ctx) => tensorV(ctx.b.op('matmul', [T(a.a!), T(a.b!)], {})) },
  { name: 'conv2d', doc: 'NCHW convolution, weight [O, C/groups, kh, kw]; stride and dilation an int or [h, w]; padding an int, [h, w], [top, left, bottom, right], "valid" or "same" (TensorFlow: ceil(in/stride) outputs, the odd pixel at the bottom/right); groups divides C and O (groups = C: depthwise).',
    params: [p('x', 'tensor'), p('weight', 'tensor'), p('bias', 'tensor?', NONE), p('stride', 'int|ints', int(1)), p('padding', 'padding', int(0)), p('dilation', 'int|ints', int(1)), count('groups', int(1))],
    call: (a, ctx) => {
      const x = T(a.x!), w = T(a.weight!);
      const [c, h, wd] = spatial(ctx, 'conv2d', x);
      const groups = N(a.groups!);
      const ws = w.type.shape;
      if (ws.length !== 4 || ws.includes(BATCH)) fail('dsl/arg', `conv2d weight must be [O, C/groups, kh, kw]; got a tensor of shape [${ws.join(', ')}]`, ctx.span);
      checkGroups(ctx, 'conv2d', groups, [['input channels', c], ['output channels', ws[0] as number]]);
      const stride = pairOf(ctx, 'stride', a.stride!), dilation = pairOf(ctx, 'dilation', a.dilation!);
      const pad = padsOf(ctx, a.padding!, [h, wd], [ws[2] as number, ws[3] as number], stride, dilation);
      return tensorV(ctx.b.op('conv2d', [x, w, ...opt(a.bias!)], { stride, pad, dilation, groups }));
    } },
  { name: 'maxpool2d', doc: 'NCHW max pooling: kernel and stride an int or [h, w] (stride defaults to the kernel); padding as for conv2d, padded positions never win (-inf).',
    params: [p('x', 'tensor'), p('kernel', 'int|ints'), p('stride', 'int|ints?', NONE), p('padding', 'padding', int(0))],
    call: (a, ctx) => {
      const x = T(a.x!);
      const [, h, w] = spatial(ctx, 'maxpool2d', x);
      const kernel = pairOf(ctx, 'kernel', a.kernel!);
      const stride = a.stride!.kind === 'none' ? kernel : pairOf(ctx, 'stride', a.stride!);
      const pad = padsOf(ctx, a.padding!, [h, w], kernel, stride, [1, 1]);
      return tensorV(ctx.b.op('maxpool2d', [x], { kernel, stride, pad }));
    } },
  { name: 'groupnorm', doc: 'GroupNorm of [B, C, ...]: C split into groups, each normalized over its channels and positions; optional per-channel weight and bias.',
    params: [p('x', 'tensor'), count('groups'), p('weight', 'tensor?', NONE), p('bias', 'tensor?', NONE), p('eps', 'float', float(1e-5))],
    call: (a, ctx) => {
      const x = T(a.x!);
      const c = x.type.shape[1];
      if (x.type.shape.length < 2 || typeof c !== 'number') fail('dsl/arg', `groupnorm expects an input [B, C, ...]; got a tensor of shape [${x.type.shape.join(', ')}]`, ctx.span);
      checkGroups(ctx, 'groupnorm', N(a.groups!), [['channels', c]]);
      if (a.weight!.kind === 'none' && a.bias!.kind === 'tensor') fail('dsl/arg', 'groupnorm with a bias needs a weight too', ctx.span);
      return tensorV(ctx.b.op('groupnorm', [x, ...opt(a.weight!), ...opt(a.bias!)], { groups: N(a.groups!), eps: N(a.eps!) }));
    } },
  { name: 'standardize', doc: 'Weight standardization (StdConv): each filter w[o] becomes (w[o] - mean) / sqrt(var + eps) over its other dims; folded into the weight at load time when w is a parameter.',
    params: [p('weight', 'tensor'), p('eps', 'float')],
    call: (a, ctx) => tensorV(ctx.b.op('standardize', [T(a.weight!)], { eps: N(a.eps!) })) },
  { name: 'layernorm', doc: 'LayerNorm over the last dim with optional weight and bias.', params: [p('x', 'tensor'), p('weight', 'tensor?', NONE), p('bias', 'tensor?', NONE), p('eps', 'float', float(1e-5))],
    call: (a, ctx) => {
      if (a.weight!.kind === 'none' && a.bias!.kind === 'tensor') fail('dsl/arg', 'layernorm with a bias needs a weight too', ctx.span);
      return tensorV(ctx.b.op('layernorm', [T(a.x!), ...opt(a.weight!), ...opt(a.bias!)], { eps: N(a.eps!) }));
    } },
  { name: 'softmax', doc: 'Softmax along an axis (default the last).', params: [p('x', 'tensor'), p('axis', 'int', int(-1))],
    call: (a, ctx) => tensorV(ctx.b.op('softmax', [T(a.x!)], { axis: axisOf(ctx, T(a.x!), N(a.axis!)) })) },
  { name: 'reshape', doc: 'New shape (list of ints and B; one -1 is inferred).', params: [p('x', 'tensor'), p('shape', 'shape')],
    call: (a, ctx) => {
      const shape = shapeOf(a.shape!);
      if (shape.filter((d) => d === -1).length > 1) fail('dsl/arg', 'reshape allows at most one -1', ctx.span);
      return tensorV(ctx.b.reshape(T(a.x!), shape));
    } },
  { name: 'transpose', doc: 'transpose(x, [perm]) permutes all dims; transpose(x, a, b) swaps two.', params: [p('x', 'tensor'), p('a', 'int|ints'), p('b', 'int?', NONE)],
    call: (a, ctx) => {
      const x = T(a.x!);
      let perm: number[];
      if (a.a!.kind === 'list') {
        if (a.b!.kind !== 'none') fail('dsl/arg', 'transpose takes a permutation list or two axes, not both', ctx.span);
        perm = ints(a.a!).map((i) => axisOf(ctx, x, i));
      } else {
        if (a.b!.kind === 'none') fail('dsl/arg', 'transpose(x, a, b) needs two axes (or one permutation list)', ctx.span);
        perm = [...x.type.shape.keys()];
        const i = axisOf(ctx, x, N(a.a!)), j = axisOf(ctx, x, N(a.b!));
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      return tensorV(ctx.b.op('transpose', [x], { perm }));
    } },
  { name: 'concat', doc: 'Concatenate a list of tensors along an axis.', params: [p('xs', 'tensors'), p('axis', 'int', int(0))],
    call: (a, ctx) => {
      const xs = (a.xs as Extract<DValue, { kind: 'list' }>).items.map(T);
      return tensorV(ctx.b.op('concat', xs, { axis: axisOf(ctx, xs[0]!, N(a.axis!)) }));
    } },
  { name: 'expand', doc: 'Broadcast to a shape, e.g. expand(cls_token, [B, 1, dim]).', params: [p('x', 'tensor'), p('shape', 'shape')],
    call: (a, ctx) => tensorV(ctx.b.op('expand', [T(a.x!)], { shape: shapeOf(a.shape!) as Dim[] })) },
  { name: 'mean', doc: 'Mean over one axis or a list of axes.', params: [p('x', 'tensor'), p('axis', 'int|ints'), p('keepdim', 'bool', { kind: 'bool', b: false })],
    call: (a, ctx) => {
      const x = T(a.x!);
      const axes = [...new Set(ints(a.axis!).map((i) => axisOf(ctx, x, i)))].sort((u, v) => u - v);
      return tensorV(ctx.b.op('mean', [x], { axes, keepdim: (a.keepdim as Extract<DValue, { kind: 'bool' }>).b }));
    } },
  unaryMath('gelu', 'Exact GELU (erf form).'),
  unaryMath('gelu_tanh', 'GELU, tanh approximation.'),
  unaryMath('relu', 'max(x, 0).'),
  unaryMath('silu', 'x * sigmoid(x).'),
  unaryMath('sigmoid', '1 / (1 + exp(-x)).', (x) => 1 / (1 + Math.exp(-x))),
  unaryMath('tanh', 'Hyperbolic tangent (tensors or numbers).', Math.tanh),
  unaryMath('exp', 'e^x (tensors or numbers).', Math.exp),
  unaryMath('log', 'Natural logarithm (tensors or numbers).', Math.log),
  unaryMath('sqrt', 'Square root (tensors or numbers).', Math.sqrt),
  { name: 'activation', doc: `An activation chosen by name: ${ACTIVATIONS.join(', ')}.`, params: [p('name', 'str'), p('x', 'tensor')],
    call: (a, ctx) => {
      const name = (a.name as Extract<DValue, { kind: 'str' }>).s;
      if (!(ACTIVATIONS as readonly string[]).includes(name)) fail('dsl/activation', `unknown activation ${quote(name)}`, ctx.span, didYouMean(name, ACTIVATIONS) ?? `known: ${ACTIVATIONS.join(', ')}`);
      return tensorV(ctx.b.op(name as (typeof ACTIVATIONS)[number], [T(a.x!)], {}));
    } },

  // Sugar over primitives
  { name: 'split_heads', doc: '[B, T, parts*heads*d] -> parts tensors [B, heads, T, d] (the qkv split).', params: [p('x', 'tensor'), p('parts', 'int'), p('heads', 'int')],
    call: (a, ctx) => {
      const x = T(a.x!);
      const parts = N(a.parts!), heads = N(a.heads!);
      const s = x.type.shape;
      if (s.length !== 3) fail('dsl/split-heads', `split_heads expects [B, T, C]; got a rank-${s.length} tensor`, ctx.span);
      const c = s[2] as number;
      if (parts < 1 || heads < 1 || c % (parts * heads) !== 0) fail('dsl/split-heads', `split_heads: ${c} channels do not split into ${parts} x ${heads} heads`, ctx.span);
      const d = c / (parts * heads);
      // [B, T, parts, heads, d] -> [parts, B, heads, T, d], then one contiguous block per part.
      const r = ctx.b.op('transpose', [ctx.b.reshape(x, [s[0]!, s[1]!, parts, heads, d])], { perm: [2, 0, 3, 1, 4] });
      const out = Array.from({ length: parts }, (_, i) => tensorV(ctx.b.op('select', [r], { axis: 0, index: i })));
      return parts === 1 ? out[0]! : { kind: 'tuple', items: out };
    } },
  { name: 'merge_heads', doc: '[B, heads, T, d] -> [B, T, heads*d].', params: [p('x', 'tensor')],
    call: (a, ctx) => {
      const x = T(a.x!);
      const s = x.type.shape;
      if (s.length !== 4) fail('dsl/merge-heads', `merge_heads expects [B, heads, T, d]; got a rank-${s.length} tensor`, ctx.span);
      const t = ctx.b.op('transpose', [x], { perm: [0, 2, 1, 3] });
      return tensorV(ctx.b.reshape(t, [s[0]!, s[2]!, (s[1] as number) * (s[3] as number)]));
    } },
  { name: 'flatten_tokens', doc: '[B, C, H, W] -> [B, H*W, C] (patches row-major).', params: [p('x', 'tensor')],
    call: (a, ctx) => {
      const x = T(a.x!);
      const s = x.type.shape;
      if (s.length !== 4) fail('dsl/flatten-tokens', `flatten_tokens expects [B, C, H, W]; got a rank-${s.length} tensor`, ctx.span);
      return tensorV(ctx.b.op('transpose', [ctx.b.reshape(x, [s[0]!, s[1]!, -1])], { perm: [0, 2, 1] }));
    } },
  { name: 'sincos_2d', doc: 'Fixed 2-D sin-cos position table [1, prefix + gh*gw, dim] (MAE), a constant.', params: [p('dim', 'int'), p('grid_h', 'int'), p('grid_w', 'int'), p('prefix', 'int', int(0))],
    call: (a, ctx) => {
      const [dim, gh, gw, prefix] = [N(a.dim!), N(a.grid_h!), N(a.grid_w!), N(a.prefix!)];
      if (dim < 4 || dim % 4 !== 0) fail('dsl/sincos', `sincos_2d needs a positive dim divisible by 4; got ${dim}`, ctx.span);
      if (gh < 1 || gw < 1 || prefix < 0) fail('dsl/sincos', `sincos_2d needs grid_h and grid_w >= 1 and prefix >= 0; got ${gh}, ${gw} and ${prefix}`, ctx.span);
      return tensorV(ctx.b.constant('pos_embed (2-D sin-cos)', [1, prefix + gh * gw, dim], () => sincos2d(dim, gh, gw, prefix)));
    } },

  // Compile-time helpers
  { name: 'size', doc: 'The (static) size of one axis of a tensor.', params: [p('x', 'tensor'), p('axis', 'int')],
    call: (a, ctx) => {
      const x = T(a.x!);
      const d = x.type.shape[axisOf(ctx, x, N(a.axis!))]!;
      if (d === BATCH) fail('dsl/size', 'the batch dim B has no size at compile time', ctx.span);
      return int(d);
    } },
  { name: 'len', doc: 'The number of items of a list.', params: [p('x', 'list')], call: (a) => int((a.x as Extract<DValue, { kind: 'list' }>).items.length) },
  { name: 'rank', doc: 'The number of dims of a tensor.', params: [p('x', 'tensor')], call: (a) => int(T(a.x!).type.shape.length) },
  { name: 'int', doc: 'Truncate a number toward zero (Python int()).', params: [p('x', 'number')], call: (a) => int(Math.trunc(N(a.x!))) },
  { name: 'float', doc: 'A number as a float.', params: [p('x', 'number')], call: (a) => float(N(a.x!)) },

  // Parameter initializers (for seeded random weights)
  initFn('normal', 'Initializer: normal with mean 0 and the given std.', [p('std', 'number')], (a) => ({ kind: 'init', init: { kind: 'normal', std: N(a.std!) } })),
  initFn('uniform', 'Initializer: uniform in [low, high).', [p('low', 'number'), p('high', 'number')], (a) => ({ kind: 'init', init: { kind: 'uniform', low: N(a.low!), high: N(a.high!) } })),
  initFn('constant', 'Initializer: every element equal to value.', [p('value', 'number')], (a) => ({ kind: 'init', init: { kind: 'constant', value: N(a.value!) } })),
];

export const BUILTIN_BY_NAME: ReadonlyMap<string, Builtin> = new Map(BUILTINS.map((b) => [b.name, b]));

/** Names bound in every scope besides builtin functions. */
export const BUILTIN_VALUES: ReadonlyMap<string, DValue> = new Map<string, DValue>([
  ['B', { kind: 'batch' }],
  ['zeros', { kind: 'init', init: { kind: 'constant', value: 0 } }],
  ['ones', { kind: 'init', init: { kind: 'constant', value: 1 } }],
]);

export { describe };
