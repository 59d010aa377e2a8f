// Every tiny spec has a PyTorch golden fixture, and every target matches it, running through the same
// path as `vitc run` (prepare + openSession). The targets form one matrix: a new target or precision
// is one row, with the tolerance it meets (max|err| <= tolerance * max|ref|) and why.
import { describe, expect, it } from 'vitest';
import { compare, fixtureDirs, goldenNames, loadGolden } from './golden.js';
import { openSession, prepare, validateWeights } from '../src/runner.js';
import type { Precision } from '../src/backends/backend.js';

interface Row {
  readonly target: string;
  readonly precision: Precision;
  readonly tolerance: number;
  /** Why this tolerance: what was measured. */
  readonly why: string;
}

export const GOLDEN_MATRIX: readonly Row[] = [
  { target: 'js', precision: 'fp32', tolerance: 1e-5, why: 'f32 storage, f64 accumulation: measured at most 7e-7 on the plain ViTs, 1.4e-6 on the 16-unit hybrid tiny-r50' },
  { target: 'onnx', precision: 'fp32', tolerance: 1e-4, why: 'onnxruntime f32: measured at most 7e-7 on the plain ViTs, 1.9e-6 on tiny-r50' },
  { target: 'onnx', precision: 'fp16', tolerance: 5e-3, why: 'fp16 weights and activations, f32 statistics: measured at most 1.5e-3 on the plain ViTs (tiny-mlp-ratio), 3.0e-3 on tiny-r50' },
];

describe('golden fixtures', () => {
  it('exist for every tiny spec, and none without its spec', () => {
    expect(fixtureDirs()).toEqual(goldenNames());
  });
});

describe.each(GOLDEN_MATRIX)('$target $precision matches PyTorch within $tolerance', (row) => {
  it.each(goldenNames())('%s: a batch of 3, and batch 1 agrees with it', async (name) => {
    const g = loadGolden(name);
    const prepared = await prepare(g.spec, row.target, { precision: row.precision, seed: 0, weights: { bytes: g.weights, file: 'weights.safetensors' } });
    try {
      expect(validateWeights(prepared.manifest, 'weights.safetensors', g.weights)).toEqual([]);
      const session = await openSession(prepared, g.weights);
      try {
        const batch = g.input.shape[0]!;
        const out = await session.forward(g.input.data, batch);
        expect(compare(out, g.logits.data).rel).toBeLessThanOrEqual(row.tolerance);
        const per = g.input.data.length / batch;
        const one = await session.forward(g.input.data.slice(per, 2 * per), 1);
        const classes = out.length / batch;
        expect(compare(one, out.slice(classes, 2 * classes)).rel).toBeLessThan(1e-6);
      } finally {
        await session.close();
      }
    } finally {
      prepared.cleanup();
    }
  });
});
