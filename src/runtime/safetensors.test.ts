// safetensors layout rules, as the format specifies them: a JSON header of at most 100 MB whose
// data_offsets are integers that tile the data section exactly.
import { describe, expect, it } from 'vitest';
import { checkTensors, parseSafetensors } from './safetensors.js';

/** A file with `header` (any JSON value, serialized as given) and `dataBytes` bytes of data. */
function file(header: unknown, dataBytes: number, rawHeader?: string): Uint8Array {
  const json = Buffer.from(rawHeader ?? JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

const t = (begin: unknown, end: unknown, shape: unknown = [2], dtype: unknown = 'F32') => ({ dtype, shape, data_offsets: [begin, end] });
const error = (bytes: Uint8Array) => { try { parseSafetensors(bytes); return 'accepted'; } catch (e) { return (e as Error).message; } };

describe('safetensors layout', () => {
  it('accepts tensors that tile the data exactly, in any header order, with metadata and empty tensors', () => {
    const ts = parseSafetensors(file({ __metadata__: { format: 'pt' }, b: t(8, 16), a: t(0, 8), e: t(16, 16, [0]) }, 16));
    expect(Object.keys(ts).sort()).toEqual(['a', 'b', 'e']);
    expect(ts.b!.bytes.length).toBe(8);
  });
  it.each([
    ['offsets given as strings', { a: t('0', '8') }, 8, 'tensor "a": "data_offsets" must be two non-negative integers [begin, end]'],
    ['offsets given as floats', { a: t(0, 8.5) }, 8, 'tensor "a": "data_offsets" must be two non-negative integers [begin, end]'],
    ['negative offsets', { a: t(-8, 0) }, 8, 'tensor "a": "data_offsets" must be two non-negative integers [begin, end]'],
    ['three offsets', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 4, 8] } }, 8, 'tensor "a": "data_offsets" must be two non-negative integers [begin, end]'],
    ['a float dim', { a: t(0, 8, [2.5]) }, 8, 'tensor "a": "shape" must be a list of non-negative integers'],
    ['overlapping tensors', { a: t(0, 8), b: t(4, 12) }, 12, 'tensor "b": data_offsets [4, 12] overlap the tensor before it, which ends at 8'],
    ['a hole', { a: t(0, 8), b: t(12, 20) }, 20, 'tensor "b": data_offsets [12, 20] leave a hole: bytes 8 to 12 of the data section belong to no tensor'],
    ['a hole at the start', { a: t(4, 12) }, 12, 'tensor "a": data_offsets [4, 12] leave a hole: bytes 0 to 4 of the data section belong to no tensor'],
    ['trailing bytes', { a: t(0, 8) }, 12, '4 bytes follow the last tensor; the data section must end where the last tensor ends'],
    ['offsets that end before they begin', { a: t(8, 0) }, 8, 'tensor "a": data_offsets [8, 0] end before they begin'],
    ['a size that does not fit the shape', { a: t(0, 4) }, 4, 'tensor "a": data_offsets [0, 4] do not fit shape [2] of F32'],
    ['an unknown dtype named like an Object member', { a: t(0, 8, [2], 'constructor') }, 8, 'tensor "a": unsupported dtype "constructor" (supported: F64, F32, F16, BF16)'],
    ['metadata that is not strings', { __metadata__: { n: 1 }, a: t(0, 8) }, 8, 'malformed safetensors header: "__metadata__" must map strings to strings'],
    ['an entry that is not an object', { a: 3 }, 0, 'tensor "a": malformed header entry (expected {"dtype", "shape", "data_offsets"})'],
  ])('refuses %s', (_, header, data, message) => {
    expect(error(file(header, data))).toBe(message);
  });
  it('refuses a header over the format\'s 100 MB limit before parsing it', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 200_000_000n, true);
    bytes[8] = 0x7b;
    expect(error(bytes)).toBe('truncated safetensors file: the header claims 200000000 bytes but only 8 follow');
    const big = new Uint8Array(8 + 100_000_002);
    new DataView(big.buffer).setBigUint64(0, 100_000_002n, true);
    big[8] = 0x7b;
    expect(error(big)).toBe("not a safetensors file: a header of 100000002 bytes is over the format's limit of 100000000");
  });
  it('treats names like __proto__ and constructor as plain names', () => {
    const ts = parseSafetensors(file(JSON.parse('{"__proto__": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "constructor": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}'), 12));
    expect(Object.keys(ts).sort()).toEqual(['__proto__', 'constructor']);
    expect(checkTensors(ts, [['__proto__', [2]], ['constructor', [1]]])).toEqual([]);
    expect(() => checkTensors(parseSafetensors(file({}, 0)), [['constructor', [1]], ['toString', [1]]])).toThrow('missing tensor "constructor" (expected shape [1]) (and 1 more problem)');
  });
  it('shows a long tensor name cut short', () => {
    expect(error(file({ ['n'.repeat(10000)]: t(0, 4) }, 4))).toBe(`tensor "${'n'.repeat(64)}...": data_offsets [0, 4] do not fit shape [2] of F32`);
  });
});
