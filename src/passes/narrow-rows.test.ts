import { describe, expect, it } from 'vitest';
import { buildGraph } from '../compile.js';
import { loadSpec } from '../spec/load.js';
import { runPipeline } from './pipeline.js';
import { analyzeRows, narrowRows } from './narrow-rows.js';
import { countMacs } from '../analysis/cost.js';
import { GraphBuilder } from '../ir/builder.js';
import { BATCH } from '../ir/types.js';
import { verifyGraph } from '../ir/verify.js';
import type { Graph } from '../ir/graph.js';

const pipeline = (spec: string, narrow: boolean) => runPipeline(buildGraph(loadSpec(spec)), { nativeComposites: new Set(['attention']), narrowRows: narrow }).graph;
const attentionQueries = (g: Graph) => g.nodes.filter((n) => n.op === 'attention').map((n) => n.type.shape[2]);

describe('narrow-rows', () => {
  it('computes the last block of a class-token ViT for the class token only, with exactly the multiply-adds that saves', () => {
    const whole = pipeline('spec/tiny/tiny-base.yaml', false);
    const narrow = pipeline('spec/tiny/tiny-base.yaml', true);
    expect(verifyGraph(narrow)).toEqual([]);
    expect(attentionQueries(whole)).toEqual([17, 17]);
    expect(attentionQueries(narrow)).toEqual([17, 1]);
    // tiny-base: D 48, T 17, MLP 192, 4 heads of 12. The last block's projection, fc1 and fc2 and its
    // attention's queries run for 1 row instead of 17; its qkv projection still runs for all (keys, values).
    const saved = 16 * (48 * 48 + 48 * 192 + 192 * 48) + 4 * 16 * 17 * (12 + 12);
    expect(countMacs(whole) - countMacs(narrow)).toBe(saved);
    const out = (g: Graph) => g.nodes.find((n) => n.id === g.outputs[0]!.id)!.type;
    expect(out(narrow)).toEqual(out(whole));
  });

  it('keeps both tokens a distilled model reads, and every token under average pooling', () => {
    expect(attentionQueries(pipeline('spec/tiny/tiny-distilled.yaml', true))).toEqual([18, 2]);
    const gap = pipeline('spec/tiny/tiny-gap.yaml', true);
    expect(gap).toEqual(pipeline('spec/tiny/tiny-gap.yaml', false));
  });

  it('does nothing for a target that has not opted in', () => {
    const g = buildGraph(loadSpec('spec/tiny/tiny-base.yaml'));
    expect(narrowRows.run(g, { nativeComposites: new Set() })).toBe(g);
  });

  it('merges the rows users read into one range per value, and reads a whole value whole', () => {
    const b = new GraphBuilder('t');
    const x = b.input('input', [BATCH, 6, 4]);
    const y = b.op('gelu', [b.op('add', [x, b.param('p', [4], { kind: 'constant', value: 1 })], {})], {});
    b.output('a', b.op('select', [y], { axis: 1, index: 1 }));
    b.output('b', b.op('slice', [y], { axis: 1, start: 3, end: 4 }));
    b.output('c', b.op('gelu', [x], {}));
    const g = b.build();
    const { rows } = analyzeRows(g);
    const byOp = (op: string) => rows.get(g.nodes.find((n) => n.op === op)!.id);
    expect(byOp('gelu')).toEqual({ axis: 1, lo: 1, hi: 4 });
    expect(byOp('add')).toEqual({ axis: 1, lo: 1, hi: 4 });
    expect(rows.get(g.nodes.find((n) => n.op === 'input')!.id)).toBe('all');
    const narrow = narrowRows.run(g, { nativeComposites: new Set(), narrowRows: true });
    expect(verifyGraph(narrow)).toEqual([]);
    // One slice of the input feeds the narrowed add; the selects index into the three rows kept.
    expect(narrow.nodes.filter((n) => n.op === 'slice').map((n) => n.attrs)).toEqual([{ axis: 1, start: 1, end: 4 }, { axis: 1, start: 2, end: 3 }]);
    expect(narrow.nodes.find((n) => n.op === 'select')!.attrs).toEqual({ axis: 1, index: 0 });
    expect(narrow.outputs.map((o) => narrow.nodes.find((n) => n.id === o.id)!.type.shape)).toEqual([[BATCH, 4], [BATCH, 1, 4], [BATCH, 6, 4]]);
  });
});
