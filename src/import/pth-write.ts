// Writing a state dict as torch.save does (zip format, pickle protocol 2): an OrderedDict of
// _rebuild_tensor_v2 calls, one storage per tensor, little-endian. torch.load (weights_only too)
// and vitc's own reader both read it. Deterministic: the same tensors give the same bytes.
import { DTYPE_BYTES, numel, type DType, type RawTensor } from './tensor.js';
import { writeZip } from './zip-write.js';

const STORAGE_CLASS: Record<DType, string> = {
  F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', F64: 'DoubleStorage',
  I64: 'LongStorage', I32: 'IntStorage', I16: 'ShortStorage', I8: 'CharStorage', U8: 'ByteStorage', BOOL: 'BoolStorage',
};

class PickleWriter {
  private readonly parts: number[] = [];
  private readonly enc = new TextEncoder();
  op(...bytes: number[]): this { this.parts.push(...bytes); return this; }
  raw(b: Uint8Array): this { for (const x of b) this.parts.push(x); return this; }
  global(module: string, name: string): this { return this.op(0x63).raw(this.enc.encode(`${module}\n${name}\n`)); }
  str(s: string): this {
    const b = this.enc.encode(s);
    return this.op(0x58, b.length & 0xff, (b.length >>> 8) & 0xff, (b.length >>> 16) & 0xff, b.length >>> 24).raw(b);
  }
  int(v: number): this {
    if (!Number.isSafeInteger(v)) throw new Error(`cannot pickle ${v} as an integer`);
    if (v >= 0 && v < 0x100) return this.op(0x4b, v);
    if (v >= 0 && v < 0x10000) return this.op(0x4d, v & 0xff, v >>> 8);
    if (v >= -0x80000000 && v < 0x80000000) return this.op(0x4a, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    // LONG1: little-endian two's complement, with a sign byte to spare.
    const bytes: number[] = [];
    let x = BigInt(v);
    for (let i = 0; i < 8; i++) { bytes.push(Number(x & 0xffn)); x >>= 8n; }
    return this.op(0x8a, bytes.length, ...bytes);
  }
  intTuple(vs: readonly number[]): this {
    this.op(0x28);
    for (const v of vs) this.int(v);
    return this.op(0x74);
  }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

/** The bytes of a .pth file holding `tensors` (in this order) as a state dict. */
export function writePth(tensors: ReadonlyArray<readonly [string, RawTensor]>, archiveName = 'archive'): Uint8Array {
  if (!/^[A-Za-z0-9_.-]+$/.test(archiveName)) throw new Error(`archive name "${archiveName}" must be a plain file stem`);
  const p = new PickleWriter().op(0x80, 2);
  p.global('collections', 'OrderedDict').op(0x29, 0x52); // OrderedDict()
  p.op(0x28); // MARK for SETITEMS
  tensors.forEach(([name, t], i) => {
    if (t.bytes.length !== numel(t.shape) * DTYPE_BYTES[t.dtype]) throw new Error(`tensor "${name}": ${t.bytes.length} bytes do not fit ${t.dtype} [${t.shape.join(', ')}]`);
    const stride = t.shape.map((_, d) => numel(t.shape.slice(d + 1)));
    p.str(name);
    p.global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    p.op(0x28).str('storage').global('torch', STORAGE_CLASS[t.dtype]).str(String(i)).str('cpu').int(numel(t.shape)).op(0x74, 0x51); // persistent id
    p.int(0).intTuple(t.shape).intTuple(stride).op(0x89); // offset, size, stride, requires_grad=False
    p.global('collections', 'OrderedDict').op(0x29, 0x52); // backward_hooks
    p.op(0x74, 0x52); // args tuple, REDUCE
  });
  p.op(0x75, 0x2e); // SETITEMS, STOP
  const dir = `${archiveName}/`;
  return writeZip([
    { name: `${dir}data.pkl`, bytes: p.bytes() },
    { name: `${dir}byteorder`, bytes: new TextEncoder().encode('little') },
    ...tensors.map(([, t], i) => ({ name: `${dir}data/${i}`, bytes: t.bytes })),
    { name: `${dir}version`, bytes: new TextEncoder().encode('3\n') },
  ]);
}
