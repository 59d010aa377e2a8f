import { describe, expect, it } from 'vitest';
import { aff, atB, broadcastTo, contiguous, fmtA, fmtStrided, inversePerm, isContiguous, mulA, ofDim, permute, reshapeTo, selectAxis, shapeOf, sliceAxis, type Strided } from './strided.js';

/** Every element's flat offset at a batch size, in row-major index order. */
function offsets(s: Strided, batch: number): number[] {
  const shape = s.shape.map((d) => atB(d, batch));
  const st = s.strides.map((d) => atB(d, batch));
  const out: number[] = [];
  const rec = (d: number, o: number) => {
    if (d === shape.length) { out.push(o); return; }
    for (let i = 0; i < shape[d]!; i++) rec(d + 1, o + i * st[d]!);
  };
  rec(0, atB(s.offset, batch));
  return out;
}

describe('affine sizes', () => {
  it('multiply with at most one factor of B, and print', () => {
    expect(mulA(ofDim('B'), aff(197))).toEqual({ b: 197, c: 0 });
    expect(() => mulA(ofDim('B'), ofDim('B'))).toThrow(/two batch-dependent/);
    expect(fmtA({ b: 197, c: 768 })).toBe('197·B+768');
    expect(fmtA({ b: 1, c: 0 })).toBe('B');
  });
});

describe('strided layouts', () => {
  const qkv = contiguous(shapeOf(['B', 5, 12]));
  it('split heads: reshape of a contiguous layout, then transpose and select are views', () => {
    const r = reshapeTo(qkv, shapeOf(['B', 5, 3, 2, 2]))!;
    const t = permute(r, [2, 0, 3, 1, 4]);
    const k = selectAxis(t, 0, 1);
    expect(fmtStrided(k)).toBe('[B,2,5,2]@4 /[60,2,12,1]');
    // Element (b, h, t, i) of k is qkv[b, t, 4 + 2h + i].
    expect(offsets(k, 2).slice(0, 4)).toEqual([4, 5, 16, 17]);
  });
  it('merge heads: reshape of a transposed layout is refused, and its inverse is a view of the merged buffer', () => {
    const heads = permute(contiguous(shapeOf(['B', 2, 5, 2])), [0, 2, 1, 3]);
    expect(reshapeTo(heads, shapeOf(['B', 5, 4]))).toBeUndefined();
    const merged = contiguous(shapeOf(['B', 5, 4]));
    const asHeads = permute(reshapeTo(merged, shapeOf(['B', 5, 2, 2]))!, inversePerm([0, 2, 1, 3]));
    expect(fmtStrided(asHeads)).toBe('[B,2,5,2]@0 /[20,2,4,1]');
  });
  it('reshapes a strided layout when the merged dims are contiguous runs, keeping B its own dim', () => {
    const rows = sliceAxis(contiguous(shapeOf(['B', 7, 6])), 1, 1, 7); // [B,6,6], row stride 6, batch stride 42
    const flat = reshapeTo(rows, shapeOf(['B', 36]))!;
    expect(fmtStrided(flat)).toBe('[B,36]@6 /[42,1]');
    expect(offsets(flat, 2)).toEqual(offsets(rows, 2));
    const split = reshapeTo(rows, shapeOf(['B', 3, 2, 6]))!;
    expect(offsets(split, 3)).toEqual(offsets(rows, 3));
    expect(reshapeTo(permute(rows, [0, 2, 1]), shapeOf(['B', 36]))).toBeUndefined();
  });
  it('broadcasts with stride 0 and knows contiguity', () => {
    const tok = broadcastTo(contiguous(shapeOf([1, 1, 4])), shapeOf(['B', 1, 4]));
    expect(fmtStrided(tok)).toBe('[B,1,4]@0 /[0,4,1]'); // a size-1 dim keeps its (unused) stride
    expect(isContiguous(contiguous(shapeOf([3, 'B', 4])))).toBe(true);
    expect(fmtStrided(contiguous(shapeOf([3, 'B', 4])))).toBe('[3,B,4]@0 /[4·B,4,1]');
  });
});
