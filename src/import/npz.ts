// NumPy .npz archives (np.savez / np.savez_compressed): one .npy member per array, named by its key,
// as the original ViT's JAX checkpoints are written. The .npy header parser is vitc's one
// (weights/npy.ts). Read as forgivingly as a .pth: float16/32/64 arrays kept in their dtype (as
// torch storages are), big-endian ones byte-swapped and Fortran-order ones laid out in C order;
// arrays of any other kind (a step counter, a flag, a name) are returned by name for the importer's
// note that leaves them out.
import { DiagnosticError, error, fail, fileSpan } from '../diag/diagnostic.js';
import { quote } from '../diag/quote.js';
import { npyData, readNpyHeader } from '../weights/npy.js';
import { pyKind } from '../weights/py-literal.js';
import { DTYPE_BYTES, gather, numel, swapBytes, type FloatDType, type RawTensor } from './tensor.js';
import type { ZipArchive } from './zip.js';

export interface NpzContents {
  readonly tensors: Map<string, RawTensor>;
  /** Arrays that are not floating point (integers, booleans, strings, ...), by name, in file order. */
  readonly nonFloat: string[];
}

export function isNpz(zip: ZipArchive): boolean {
  return zip.names.length > 0 && zip.names.every((n) => n.endsWith('.npy') || n.endsWith('/'));
}

const FLOATS: Readonly<Record<string, FloatDType>> = { f2: 'F16', f4: 'F32', f8: 'F64' };
/** dtype kinds that hold no weights: bool, signed and unsigned ints, bytes and str, objects, datetimes. */
const NON_FLOAT_KINDS = new Set(['b', 'i', 'u', 'S', 'a', 'U', 'O', 'M', 'm']);

/** One array's bytes as a tensor, or 'non-float'. Problems are `npy/invalid` at `member`. */
function readArray(member: string, bytes: Uint8Array): RawTensor | 'non-float' {
  const h = readNpyHeader(member, bytes);
  const bad = (msg: string): never => fail('npy/invalid', msg, fileSpan(member), 'convert it with x.astype(np.float32)');
  if (h.descr.t !== 'str') return bad(`'descr' is ${pyKind(h.descr)}${h.descr.t === 'list' ? ' (a structured dtype)' : ''}, not a number type`);
  const m = /^([<>|=])([a-zA-Z])(\d*)$/.exec(h.descr.v);
  if (!m) return bad(`unknown dtype ${quote(h.descr.v, 24)}`);
  const [, order, kind, size] = m as unknown as [string, string, string, string];
  if (NON_FLOAT_KINDS.has(kind)) return 'non-float';
  const dtype = FLOATS[`${kind}${size}`];
  const shown = quote(h.descr.v, 24).replace(/^"|"$/g, "'");
  if (!dtype) return bad(kind === 'V' ? `dtype ${shown} is raw bytes (numpy saves bfloat16 arrays so), not a number type` : `dtype ${shown} is not float16, float32 or float64`);
  const elem = DTYPE_BYTES[dtype];
  // A copy: byte swaps happen in place, and the tensor outlives the member's bytes.
  let data: Uint8Array = npyData(member, bytes, h, elem).slice();
  if (order === '>') swapBytes(data, elem);
  if (h.fortranOrder && h.shape.length > 1) {
    // Column-major: the first index varies fastest.
    data = gather(data, elem, 0, h.shape, h.shape.map((_, i) => numel(h.shape.slice(0, i))));
  }
  return { dtype, shape: h.shape, bytes: data };
}

export async function readNpz(zip: ZipArchive, progress?: (done: number, total: number) => void): Promise<NpzContents> {
  const members = zip.names.filter((n) => n.endsWith('.npy'));
  const total = members.reduce((a, n) => a + zip.size(n)!, 0);
  let done = 0;
  const tensors = new Map<string, RawTensor>();
  const nonFloat: string[] = [];
  for (const member of members) {
    const bytes = await zip.read(member, (n) => { done += n; progress?.(done, total); });
    const name = member.slice(0, -'.npy'.length);
    try {
      const t = readArray(member, bytes);
      if (t === 'non-float') nonFloat.push(name);
      else tensors.set(name, t);
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      const d = e.diagnostics[0]!;
      throw new DiagnosticError([error(d.code, `array "${name}": ${d.message}`, fileSpan(zip.file), d.hint)]);
    }
  }
  return { tensors, nonFloat };
}
