// The unfused reference: evaluates a graph node by node with the plain-JS kernels (runtime/kernels.js),
// every value materialized contiguously. Tests hold every fused kernel of a KernelProgram to it.
import type { Graph, Node, NodeOf } from '../../ir/graph.js';
import type { OpName } from '../../ir/ops/index.js';
import { BATCH, type Shape } from '../../ir/types.js';
import * as K from './runtime/kernels.js';

type Eval<Kd extends OpName> = (n: NodeOf<Kd>, args: readonly Float32Array[], shapes: readonly number[][], out: number[]) => Float32Array;
type Table = { readonly [Kd in OpName]: Eval<Kd> | 'source' | 'composite' };

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
/** [outer, n, inner] around an axis. */
const around = (s: readonly number[], axis: number) => [prod(s.slice(0, axis)), s[axis]!, prod(s.slice(axis + 1))] as const;
const unary = (name: string): Eval<OpName> => (_n, [x]) => K.unary(name, x);
const binary = (name: string): Eval<OpName> => (_n, [a, b], [sa, sb], out) => K.binary(name, a, sa, b, sb, out);

const TABLE: Table = {
  input: 'source', param: 'source', const: 'source', standardize: 'composite',
  linear: (_n, [x, w, b], [sx, sw]) => K.linear(x, prod(sx!.slice(0, -1)), sx![sx!.length - 1], w, b ?? null, sw![0]),
  matmul: (_n, [a, b], [sa, sb], out) => K.matmul(a, sa, b, sb, out),
  conv2d: (n, [x, w, b], [sx, sw]) => K.conv2d(x, sx, w, sw, b ?? null, n.attrs.stride, n.attrs.pad, n.attrs.dilation, n.attrs.groups),
  maxpool2d: (n, [x], [sx]) => K.maxpool2d(x, sx, n.attrs.kernel, n.attrs.stride, n.attrs.pad),
  add: binary('add'), sub: binary('sub'), mul: binary('mul'), div: binary('div'),
  gelu: unary('gelu'), gelu_tanh: unary('gelu_tanh'), relu: unary('relu'), silu: unary('silu'), sigmoid: unary('sigmoid'),
  tanh: unary('tanh'), exp: unary('exp'), log: unary('log'), sqrt: unary('sqrt'), neg: unary('neg'),
  layernorm: (n, [x, w, b], [sx]) => K.layernorm(x, prod(sx!.slice(0, -1)), sx![sx!.length - 1], w ?? null, b ?? null, n.attrs.eps),
  groupnorm: (n, [x, w, b], [sx]) => K.groupnorm(x, sx![0], sx![1], prod(sx!.slice(2)), n.attrs.groups, w ?? null, b ?? null, n.attrs.eps),
  softmax: (n, [x], [sx]) => K.softmax(x, ...around(sx!, n.attrs.axis)),
  reshape: (_n, [x]) => x!,
  transpose: (n, [x], [sx]) => K.transpose(x, sx, n.attrs.perm),
  concat: (n, xs, shapes, out) => {
    const axis = n.attrs.axis < 0 ? n.attrs.axis + out.length : n.attrs.axis;
    const [outer, , inner] = around(out, axis);
    return K.concat([...xs], shapes.map((s) => s[axis]!), outer, inner);
  },
  slice: (n, [x], [sx]) => K.slice(x, ...around(sx!, n.attrs.axis < 0 ? n.attrs.axis + sx!.length : n.attrs.axis), n.attrs.start, n.attrs.end),
  select: (n, [x], [sx]) => {
    const axis = n.attrs.axis < 0 ? n.attrs.axis + sx!.length : n.attrs.axis;
    return K.slice(x, ...around(sx!, axis), n.attrs.index, n.attrs.index + 1);
  },
  expand: (_n, [x], [sx], out) => K.expand(x, sx, out),
  mean: (n, [x], [sx]) => {
    let y = x!, shape = [...sx!];
    for (const ax of [...n.attrs.axes].reverse()) {
      y = K.mean(y, ...around(shape, ax));
      shape = shape.filter((_, i) => i !== ax);
    }
    return y;
  },
  attention: (n, [q, k, v], [sq, sk, sv]) => {
    const r = sq!.length;
    return K.attention(q, k, v, prod(sq!.slice(0, -2)), sq![r - 2], sk![r - 2], sq![r - 1], sv![r - 1], n.attrs.scale);
  },
};

const concrete = (s: Shape, batch: number) => s.map((d) => (d === BATCH ? batch : d));

/** Every value of `g` for one input batch; params come from `weights(name)` (f32, transforms already applied). */
export function evaluateGraph(g: Graph, input: Float32Array, batch: number, weights: (name: string) => Float32Array): Map<number, Float32Array> {
  const values = new Map<number, Float32Array>();
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  for (const n of g.nodes) {
    let v: Float32Array;
    if (n.op === 'input') v = input;
    else if (n.op === 'param') v = weights(n.attrs.name);
    else if (n.op === 'const') v = Float32Array.from(n.attrs.data);
    else {
      const f = TABLE[n.op] as Eval<OpName> | 'source' | 'composite';
      if (typeof f !== 'function') throw new Error(`the reference cannot evaluate ${n.op}: lower composites first`);
      const args = n.args.map((a) => values.get(a)!);
      v = f(n as Node as NodeOf<OpName>, args, n.args.map((a) => concrete(byId.get(a)!.type.shape, batch)), concrete(n.type.shape, batch));
    }
    values.set(n.id, v);
  }
  return values;
}
