import { describe, expect, it } from 'vitest';
import { applyWeightTransforms, standardizeFilters } from './transforms.js';

describe('weight transforms', () => {
  it('standardize: every filter gets zero mean and unit (biased) variance; eps enters under the root', () => {
    const w = new Float32Array([1, 2, 3, 4, 10, 10, 10, 14]);
    const s = standardizeFilters(w, [2, 2, 2, 1], 0);
    const stats = (o: number) => {
      const xs = Array.from(s.subarray(o, o + 4));
      const m = xs.reduce((a, b) => a + b, 0) / 4;
      return [m, xs.reduce((a, b) => a + (b - m) ** 2, 0) / 4];
    };
    for (const o of [0, 4]) {
      const [m, v] = stats(o);
      expect(Math.abs(m)).toBeLessThan(1e-7);
      expect(v).toBeCloseTo(1, 6);
    }
    // Filter 1 has variance 3: with eps 1, its values shrink by sqrt(3 / 4).
    const e = standardizeFilters(w, [2, 4], 1);
    expect(e[7]! / s[7]!).toBeCloseTo(Math.sqrt(3 / 4), 6);
  });
  it('applies a list in order and refuses an unknown transform', () => {
    const w = new Float32Array([1, 5, 2, 8]);
    expect(applyWeightTransforms(w, [2, 2], undefined)).toBe(w);
    expect(Array.from(applyWeightTransforms(w, [2, 2], [{ op: 'standardize', eps: 0 }]))).toEqual([-1, 1, -1, 1]);
    expect(() => applyWeightTransforms(w, [2, 2], [{ op: 'flip' } as never])).toThrow('unknown weight transform "flip"');
  });
});
