// NumPy .npy files (format versions 1.0, 2.0, 3.0): the header of any array (for .npz weights),
// and float32 C-order arrays in and out.
import { DiagnosticError, error, fileSpan } from '../diag/diagnostic.js';
import { quote } from '../diag/quote.js';
import { checkSize, fmtCount, MAX_TENSOR_ELEMENTS } from '../limits.js';
import { parsePyLiteral, pyKind, PyLiteralError, type PyValue } from './py-literal.js';

export interface NpyArray {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const DTYPE_NAMES: ReadonlyMap<string, string> = new Map([['<f4', 'float32'], ['<f8', 'float64'], ['<f2', 'float16'], ['|u1', 'uint8'], ['<i4', 'int32'], ['<i8', 'int64'], ['>f4', 'big-endian float32'], ['|b1', 'bool']]);

/** Format versions numpy writes and reads: 1.0 (u16 header length, latin-1), 2.0 (u32), 3.0 (u32, UTF-8). */
const VERSIONS = new Set(['1.0', '2.0', '3.0']);
const KEYS = ['descr', 'fortran_order', 'shape'];

/** The one way a .npy problem is reported: `npy/invalid` at the file. */
const invalid = (file: string) => (msg: string): never => { throw new DiagnosticError([error('npy/invalid', msg, fileSpan(file))]); };

/** Whether `bytes` begin with the .npy magic string (\x93NUMPY). */
export function isNpy(bytes: Uint8Array): boolean {
  return [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59].every((m, i) => bytes[i] === m);
}

/** A parsed .npy header: the dtype as written ('<f4', or a list for a structured dtype), the layout and where the data starts. */
export interface NpyHeader {
  readonly descr: PyValue;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** The byte offset of the data. */
  readonly start: number;
}

/**
 * Parse a .npy header as the format defines it: a Python dict literal with exactly the keys descr,
 * fortran_order and shape. The dtype is not checked here. Problems are `file: message`.
 */
export function readNpyHeader(file: string, bytes: Uint8Array): NpyHeader {
  const bad = invalid(file);
  if (bytes.length < 10 || !isNpy(bytes)) bad('not a .npy file (bad magic bytes)');
  const version = `${bytes[6]}.${bytes[7]}`;
  if (!VERSIONS.has(version)) bad(`unsupported .npy format version ${version} (vitc reads 1.0, 2.0 and 3.0, as numpy writes them)`);
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) bad('truncated .npy header');
  const [hlen, hstart] = major === 1 ? [dv.getUint16(8, true), 10] : [dv.getUint32(8, true), 12];
  if (hstart + hlen > bytes.length) bad(`truncated .npy header: it claims ${hlen} bytes but only ${bytes.length - hstart} follow`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(hstart, hstart + hlen));
  if (!header.trimStart().startsWith('{')) bad('malformed .npy header: it is not a dict literal ({...})');
  let dict: PyValue;
  try {
    dict = parsePyLiteral(header, { longSuffix: major < 3 });
  } catch (e) {
    if (!(e instanceof PyLiteralError)) throw e;
    return bad(`malformed .npy header: ${e.message} (at header character ${e.at + 1})`);
  }
  if (dict.t !== 'dict') return bad(`malformed .npy header: it is ${pyKind(dict)}, not a dict`);
  const fields = new Map<string, PyValue>();
  for (const [k, v] of dict.entries) {
    if (k.t !== 'str') return bad(`malformed .npy header: a key is ${pyKind(k)}, not a string`);
    if (fields.has(k.v)) return bad(`malformed .npy header: the key ${quote(k.v)} appears twice`);
    fields.set(k.v, v);
  }
  const keys = [...fields.keys()];
  if (keys.length !== KEYS.length || !KEYS.every((k) => fields.has(k))) {
    bad(`malformed .npy header: it must have exactly the keys 'descr', 'fortran_order' and 'shape'; it has ${keys.length ? keys.map((k) => quote(k, 24)).join(', ') : 'none'}`);
  }
  const fortran = fields.get('fortran_order')!, shapeV = fields.get('shape')!;
  if (fortran.t !== 'bool') return bad(`'fortran_order' is ${pyKind(fortran)}; expected True or False`);
  if (shapeV.t !== 'tuple') return bad(`'shape' is ${pyKind(shapeV)}; expected a tuple of ints`);
  const shape: number[] = [];
  for (const d of shapeV.items) {
    if (d.t !== 'int') return bad(`'shape' holds ${pyKind(d)}; dims are ints`);
    if (d.v < 0n) bad(`'shape' holds the negative dim ${d.v}`);
    if (d.v > BigInt(MAX_TENSOR_ELEMENTS)) bad(`'shape' holds the dim ${d.v}, more than the ${fmtCount(MAX_TENSOR_ELEMENTS)} elements a tensor may have`);
    shape.push(Number(d.v));
  }
  return { descr: fields.get('descr')!, fortranOrder: fortran.v, shape, start: hstart + hlen };
}

/** The data of an array of `n` elements of `elem` bytes, which must fill the rest of the file exactly. */
export function npyData(file: string, bytes: Uint8Array, h: NpyHeader, elem: number): Uint8Array {
  const bad = invalid(file);
  const n = h.shape.reduce((a, b) => a * b, 1);
  checkSize(`the array (${h.shape.join(', ')})`, n, MAX_TENSOR_ELEMENTS, 'elements', elem, fileSpan(file));
  const have = bytes.length - h.start;
  if (have < n * elem) bad(`truncated data: shape (${h.shape.join(', ')}) needs ${n * elem} bytes, the file has ${have}`);
  if (have > n * elem) bad(`${have - n * elem} bytes follow the data of shape (${h.shape.join(', ')}); the file is damaged or not what its header says`);
  return bytes.subarray(h.start);
}

/**
 * Parse a .npy file; only little-endian float32 in C order is accepted (an input tensor). The data
 * must fill the rest of the file exactly. Problems are `file: message`.
 */
export function readNpy(file: string, bytes: Uint8Array): NpyArray {
  const bad = invalid(file);
  const h = readNpyHeader(file, bytes);
  const descr = h.descr;
  if (descr.t !== 'str') return bad(`'descr' is ${pyKind(descr)}${descr.t === 'list' ? ' (a structured dtype)' : ''}; expected float32 ('<f4')`);
  if (descr.v !== '<f4') bad(`dtype is ${DTYPE_NAMES.get(descr.v) ?? quote(descr.v, 24)} (${quote(descr.v, 24).replace(/^"|"$/g, "'")}); expected float32 ('<f4'); convert with x.astype(np.float32)`);
  if (h.fortranOrder) bad('array is in Fortran order; save a C-contiguous array (np.ascontiguousarray)');
  const raw = npyData(file, bytes, h, 4);
  const n = raw.length / 4;
  const data = new Float32Array(n);
  if (raw.byteOffset % 4 === 0) data.set(new Float32Array(raw.buffer, raw.byteOffset, n));
  else {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
  }
  return { dtype: descr.v, shape: h.shape, data };
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
