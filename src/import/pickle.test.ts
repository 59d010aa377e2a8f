import { describe, expect, it } from 'vitest';
import { PickleError, PickleRefused, PyDict, PyTuple, unpickle, type PyGlobal, type PyValue } from './pickle.js';

/** Pickle bytes from opcodes (numbers) and text (latin1). */
function pk(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (const ch of p) out.push(ch.charCodeAt(0));
  }
  return Uint8Array.from(out);
}
const u32 = (n: number) => String.fromCharCode(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
const str = (s: string) => ['X', u32(s.length), s].join('');

const none = { resolveGlobal: () => undefined };

describe('unpickle', () => {
  it('reads the values torch.save writes: dicts, tuples, lists, ints, floats, strings, memo', () => {
    // {'a': (1, -2, 300, 70000, 2**40), 'b': [1.5, None, True], 'c': <memo 1>}
    const v = unpickle(pk(0x80, 2, '}', 'q', 0, '(', str('a'), 'q', 1,
      '(', 'K', 1, 'J', u32(-2), 'M', 0x2c, 0x01, 'J', u32(70000), 0x8a, 6, 0, 0, 0, 0, 0, 1, ')', 't',
      0x85, // wrapped once more as a 1-tuple, to check TUPLE1
      str('b'), ']', '(', 'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 'N', 0x88, 'e',
      str('c'), 'h', 1, 'u', '.'), none);
    expect(v).toBeInstanceOf(PyDict);
    const d = v as PyDict;
    expect(d.get('a')).toEqual(new PyTuple([new PyTuple([1, -2, 300, 70000, 2 ** 40, new PyTuple([])])]));
    expect(d.get('b')).toEqual([1.5, null, true]);
    expect(d.get('c')).toBe('a');
  });
  it('decodes negative LONG1 and large BINUNICODE8 lengths', () => {
    expect(unpickle(pk(0x80, 2, 0x8a, 2, 0x00, 0xff, '.'), none)).toBe(-256);
    expect(unpickle(pk(0x80, 4, 0x8d, 3, 0, 0, 0, 0, 0, 0, 0, 'abc', '.'), none)).toBe('abc');
  });
  it('calls allowed globals through REDUCE and hands BUILD state to objects', () => {
    const seen: PyValue[][] = [];
    const g: PyGlobal = { kind: 'global', module: 'ok', name: 'f', call: (args) => { seen.push([...args]); return 'made'; } };
    const v = unpickle(pk(0x80, 2, 'c', 'ok\nf\n', 'K', 7, 0x85, 'R', '.'), { resolveGlobal: (m, n) => (m === 'ok' && n === 'f' ? g : undefined) });
    expect(v).toBe('made');
    expect(seen).toEqual([[7]]);
  });
  it('refuses a global the moment it is named, before any call in the pickle runs', () => {
    let calls = 0;
    const g: PyGlobal = { kind: 'global', module: 'ok', name: 'f', call: () => { calls++; return null; } };
    const resolveGlobal = (m: string, n: string) => (m === 'ok' && n === 'f' ? g : undefined);
    // ok.f(os.system('x')): the inner call is reached first, and its global is refused when read.
    const bytes = pk(0x80, 2, 'c', 'ok\nf\n', 'c', 'os\nsystem\n', str('x'), 0x85, 'R', 0x85, 'R', '.');
    let err: unknown;
    try { unpickle(bytes, { resolveGlobal }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(PickleRefused);
    expect((err as PickleRefused).global).toBe('os.system');
    expect(calls).toBe(0);
  });
  it.each([
    ['STACK_GLOBAL', pk(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, '.'), 'builtins.eval', 18],
    ['INST', pk(0x80, 2, '(', 'i', 'subprocess\ncall\n', '.'), 'subprocess.call', 3],
  ])('refuses globals named by %s', (_op, bytes, name, at) => {
    let err: PickleRefused | undefined;
    try { unpickle(bytes, none); } catch (e) { err = e as PickleRefused; }
    expect(err).toBeInstanceOf(PickleRefused);
    expect([err!.global, err!.at]).toEqual([name, at]);
  });
  it('refuses the copyreg extension registry', () => {
    expect(() => unpickle(pk(0x80, 2, 0x82, 1, '.'), none)).toThrow(PickleRefused);
  });
  it('reports truncation, stray opcodes and persistent ids without a loader', () => {
    expect(() => unpickle(pk(0x80, 2, 'X', u32(10), 'abc'), none)).toThrow(/truncated/);
    expect(() => unpickle(pk(0x80, 2, 0x97), none)).toThrow(new PickleError('unsupported pickle opcode 0x97 at byte 2'));
    expect(() => unpickle(pk(0x80, 2, str('k'), 'Q', '.'), none)).toThrow(/persistent id/);
    expect(() => unpickle(pk(0x80, 2, 'K', 1, 'K', 2, '.'), none)).toThrow(/values left on the stack/);
  });
});
