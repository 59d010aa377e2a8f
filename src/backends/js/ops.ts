// The JS target's op table: how each op becomes a call into the runtime kernels.
// Shapes are emitted as expressions with the batch dim bound to the runtime `batch` argument.
import type { NodeOf } from '../../ir/graph.js';
import type { OpName } from '../../ir/ops/index.js';
import { BATCH, type Shape } from '../../ir/types.js';

export interface JsArg {
  readonly name: string;
  readonly shape: Shape;
}

/** `[batch, 197, 768]` */
export function shapeExpr(s: Shape): string {
  return `[${s.map((d) => (d === BATCH ? 'batch' : String(d))).join(', ')}]`;
}

/** Element count of a shape as an expression (`batch * 151296`). */
export function countExpr(s: Shape): string {
  const stat = s.reduce<number>((n, d) => n * (d === BATCH ? 1 : d), 1);
  return s.includes(BATCH) ? (stat === 1 ? 'batch' : `batch * ${stat}`) : String(stat);
}

/** [outer, n, inner] around `axis`, as expressions. */
function around(s: Shape, axis: number): [string, string, string] {
  return [countExpr(s.slice(0, axis)), countExpr([s[axis]!]), countExpr(s.slice(axis + 1))];
}

type Emit<K extends OpName> = (n: NodeOf<K>, a: readonly JsArg[]) => string;
/** 'composite': lowered by the pass pipeline before emission (the target does not list it as native). */
type Table = { readonly [K in OpName]: Emit<K> | 'source' | 'composite' };

const unary = <K extends OpName>(name: K): Emit<K> => (_n, [x]) => `unary(${JSON.stringify(name)}, ${x!.name})`;
const binary = <K extends OpName>(name: K): Emit<K> => (n, [a, b]) =>
  `binary(${JSON.stringify(name)}, ${a!.name}, ${shapeExpr(a!.shape)}, ${b!.name}, ${shapeExpr(b!.shape)}, ${shapeExpr(n.type.shape)})`;
const opt = (a: JsArg | undefined) => (a ? a.name : 'null');

export const JS_OPS: Table = {
  input: 'source', param: 'source', const: 'source',
  linear: (n, [x, w, b]) => {
    const k = x!.shape[x!.shape.length - 1]!;
    return `linear(${x!.name}, ${countExpr(x!.shape.slice(0, -1))}, ${k}, ${w!.name}, ${opt(b)}, ${n.type.shape[n.type.shape.length - 1]})`;
  },
  matmul: (n, [a, b]) => `matmul(${a!.name}, ${shapeExpr(a!.shape)}, ${b!.name}, ${shapeExpr(b!.shape)}, ${shapeExpr(n.type.shape)})`,
  conv2d: (n, [x, w, b]) => {
    const a = n.attrs;
    return `conv2d(${x!.name}, ${shapeExpr(x!.shape)}, ${w!.name}, ${shapeExpr(w!.shape)}, ${opt(b)}, [${a.stride.join(', ')}], [${a.pad.join(', ')}], [${a.dilation.join(', ')}], ${a.groups})`;
  },
  maxpool2d: (n, [x]) => `maxpool2d(${x!.name}, ${shapeExpr(x!.shape)}, [${n.attrs.kernel.join(', ')}], [${n.attrs.stride.join(', ')}], [${n.attrs.pad.join(', ')}])`,
  add: binary('add'), sub: binary('sub'), mul: binary('mul'), div: binary('div'),
  gelu: unary('gelu'), gelu_tanh: unary('gelu_tanh'), relu: unary('relu'), silu: unary('silu'), sigmoid: unary('sigmoid'),
  tanh: unary('tanh'), exp: unary('exp'), log: unary('log'), sqrt: unary('sqrt'), neg: unary('neg'),
  layernorm: (n, [x, w, b]) => {
    const s = x!.shape;
    return `layernorm(${x!.name}, ${countExpr(s.slice(0, -1))}, ${s[s.length - 1]}, ${opt(w)}, ${opt(b)}, ${n.attrs.eps})`;
  },
  groupnorm: (n, [x, w, b]) => {
    const s = x!.shape;
    return `groupnorm(${x!.name}, ${countExpr(s.slice(0, 1))}, ${s[1]}, ${countExpr(s.slice(2))}, ${n.attrs.groups}, ${opt(w)}, ${opt(b)}, ${n.attrs.eps})`;
  },
  softmax: (n, [x]) => `softmax(${x!.name}, ${around(x!.shape, n.attrs.axis).join(', ')})`,
  reshape: (_n, [x]) => x!.name,
  transpose: (n, [x]) => `transpose(${x!.name}, ${shapeExpr(x!.shape)}, [${n.attrs.perm.join(', ')}])`,
  concat: (n, xs) => {
    const axis = n.attrs.axis;
    const [outer, , inner] = around(n.type.shape, axis);
    return `concat([${xs.map((x) => x.name).join(', ')}], [${xs.map((x) => x.shape[axis]).join(', ')}], ${outer}, ${inner})`;
  },
  slice: (n, [x]) => `slice(${x!.name}, ${around(x!.shape, n.attrs.axis).join(', ')}, ${n.attrs.start}, ${n.attrs.end})`,
  select: (n, [x]) => `slice(${x!.name}, ${around(x!.shape, n.attrs.axis).join(', ')}, ${n.attrs.index}, ${n.attrs.index + 1})`,
  expand: (n, [x]) => `expand(${x!.name}, ${shapeExpr(x!.shape)}, ${shapeExpr(n.type.shape)})`,
  mean: (n, [x]) => {
    // Reduce the (ascending) axes one at a time from the last; each is an [outer, n, inner] mean.
    let expr = x!.name;
    let shape = [...x!.shape];
    for (const ax of [...n.attrs.axes].reverse()) {
      expr = `mean(${expr}, ${around(shape, ax).join(', ')})`;
      shape = shape.filter((_, i) => i !== ax);
    }
    return expr;
  },
  standardize: 'composite',
  attention: (n, [q, k, v]) => {
    const r = q!.shape.length;
    return `attention(${q!.name}, ${k!.name}, ${v!.name}, ${countExpr(q!.shape.slice(0, -2))}, ${q!.shape[r - 2]}, ${k!.shape[r - 2]}, ${q!.shape[r - 1]}, ${v!.shape[r - 1]}, ${n.attrs.scale})`;
  },
};
