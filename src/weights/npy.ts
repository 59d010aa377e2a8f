// NumPy .npy files (format versions 1-3): float32 C-order arrays in and out.
import { DiagnosticError, error, fileSpan } from '../diag/diagnostic.js';

export interface NpyArray {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const DTYPE_NAMES: Record<string, string> = { '<f4': 'float32', '<f8': 'float64', '<f2': 'float16', '|u1': 'uint8', '<i4': 'int32', '<i8': 'int64', '>f4': 'big-endian float32', '|b1': 'bool' };

/** Parse a .npy file; only little-endian float32 in C order is accepted. Problems are `file: message`. */
export function readNpy(file: string, bytes: Uint8Array): NpyArray {
  const bad = (msg: string): never => { throw new DiagnosticError([error('npy/invalid', msg, fileSpan(file))]); };
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) bad('not a .npy file (bad magic bytes)');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [hlen, hstart] = major === 1 ? [dv.getUint16(8, true), 10] : [dv.getUint32(8, true), 12];
  if (hstart + hlen > bytes.length) bad('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) return bad('unreadable .npy header');
  if (descr !== '<f4') bad(`dtype is ${DTYPE_NAMES[descr] ?? descr} ('${descr}'); expected float32 ('<f4'); convert with x.astype(np.float32)`);
  if (fortran === 'True') bad('array is in Fortran order; save a C-contiguous array (np.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  if (bytes.length - start < n * 4) bad(`truncated data: shape (${shape.join(', ')}) needs ${n * 4} bytes, the file has ${bytes.length - start}`);
  const data = new Float32Array(n);
  if ((bytes.byteOffset + start) % 4 === 0) data.set(new Float32Array(bytes.buffer, bytes.byteOffset + start, n));
  else for (let i = 0; i < n; i++) data[i] = dv.getFloat32(start + 4 * i, true);
  return { dtype: descr, shape, data };
}

/** Serialize a float32 array as .npy version 1.0 (as numpy.save writes it). */
export function writeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.length * 4), 10 + header.length);
  return out;
}

export { DTYPE_NAMES };
