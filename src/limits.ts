// Resource limits on what users may ask vitc to do, in one place. Each is far beyond every model
// vitc is meant for, and each is checked before anything is allocated or unrolled, with a message
// that says what is too large and by how much (docs/errors.md lists them with their error codes).
import { fail, type Span } from './diag/diagnostic.js';

/** Parameters of one model: 2^32 (16 GiB in fp32). ViT-H/14 has 632 million. */
export const MAX_PARAMETERS = 2 ** 32;
/** Elements of one tensor for one image (a typed array holds at most 2^32). */
export const MAX_TENSOR_ELEMENTS = 2 ** 31;
/** IR nodes of one model (ViT-H/14 has about 1,500; a depth-1000 model about 35,000). */
export const MAX_IR_NODES = 100_000;
/** Statements and repeat iterations the model language runs to elaborate one model. */
export const MAX_UNROLLED = 1_000_000;
/** Nested block calls, statements and expressions while elaborating (bounds the stack; ViT-H/14 reaches 16). */
export const MAX_EVAL_NESTING = 300;
/** Files in one `extends` chain, and nested imports of model-language files. */
export const MAX_CHAIN = 64;
/** Text inputs: specs, model-language files, labels, manifest.json. */
export const MAX_TEXT_BYTES = 16 * 2 ** 20;
/** Binary inputs: weights, .npy inputs, ONNX models. */
export const MAX_BINARY_BYTES = 2 ** 37;

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Bytes for people: 1.5 GiB, 48 TiB. */
export function fmtSize(bytes: number): string {
  let v = bytes, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** A count for people: 4,294,967,296 (or 1.2e+21 when it is astronomical). */
export function fmtCount(n: number): string {
  return n < 1e18 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(2);
}

/** How far over a limit: "3,072 times the limit" (or "1.5 times" close to it). */
function times(n: number, limit: number): string {
  const r = n / limit;
  return `${r < 10 ? r.toFixed(1) : fmtCount(r)} times the limit of ${fmtCount(limit)}`;
}

/**
 * Fail with code `size/too-large` when `n` items exceed `limit`:
 * "<what> has <n> <unit> (<bytes>), <k> times the limit of <limit>".
 */
export function checkSize(what: string, n: number, limit: number, unit: string, bytesPer: number, span?: Span, hint?: string): void {
  if (n <= limit) return;
  fail('size/too-large', `${what} has ${fmtCount(n)} ${unit} (${fmtSize(n * bytesPer)}${bytesPer === 4 ? ' in fp32' : ''}), ${times(n, limit)}`, span, hint);
}
