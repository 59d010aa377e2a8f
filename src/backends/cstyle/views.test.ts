import { describe, expect, it } from 'vitest';
import { contiguous, permute, type Affine } from '../../ir/strided.js';
import { affine, coordinates, mergeDims, offsetOf } from './views.js';

/** Evaluate a rendered integer expression as C does (truncating division) at batch B. */
function evalC(expr: string, vars: Record<string, number>): number {
  const big = expr.replace(/\b(\d+)\b/g, '$1n');
  const names = Object.keys(vars);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return Number(new Function(...names, `return ${big};`)(...names.map((n) => BigInt(vars[n]!))));
}

const A = (c: number, b = 0): Affine => ({ b, c });

describe('view-index expressions', () => {
  it('print affine sizes with the batch as a variable', () => {
    expect([A(5), A(0, 1), A(0, 197), A(3, 2), A(-4, 1)].map((a) => affine(a, 'B'))).toEqual(['5', 'B', '(197 * B)', '(2 * B + 3)', '(B - 4)']);
  });

  it('merge dims only where every view allows it, and drop size-1 dims', () => {
    const x = contiguous([A(0, 1), A(17), A(48)]);
    const bias = { offset: A(0), shape: x.shape, strides: [A(0), A(0), A(1)] };
    expect(mergeDims(x.shape, [x.strides]).shape).toEqual([A(0, 816)]);
    const both = mergeDims(x.shape, [x.strides, bias.strides]);
    expect(both.shape).toEqual([A(0, 17), A(48)]);
    expect(mergeDims([A(4), A(1), A(6)], [[A(6), A(99), A(1)]]).shape).toEqual([A(24)]);
  });

  it('address every element of a permuted, batch-dependent view as the strides say', () => {
    // [B, 4, 18, 12] read from a [B, 18, 3, 4, 12] qkv buffer: heads and tokens swapped.
    const v = { offset: A(48), shape: [A(0, 1), A(4), A(18), A(12)], strides: [A(2592), A(12), A(144), A(1)] };
    const m = mergeDims(v.shape, [v.strides]);
    const off = offsetOf(coordinates('i', m.shape, 'B'), m.strides[0]!, 'B');
    for (const B of [1, 3]) {
      let i = 0;
      for (let b = 0; b < B; b++) for (let h = 0; h < 4; h++) for (let t = 0; t < 18; t++) for (let d = 0; d < 12; d += 5) {
        i = ((b * 4 + h) * 18 + t) * 12 + d;
        expect(evalC(off, { i, B })).toBe(b * 2592 + h * 12 + t * 144 + d);
      }
    }
    const t = permute(contiguous([A(2), A(0, 1), A(5)]), [1, 0, 2]);
    const mt = mergeDims(t.shape, [t.strides]);
    const ot = offsetOf(coordinates('i', mt.shape, 'B'), mt.strides[0]!, 'B');
    // element (b=1, j=1, k=3) of [B, 2, 5] with strides [5, 5B, 1]
    expect(evalC(ot, { i: (1 * 2 + 1) * 5 + 3, B: 4 })).toBe(1 * 5 + 1 * 5 * 4 + 3);
  });
});
