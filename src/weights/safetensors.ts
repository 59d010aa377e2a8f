// safetensors files in vitc: writing (random weights, tests) and reading with diagnostics.
// Parsing itself is the runtime's (shared with generated modules), so there is one reader.
import { readFileSync } from 'node:fs';
import { DiagnosticError, error, fileSpan } from '../diag/diagnostic.js';
import { bindWeights, parseSafetensors, tensorToFloat32, type StTensor } from '../backends/js/runtime/safetensors.js';

export { bindWeights, parseSafetensors, tensorToFloat32, type StTensor };

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Serialize float32 tensors (sorted by name; header padded with spaces to 8 bytes). */
export function writeSafetensors(tensors: readonly NamedTensor[]): Uint8Array {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of sorted) {
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of sorted) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4), at);
    at += t.data.length * 4;
  }
  return out;
}

export function readFileOrFail(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DiagnosticError([error('io/unreadable', `cannot read ${what}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`, fileSpan(file))]);
  }
}

/** Check a weights file against the expected [name, shape] list; problems are `file: message` diagnostics. */
export function checkWeights(file: string, bytes: Uint8Array, expected: ReadonlyArray<readonly [string, readonly number[]]>): { unused: string[] } {
  try {
    const { unused } = bindWeights(parseSafetensors(bytes), expected);
    return { unused };
  } catch (e) {
    throw new DiagnosticError([error('weights/mismatch', (e as Error).message, fileSpan(file))]);
  }
}
