import { describe, expect, it } from 'vitest';
import { concat0, fromFloat32, gather, permute, toFloat32, viewExtent } from './tensor.js';

const f32 = (...v: number[]) => fromFloat32([v.length], new Float32Array(v));

describe('tensor layout', () => {
  it('gathers a strided view (a transposed 2x3) into contiguous order', () => {
    const storage = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
    // storage holds a 2x3 row-major matrix; its transpose is the view shape [3, 2], stride [1, 3]
    expect([...new Float32Array(gather(storage, 4, 0, [3, 2], [1, 3]).slice().buffer)]).toEqual([0, 3, 1, 4, 2, 5]);
    expect([...new Float32Array(gather(storage, 4, 1, [2], [2]).slice().buffer)]).toEqual([1, 3]);
    expect(viewExtent(1, [2], [2])).toBe(4);
    expect(viewExtent(0, [0, 5], [5, 1])).toBe(0);
  });
  it('permutes and concatenates whole elements', () => {
    const t = fromFloat32([2, 3], new Float32Array([0, 1, 2, 3, 4, 5]));
    const p = permute(t, [1, 0]);
    expect(p.shape).toEqual([3, 2]);
    expect([...toFloat32(p)]).toEqual([0, 3, 1, 4, 2, 5]);
    const c = concat0([f32(1, 2), f32(3), f32(4, 5)]);
    expect(c.shape).toEqual([5]);
    expect([...toFloat32(c)]).toEqual([1, 2, 3, 4, 5]);
    expect(() => concat0([t, f32(1)])).toThrow(/cannot concatenate/);
  });
});
