// safetensors files in vitc: writing (random weights, tests) and reading with diagnostics.
// Parsing itself is the runtime's (shared with generated modules), so there is one reader.
import { readRegularFile } from '../io/files.js';
import { DiagnosticError, error, fileSpan } from '../diag/diagnostic.js';
import { bindWeights, checkTensors, parseSafetensors, tensorToFloat32, type StTensor } from '../runtime/safetensors.js';

export { parseSafetensors, tensorToFloat32, type StTensor };

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A tensor as stored: dtype, shape and its little-endian bytes. */
export interface StoredTensor {
  readonly name: string;
  readonly dtype: StTensor['dtype'];
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** Serialize float32 tensors (sorted by name; header padded with spaces to 8 bytes). */
export function writeSafetensors(tensors: readonly NamedTensor[]): Uint8Array {
  return writeSafetensorsRaw(tensors.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4) })));
}

/** Serialize tensors of any safetensors float dtype, as they are (sorted by name; header padded to 8 bytes). */
export function writeSafetensorsRaw(tensors: readonly StoredTensor[]): Uint8Array {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = Object.create(null); // a tensor named __proto__ is a key here, not the prototype
  let offset = 0;
  for (const t of sorted) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of sorted) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

/** Read a weights, input or model file (a regular file; `what` names it in messages). */
export function readFileOrFail(file: string, what: string): Uint8Array {
  return readRegularFile(file, what);
}

type Expected = ReadonlyArray<readonly [string, readonly number[]]>;

/** A problem with a weights file as a `file: message` diagnostic. */
function asDiagnostic<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new DiagnosticError([error('weights/mismatch', (e as Error).message, fileSpan(file))]);
  }
}

/** Check a weights file against the expected [name, shape] list (no data converted); returns unused names. */
export function checkWeights(file: string, bytes: Uint8Array, expected: Expected): string[] {
  return asDiagnostic(file, () => checkTensors(parseSafetensors(bytes), expected));
}

/** The expected weights as float32 values, in order (after the same checks). */
export function bindWeightsOrFail(file: string, bytes: Uint8Array, expected: Expected): Float32Array[] {
  return asDiagnostic(file, () => bindWeights(parseSafetensors(bytes), expected).values);
}
