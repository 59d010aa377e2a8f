import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../ir/builder.js';
import { BATCH } from '../ir/types.js';
import { verifyGraph } from '../ir/verify.js';
import type { Graph } from '../ir/graph.js';
import { foldWeightTransforms } from './fold-weights.js';

const opts = { nativeComposites: new Set<string>() };
const transformsOf = (g: Graph, name: string) => g.nodes.find((n) => n.op === 'param' && n.attrs.name === name)?.attrs as { transforms?: unknown };
const conv = { stride: [1, 1], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 1 } as const;

describe('fold-weight-transforms', () => {
  it('moves standardize of a parameter into the parameter, chains in order, and leaves everything else', () => {
    const b = new GraphBuilder('t');
    const x = b.input('input', [BATCH, 2, 4, 4]);
    const w = b.param('w', [3, 2, 1, 1], { kind: 'constant', value: 1 });
    const twice = b.param('twice', [3, 3, 1, 1], { kind: 'constant', value: 1 });
    const shared = b.param('shared', [3, 3, 1, 1], { kind: 'constant', value: 1 });
    let y = b.op('conv2d', [x, b.op('standardize', [w], { eps: 1e-8 })], conv);
    y = b.op('conv2d', [y, b.op('standardize', [b.op('standardize', [twice], { eps: 1e-6 })], { eps: 1e-5 })], conv);
    // `shared` is also read as it is, so its values cannot change at load: not folded.
    y = b.op('add', [b.op('conv2d', [y, b.op('standardize', [shared], { eps: 1e-8 })], conv), b.op('conv2d', [y, shared], conv)], {});
    b.output('y', y);
    const g = foldWeightTransforms.run(b.build(), opts);
    expect(verifyGraph(g)).toEqual([]);
    expect(transformsOf(g, 'w').transforms).toEqual([{ op: 'standardize', eps: 1e-8 }]);
    expect(transformsOf(g, 'twice').transforms).toEqual([{ op: 'standardize', eps: 1e-6 }, { op: 'standardize', eps: 1e-5 }]);
    expect(transformsOf(g, 'shared').transforms).toBeUndefined();
    expect(g.nodes.filter((n) => n.op === 'standardize')).toHaveLength(1);
  });
});
