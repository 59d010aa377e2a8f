import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Value } from '../ir/builder.js';
import { BATCH } from '../ir/types.js';
import { verifyGraph } from '../ir/verify.js';
import { fuseAttention } from './fuse-attention.js';
import { canonicalize } from './canonicalize.js';
import { cse } from './cse.js';
import { lowerComposites } from './lower.js';
import type { Graph } from '../ir/graph.js';

const opts = { nativeComposites: new Set<string>() };
const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;

function qkv(b: GraphBuilder): [Value, Value, Value] {
  const x = b.input('input', [BATCH, 2, 5, 8]);
  const w = (n: string) => b.op('transpose', [b.op('mul', [x, b.param(n, [8], { kind: 'constant', value: 1 })], {})], { perm: [0, 1, 2, 3] });
  return [w('q'), w('k'), w('v')];
}

describe('fuse-attention', () => {
  const variants: [string, (b: GraphBuilder, q: Value, k: Value, v: Value) => Value][] = [
    ['scale on the scores', (b, q, k, v) => b.op('matmul', [b.op('softmax', [b.op('mul', [b.op('matmul', [q, b.op('transpose', [k], { perm: [0, 1, 3, 2] })], {}), b.scalar(0.5)], {})], { axis: 3 }), v], {})],
    ['scale on q', (b, q, k, v) => b.op('matmul', [b.op('softmax', [b.op('matmul', [b.op('mul', [q, b.scalar(0.5)], {}), b.op('transpose', [k], { perm: [0, 1, 3, 2] })], {})], { axis: 3 }), v], {})],
    ['no scale', (b, q, k, v) => b.op('matmul', [b.op('softmax', [b.op('matmul', [q, b.op('transpose', [k], { perm: [0, 1, 3, 2] })], {})], { axis: 3 }), v], {})],
  ];
  it.each(variants)('fuses attention written with %s, and lowering restores an equivalent graph', (_, attn) => {
    const b = new GraphBuilder('t');
    const [q, k, v] = qkv(b);
    b.output('y', attn(b, q, k, v));
    const fused = fuseAttention.run(b.build(), opts);
    expect(verifyGraph(fused)).toEqual([]);
    expect(count(fused, 'attention')).toBe(1);
    expect(count(fused, 'softmax')).toBe(0);
    const lowered = lowerComposites.run(fused, opts);
    expect(verifyGraph(lowered)).toEqual([]);
    expect(count(lowered, 'attention')).toBe(0);
    expect(count(lowered, 'softmax')).toBe(1);
  });
  it('does not fuse when the attention probabilities are also used elsewhere', () => {
    const b = new GraphBuilder('t');
    const [q, k, v] = qkv(b);
    const p = b.op('softmax', [b.op('matmul', [q, b.op('transpose', [k], { perm: [0, 1, 3, 2] })], {})], { axis: 3 });
    b.output('y', b.op('add', [b.op('matmul', [p, v], {}), b.op('mean', [p], { axes: [3], keepdim: true })], {}));
    expect(count(fuseAttention.run(b.build(), opts), 'attention')).toBe(0);
  });
});

describe('canonicalize and cse', () => {
  it('folds transpose chains and identity layout ops', () => {
    const b = new GraphBuilder('t');
    const x = b.input('input', [BATCH, 2, 3]);
    const t = b.op('transpose', [b.op('transpose', [x], { perm: [0, 2, 1] })], { perm: [0, 2, 1] });
    b.output('y', b.op('relu', [b.reshape(t, [BATCH, 2, 3])], {}));
    const g = canonicalize.run(b.build(), opts);
    expect(verifyGraph(g)).toEqual([]);
    expect(g.nodes.map((n) => n.op)).toEqual(['input', 'relu']);
  });
  it('merges identical computations', () => {
    const b = new GraphBuilder('t');
    const x = b.input('input', [BATCH, 4]);
    b.output('y', b.op('add', [b.op('mul', [x, b.scalar(2)], {}), b.op('mul', [x, b.scalar(2)], {})], {}));
    const g = cse.run(b.build(), opts);
    expect(count(g, 'mul')).toBe(1);
    expect(count(g, 'const')).toBe(1);
  });
});
