// Every tiny spec has a PyTorch golden fixture, and every target matches it, running through the same
// path as `vitc run` (prepare + openSession). The targets form one matrix: a new target or precision
// is one row of GOLDEN_MATRIX (golden.ts), with the tolerance it meets (max|err| <= tolerance * max|ref|) and why.
import { describe, expect, it } from 'vitest';
import { compare, fixtureDirs, GOLDEN_MATRIX, goldenNames, loadGolden } from './golden.js';
import { openSession, prepare, validateWeights } from '../src/runner.js';

function argmax(x: Float32Array, at: number, n: number): number {
  let best = at;
  for (let i = at; i < at + n; i++) if (x[i]! > x[best]!) best = i;
  return best - at;
}

describe('golden fixtures', () => {
  it('exist for every tiny spec, and none without its spec', () => {
    expect(fixtureDirs()).toEqual(goldenNames());
  });
});

describe.each(GOLDEN_MATRIX.map((r) => ({ ...r, variant: r.targetArgs ? ` ${JSON.stringify(r.targetArgs)}` : '' })).map((r) => ({ ...r, label: `${r.target} ${r.precision}${r.variant}` })))('$label matches PyTorch within $tolerance', (row) => {
  it.each(goldenNames().filter((n) => !row.only || row.only.includes(n)))('%s: a batch of 3, and batch 1 agrees with it', async (name) => {
    const g = loadGolden(name);
    const prepared = await prepare(g.spec, row.target, { precision: row.precision, seed: 0, weights: { bytes: g.weights, file: 'weights.safetensors' }, targetArgs: row.targetArgs });
    try {
      expect(validateWeights(prepared.manifest, 'weights.safetensors', g.weights)).toEqual([]);
      // The cuda runner starts at the first forward and takes the environment then; restored after the session.
      const saved = Object.keys(row.emulation ?? {}).map((k) => [k, process.env[k]] as const);
      Object.assign(process.env, row.emulation);
      const session = await openSession(prepared, g.weights);
      try {
        const batch = g.input.shape[0]!;
        const out = await session.forward(g.input.data, batch);
        const err = compare(out, g.logits.data).rel;
        if (process.env.VITC_GOLDEN_LOG) console.log(`golden ${row.target} ${row.precision}${row.variant} ${name}: ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(row.tolerance);
        const classes0 = out.length / batch;
        if (row.top1) for (let b = 0; b < batch; b++) expect(argmax(out, b * classes0, classes0), `top-1 of image ${b}`).toBe(argmax(g.logits.data, b * classes0, classes0));
        const per = g.input.data.length / batch;
        const one = await session.forward(g.input.data.slice(per, 2 * per), 1);
        const classes = out.length / batch;
        expect(compare(one, out.slice(classes, 2 * classes)).rel).toBeLessThan(1e-6);
      } finally {
        await session.close();
        for (const [k, v] of saved) if (v === undefined) delete process.env[k]; else process.env[k] = v;
      }
    } finally {
      prepared.cleanup();
    }
  });
});
