import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { halfBits, toHalf } from './fp16.js';
import { DT, onnx } from './proto.js';

/** float32 values from their bit patterns. */
const fromBits = (bits: number[]) => new Float32Array(new Uint32Array(bits).buffer);

describe('float32 -> float16', () => {
  it('rounds to nearest, ties to even, through subnormals, overflow, inf and NaN', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [65519.99, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-Infinity, 0xfc00], [Infinity, 0x7c00],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -11 + 2 ** -20, 0x3c01], // ties go to even
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [2 ** -25 + 2 ** -35, 0x0001], [3 * 2 ** -25, 0x0002],
      [2 ** -14 - 2 ** -25, 0x0400], // the largest subnormal rounds up into the smallest normal
      [1e-10, 0x0000], [-1e-10, 0x8000],
    ];
    for (const [v, bits] of cases) expect(halfBits(v).toString(16), String(v)).toBe(bits.toString(16));
    expect(halfBits(NaN) & 0x7c00).toBe(0x7c00);
    expect(halfBits(NaN) & 0x3ff).not.toBe(0);
  });

  it("agrees with onnxruntime's Cast on every exponent, mantissas near rounding boundaries", async () => {
    const bits: number[] = [];
    for (let exp = 0; exp < 255; exp++) {
      for (const m of [0, 1, 0xfff, 0x1000, 0x1001, 0x2000, 0x3000, 0x5fff, 0x7fffff, 0x400000, 0x123456, 0x7fe000, 0x7ff000]) {
        bits.push((exp << 23) | m, ((1 << 31) | (exp << 23) | m) >>> 0);
      }
    }
    const x = fromBits(bits);
    const vi = (name: string, elem: number) => ({ name, type: { tensorType: { elemType: elem, shape: { dim: [{ dimValue: x.length }] } } } });
    const model = onnx.ModelProto.encode(onnx.ModelProto.create({
      irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'cast', node: [{ opType: 'Cast', input: ['x'], output: ['y'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DT.FLOAT16 }] }], input: [vi('x', DT.FLOAT)], output: [vi('y', DT.FLOAT16)] },
    })).finish();
    const session = await ort.InferenceSession.create(model);
    const y = (await session.run({ x: new ort.Tensor('float32', x, [x.length]) })).y!.data as Uint16Array;
    await session.release();
    const ours = toHalf(x);
    const diffs = [...ours.keys()].filter((i) => ours[i] !== y[i]).map((i) => `${x[i]}: ${ours[i]!.toString(16)} vs ${y[i]!.toString(16)}`);
    expect(diffs).toEqual([]);
  });
});
