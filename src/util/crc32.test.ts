import { describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { crc32, crc32Table } from './crc32.js';

describe('crc32', () => {
  it('the table-driven fallback agrees with zlib, in one piece and continued across chunks', () => {
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 131 + (i >> 7)) & 0xff);
    const whole = zlib.crc32(bytes);
    expect(crc32Table(bytes)).toBe(whole);
    expect(crc32(bytes)).toBe(whole);
    expect(crc32Table(bytes.subarray(5000), crc32Table(bytes.subarray(0, 5000)))).toBe(whole);
    expect(crc32(bytes.subarray(5000), crc32(bytes.subarray(0, 5000)))).toBe(whole);
    expect(crc32Table(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});
