import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from './npy.js';
import { parseSafetensors, tensorToFloat32, writeSafetensors } from './safetensors.js';
import { randomTensor } from './random.js';

describe('npy', () => {
  it('round-trips float32 arrays with numpy-compatible headers', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i / 7);
    const bytes = writeNpy([2, 3, 4], data);
    expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
    const back = readNpy('x.npy', bytes);
    expect(back.shape).toEqual([2, 3, 4]);
    expect([...back.data]).toEqual([...data]);
  });
});

describe('safetensors', () => {
  it('round-trips, sorts names and pads the header to 8 bytes', () => {
    const bytes = writeSafetensors([{ name: 'b', shape: [2], data: new Float32Array([1, 2]) }, { name: 'a', shape: [1, 1], data: new Float32Array([3]) }]);
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const t = parseSafetensors(bytes);
    expect(Object.keys(t)).toEqual(['a', 'b']);
    expect([...tensorToFloat32(t.b!)]).toEqual([1, 2]);
  });
  it('reads F16 and BF16 tensors as float32', () => {
    const header = JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, g: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } });
    const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
    const bytes = new Uint8Array(8 + padded.length + 6);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(padded.length), true);
    bytes.set(Buffer.from(padded), 8);
    const dv = new DataView(bytes.buffer, 8 + padded.length);
    dv.setUint16(0, 0x3c00, true); // 1.0
    dv.setUint16(2, 0xc000, true); // -2.0
    dv.setUint16(4, 0x4040, true); // bf16 3.0
    const t = parseSafetensors(bytes);
    expect([...tensorToFloat32(t.h!)]).toEqual([1, -2]);
    expect([...tensorToFloat32(t.g!)]).toEqual([3]);
  });
});

describe('random weights', () => {
  it('depend on the seed and the name only, with the requested spread', () => {
    const a = randomTensor('x', [10000], { kind: 'normal', std: 0.5 }, 1);
    expect(randomTensor('x', [10000], { kind: 'normal', std: 0.5 }, 1)).toEqual(a);
    expect(randomTensor('y', [10000], { kind: 'normal', std: 0.5 }, 1)).not.toEqual(a);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(std).toBeGreaterThan(0.48);
    expect(std).toBeLessThan(0.52);
  });
});
