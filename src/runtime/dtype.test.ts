import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { halfBits, toHalf } from './dtype.js';
import { DT, onnx } from '../backends/onnx/proto.js';

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

describe('float32 <-> bfloat16', () => {
  it('rounds to nearest, ties to even, keeps inf and NaN, and reads back exactly', async () => {
    const { bf16Bits, bf16ToFloat, halfToFloat } = await import('./dtype.js');
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3f80], [-2, 0xc000], [Infinity, 0x7f80], [-Infinity, 0xff80],
      // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even 1; 1 + 3*2^-8 ties up to 1 + 2^-6.
      [1 + 2 ** -8, 0x3f80], [1 + 3 * 2 ** -8, 0x3f82], [1 + 2 ** -8 + 2 ** -20, 0x3f81],
      [3.4028234663852886e38, 0x7f80], // rounds past the largest bfloat16 to inf
    ];
    for (const [v, bits] of cases) expect(bf16Bits(v).toString(16), String(v)).toBe(bits.toString(16));
    expect(Number.isNaN(bf16ToFloat(bf16Bits(NaN)))).toBe(true);
    for (const v of [1.5, -0.375, 3.0e38, 1e-38]) expect(Math.abs(bf16ToFloat(bf16Bits(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -9);
    expect(bf16ToFloat(0x3f81)).toBe(1 + 2 ** -7);
    expect(halfToFloat(0x3c01)).toBe(1 + 2 ** -10);
  });
});
