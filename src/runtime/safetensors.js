// safetensors reading, shared by vitc and by every generated JS module (inlined there verbatim).
import { halfToFloat, bf16ToFloat } from './dtype.js';
import { applyWeightTransforms } from './transforms.js';

// Format: u64 little-endian header size N, N bytes of JSON {name: {dtype, shape, data_offsets}}, data.

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const ST_DTYPE_BYTES = new Map([['F64', 8], ['F32', 4], ['F16', 2], ['BF16', 2]]);
/** The format's limit on the JSON header (as the reference implementation enforces it). */
const MAX_HEADER_BYTES = 100000000;

/** A tensor name as messages show it: quoted, and cut when long. */
function shownName(name) {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);
}

const isCount = (v) => Number.isSafeInteger(v) && v >= 0;

/** How a message names what was given instead of weights: "undefined", "a URL", "a Float32Array", "a number". */
export function describeGiven(v) {
  if (v === null || v === undefined) return String(v);
  return typeof v === 'object' ? `a ${(v.constructor && v.constructor.name) || 'object'}` : `a ${typeof v}`;
}

/**
 * Parse safetensors bytes into {name: {dtype, shape, bytes}} (an object without a prototype, so any
 * name is just a name); throws Error with a clear message. As the format specifies, data_offsets are
 * integers relative to the data section, and the tensors tile it exactly: no overlaps, no holes, no
 * bytes after the last one.
 */
export function parseSafetensors(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length < 8) throw new Error(`not a safetensors file: ${u8.length} bytes is shorter than the 8-byte header size`);
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const claimed = dv.getBigUint64(0, true);
  if (u8[8] !== 0x7b) throw new Error('not a safetensors file: no JSON header after the 8-byte size');
  if (claimed > BigInt(u8.length - 8)) throw new Error(`truncated safetensors file: the header claims ${claimed} bytes but only ${u8.length - 8} follow`);
  if (claimed > BigInt(MAX_HEADER_BYTES)) throw new Error(`not a safetensors file: a header of ${claimed} bytes is over the format's limit of ${MAX_HEADER_BYTES}`);
  const headerLen = Number(claimed);
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new Error(`not a safetensors file: the header is not JSON (${e.message.split('\n')[0]})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new Error('not a safetensors file: the header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = u8.length - dataStart;
  const tensors = Object.create(null);
  const extents = [];
  for (const name of Object.keys(header)) {
    const t = header[name];
    if (name === '__metadata__') {
      if (t === null || typeof t !== 'object' || Array.isArray(t) || Object.values(t).some((v) => typeof v !== 'string')) throw new Error('malformed safetensors header: "__metadata__" must map strings to strings');
      continue;
    }
    const what = `tensor ${shownName(name)}`;
    if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new Error(`${what}: malformed header entry (expected {"dtype", "shape", "data_offsets"})`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) throw new Error(`${what}: "shape" must be a list of non-negative integers`);
    if (!Array.isArray(t.data_offsets) || t.data_offsets.length !== 2 || !t.data_offsets.every(isCount)) throw new Error(`${what}: "data_offsets" must be two non-negative integers [begin, end]`);
    const size = typeof t.dtype === 'string' ? ST_DTYPE_BYTES.get(t.dtype) : undefined;
    if (size === undefined) throw new Error(`${what}: unsupported dtype ${JSON.stringify(String(t.dtype).slice(0, 16))} (supported: ${[...ST_DTYPE_BYTES.keys()].join(', ')})`);
    const [begin, end] = t.data_offsets;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (begin > end) throw new Error(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) throw new Error(`truncated safetensors file: ${what} ends at byte ${end} of the data section but the file has only ${dataLen}`);
    if (end - begin !== count * size) throw new Error(`${what}: data_offsets [${begin}, ${end}] do not fit shape [${t.shape.join(',')}] of ${t.dtype}`);
    extents.push([begin, end, what]);
    tensors[name] = { dtype: t.dtype, shape: t.shape, bytes: u8.subarray(dataStart + begin, dataStart + end) };
  }
  extents.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end, what] of extents) {
    if (begin < at) throw new Error(`${what}: data_offsets [${begin}, ${end}] overlap the tensor before it, which ends at ${at}`);
    if (begin > at) throw new Error(`${what}: data_offsets [${begin}, ${end}] leave a hole: bytes ${at} to ${begin} of the data section belong to no tensor`);
    at = end;
  }
  if (at !== dataLen) throw new Error(`${dataLen - at} bytes follow the last tensor; the data section must end where the last tensor ends`);
  return tensors;
}

/** A tensor's values as a fresh Float32Array, whatever its stored dtype. */
export function tensorToFloat32(t) {
  const b = t.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = t.shape.reduce((a, c) => a * c, 1);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      // Data need not be 4-byte aligned in the file: copy the bytes, then read them as floats (little-endian hosts).
      new Uint8Array(out.buffer).set(b.subarray(0, 4 * n));
      if (!LITTLE_ENDIAN) for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      break;
    case 'F64': for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true); break;
    case 'F16': for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true)); break;
    case 'BF16': for (let i = 0; i < n; i++) out[i] = bf16ToFloat(dv.getUint16(2 * i, true)); break;
    default: throw new Error(`unsupported dtype ${t.dtype}`);
  }
  return out;
}

/**
 * Check a parsed file against the expected parameters [[name, shape], ...] without converting any
 * data: a missing tensor or a wrong shape is an Error; returns the names of unused tensors.
 */
export function checkTensors(tensors, expected) {
  const problems = [];
  for (const [name, shape] of expected) {
    const t = tensors[name];
    if (!t) problems.push(`missing tensor ${shownName(name)} (expected shape [${shape.join(',')}])`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`tensor ${shownName(name)} has shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
    }
  }
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new Error(problems[0] + more);
  }
  const want = new Set(expected.map((e) => e[0]));
  return Object.keys(tensors).filter((n) => !want.has(n)).sort();
}

/**
 * Bind the expected parameters [[name, shape, transforms?], ...] to a parsed file's tensors as
 * Float32Arrays (checked first), applying each parameter's folded weight transforms.
 */
export function bindWeights(tensors, expected) {
  const unused = checkTensors(tensors, expected);
  const read = weightReader(tensors, expected);
  return { values: expected.map(([name]) => read(name)), unused };
}

/**
 * name -> a parameter's Float32Array with its folded weight transforms applied, for the expected
 * parameters [[name, shape, transforms?], ...] (converted on demand; check the file first).
 */
export function weightReader(tensors, expected) {
  const byName = new Map(expected.map((e) => [e[0], e]));
  return (name) => {
    const e = byName.get(name);
    if (!e || !tensors[name]) throw new Error(`no weight "${name}"`);
    return applyWeightTransforms(tensorToFloat32(tensors[name]), e[1], e[2]);
  };
}
