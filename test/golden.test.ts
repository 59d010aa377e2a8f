// Every tiny spec has a PyTorch golden fixture, and the JS target matches it within
// max|err| <= 1e-4 * max|ref|, running through the same path as `vitc run`.
import { describe, expect, it } from 'vitest';
import { compare, fixtureDirs, goldenNames, loadGolden } from './golden.js';
import { openSession, prepare, validateWeights } from '../src/runner.js';

const TOLERANCE = 1e-4;

describe('golden fixtures', () => {
  it('exist for every tiny spec, and none without its spec', () => {
    expect(fixtureDirs()).toEqual(goldenNames());
  });
});

describe.each(goldenNames())('js target matches PyTorch: %s', (name) => {
  it(`within ${TOLERANCE} x max|ref| for a batch of 3, and batch 1 agrees`, async () => {
    const g = loadGolden(name);
    const prepared = await prepare(g.spec, 'js', { precision: 'fp32', seed: 0 });
    try {
      expect(validateWeights(prepared.manifest, 'weights.safetensors', g.weights)).toEqual([]);
      const session = await openSession(prepared, g.weights);
      const batch = g.input.shape[0]!;
      const out = await session.forward(g.input.data, batch);
      const { rel } = compare(out, g.logits.data);
      expect(rel).toBeLessThanOrEqual(TOLERANCE);
      const per = g.input.data.length / batch;
      const one = await session.forward(g.input.data.slice(per, 2 * per), 1);
      const classes = out.length / batch;
      expect(compare(one, out.slice(classes, 2 * classes)).rel).toBeLessThan(1e-6);
      await session.close();
    } finally {
      prepared.cleanup();
    }
  });
});
