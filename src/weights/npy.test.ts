// .npy headers are Python dict literals (NEP 1). Each case is checked against numpy itself (Debian's
// python3-numpy, which the test command installs with torch): vitc accepts exactly what numpy
// accepts, except the divergences listed in DIVERGES, where vitc is stricter on purpose.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, writeNpy } from './npy.js';
import { DiagnosticError, formatDiagnostic } from '../diag/diagnostic.js';

/** A .npy file: magic, version, header length, `header` padded as numpy pads it, then `data`. */
function npy(header: string, data: Uint8Array, version: [number, number] = [1, 0], pad = true): Uint8Array {
  const pre = version[0] === 1 ? 10 : 12;
  let h = header;
  if (pad) h += ' '.repeat((64 - ((pre + h.length + 1) % 64)) % 64) + '\n';
  const hb = Buffer.from(h, version[0] === 3 ? 'utf8' : 'latin1');
  const out = new Uint8Array(pre + hb.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version[0], version[1]]);
  const dv = new DataView(out.buffer);
  if (version[0] === 1) dv.setUint16(8, hb.length, true);
  else dv.setUint32(8, hb.length, true);
  out.set(hb, pre);
  out.set(data, pre + hb.length);
  return out;
}

const f32 = (n: number) => new Uint8Array(new Float32Array(n).map((_, i) => i + 0.5).buffer);
const ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

const CASES: [string, Uint8Array][] = [
  ['as numpy writes it', npy(ok, f32(6))],
  ['double-quoted keys and values', npy('{"descr": "<f4", "fortran_order": False, "shape": (2, 3)}', f32(6))],
  ['no trailing comma, extra spaces', npy("{ 'shape' : ( 2 , 3 ) , 'fortran_order' : False , 'descr' : '<f4' }", f32(6))],
  ['version 2.0', npy(ok, f32(6), [2, 0])],
  ['version 3.0', npy(ok, f32(6), [3, 0])],
  ['a scalar: shape ()', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32(1))],
  ['shape (3,)', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f32(3))],
  ['a zero-size dim', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", f32(0))],
  ['version 0.0', npy(ok, f32(6), [0, 0])],
  ['version 1.5', npy(ok, f32(6), [1, 5])],
  ['version 4.0', npy(ok, f32(6), [4, 0])],
  ['a header without braces', npy("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", f32(6))],
  ['an extra key', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", f32(6))],
  ['a missing key', npy("{'descr': '<f4', 'shape': (2, 3)}", f32(6))],
  ['float dims', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3)}", f32(6))],
  ['negative dims', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, -3)}", f32(6))],
  ['a list for the shape', npy("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", f32(6))],
  ['fortran_order 0', npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}", f32(6))],
  ['an unclosed string', npy("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}", f32(6))],
  ['text after the dict', npy(`${ok} x`, f32(6))],
  ['a truncated header', npy(ok, f32(6)).subarray(0, 40)],
  ['truncated data', npy(ok, f32(5))],
  ['float64 data', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(48))],
  ['a structured dtype', npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", f32(6))],
  ['hex dims', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0x2, 3)}", f32(6))],
  ['bytes after the data', npy(ok, f32(7))],
];

/** Where vitc is stricter than numpy.load, and why. */
const DIVERGES: Record<string, string> = {
  'hex dims': 'numpy reads any Python int literal; vitc reads dims as numpy writes them, in decimal',
  'bytes after the data': 'numpy ignores what follows the data; vitc reports a file that is not what its header says',
};

function vitcAccepts(bytes: Uint8Array): string | true {
  try {
    readNpy('x.npy', bytes);
    return true;
  } catch (e) {
    if (e instanceof DiagnosticError) return formatDiagnostic(e.diagnostics[0]!);
    throw e;
  }
}

describe('.npy headers', () => {
  it('accept what numpy accepts and refuse what it refuses (but for the listed divergences), each refusal one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vitc-npy-'));
    try {
      CASES.forEach(([, bytes], i) => writeFileSync(join(dir, `${i}.npy`), bytes));
      const py = spawnSync('/usr/bin/python3', ['-c', `
import sys, numpy as np
for i in range(int(sys.argv[2])):
    try:
        a = np.load(f"{sys.argv[1]}/{i}.npy", allow_pickle=False)
        ok = a.dtype == np.float32 and a.flags.c_contiguous
        print("ok" if ok else "wrong-dtype")
    except Exception as e:
        print("refused")
`, dir, String(CASES.length)], { encoding: 'utf8' });
      expect(py.status, py.stderr).toBe(0);
      const numpy = py.stdout.trim().split('\n');
      const table = CASES.map(([name, bytes], i) => {
        const v = vitcAccepts(bytes);
        expect(v === true || /^x\.npy: error: [^\n]+$/.test(v), `${name}: ${String(v)}`).toBe(true);
        return { name, numpy: numpy[i] === 'ok', vitc: v === true };
      });
      for (const row of table) {
        if (DIVERGES[row.name]) expect(row, `${row.name}: ${DIVERGES[row.name]}`).toEqual({ name: row.name, numpy: true, vitc: false });
        else expect(row).toEqual({ name: row.name, numpy: row.numpy, vitc: row.numpy });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['version 1.5', 'x.npy: error: unsupported .npy format version 1.5 (vitc reads 1.0, 2.0 and 3.0, as numpy writes them)'],
    ['a header without braces', 'x.npy: error: malformed .npy header: it is not a dict literal ({...})'],
    ['an extra key', `x.npy: error: malformed .npy header: it must have exactly the keys 'descr', 'fortran_order' and 'shape'; it has "descr", "fortran_order", "shape", "x"`],
    ['float dims', 'x.npy: error: malformed .npy header: "2.0" is not an int (at header character 52)'],
    ['hex dims', 'x.npy: error: malformed .npy header: "0x2" is not written in decimal (at header character 52)'],
    ['negative dims', "x.npy: error: 'shape' holds the negative dim -2"],
    ['bytes after the data', 'x.npy: error: 4 bytes follow the data of shape (2, 3); the file is damaged or not what its header says'],
    ['a structured dtype', "x.npy: error: 'descr' is a list (a structured dtype); expected float32 ('<f4')"],
    ['float64 data', "x.npy: error: dtype is float64 ('<f8'); expected float32 ('<f4'); convert with x.astype(np.float32)"],
  ])('says what is wrong: %s', (name, line) => {
    expect(vitcAccepts(CASES.find(([n]) => n === name)![1])).toBe(line);
  });

  it('reads back what writeNpy writes, values and shape', () => {
    const data = new Float32Array([1, -2.5, 3e-8, 4, 5, 6]);
    const a = readNpy('x.npy', writeNpy([2, 3], data));
    expect(a.shape).toEqual([2, 3]);
    expect(a.data).toEqual(data);
  });

  it('refuses a dim that no tensor may have before allocating', () => {
    expect(vitcAccepts(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000)}", f32(1)))).toBe(
      'x.npy: error: the array (100000, 100000) has 10,000,000,000 elements (37 GiB in fp32), 4.7 times the limit of 2,147,483,648');
  });
});
