// What a torch.save pickle may contain, for the restricted unpickler: the allowlist of globals
// (tensor and storage rebuilds, OrderedDict, Parameter, and argparse.Namespace and NumPy scalars,
// which training scripts save their arguments and metrics as) and the objects they make. Everything
// here builds plain records; no data is read until a tensor is materialized (pth.ts).
import { PyDict, PyTuple, describe, isGlobal, type PyGlobal, type PyObject, type PyValue } from './pickle.js';
import { DTYPE_BYTES, viewExtent, type DType } from './tensor.js';

/** A storage named by a persistent id: its bytes are the archive member `data/<key>`. */
export class TorchStorage implements PyObject {
  readonly kind = 'object';
  readonly pyClass = 'torch storage';
  constructor(readonly dtype: DType, readonly key: string, readonly location: string, readonly numel: number) {}
}

/** A tensor: a strided view of a storage (sizes and offsets in elements). */
export class TorchTensor implements PyObject {
  readonly kind = 'object';
  readonly pyClass = 'torch.Tensor';
  constructor(readonly storage: TorchStorage, readonly offset: number, readonly shape: readonly number[], readonly stride: readonly number[]) {}
}

export function isTensor(v: PyValue | undefined): v is TorchTensor {
  return v instanceof TorchTensor;
}

/** Storage classes by name (torch.save names a tensor's storage by its legacy typed class). */
const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
  UntypedStorage: 'U8',
};

class BadArguments extends Error {}

/**
 * An object a training script saves next to the state dict, kept as inert data whose state is never
 * interpreted: argparse.Namespace (the script's arguments, which timm's train.py, DeiT and MAE save)
 * and numpy.dtype (a NumPy scalar's type).
 */
class Inert implements PyObject {
  readonly kind = 'object';
  state: PyValue = null;
  constructor(readonly pyClass: string) {}
  setState(state: PyValue): void { this.state = state; }
}

/** numpy.dtype(code, align, copy). */
class NumpyDType extends Inert {
  constructor(readonly code: string) { super('numpy.dtype'); }
}

/** Arguments as messages show them. */
const shownArgs = (args: readonly PyValue[]) => args.map((a) => describe(a)).join(', ') || 'nothing';

/** A NumPy scalar (np.float64(0.91), np.int64(9)), as numpy pickles it: its dtype and its bytes, kept and never interpreted. */
class NumpyScalar implements PyObject {
  readonly kind = 'object';
  readonly pyClass: string;
  constructor(readonly dtype: NumpyDType, readonly bytes: Uint8Array) {
    const kinds: Record<string, string> = { f: 'float', i: 'int', u: 'uint', b: 'bool', c: 'complex' };
    const [, k, n] = /^([a-z])(\d+)$/.exec(dtype.code) ?? [];
    this.pyClass = k && kinds[k] ? `numpy.${kinds[k]}${k === 'b' ? '_' : Number(n) * 8}` : 'numpy scalar';
  }
}

function numpyScalar(args: readonly PyValue[]): NumpyScalar {
  const [dtype, bytes] = args;
  if (args.length !== 2 || !(dtype instanceof NumpyDType) || !(bytes instanceof Uint8Array)) {
    throw new BadArguments(`numpy scalar: expected a dtype and bytes, got ${shownArgs(args)}`);
  }
  return new NumpyScalar(dtype, bytes);
}

function int(v: PyValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BadArguments(`${what} must be a non-negative integer, got ${describe(v)}`);
  return v;
}

function ints(v: PyValue | undefined, what: string): number[] {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) throw new BadArguments(`${what} must be a tuple of integers, got ${describe(v)}`);
  return (v instanceof PyTuple ? v.items : v).map((x, i) => int(x, `${what}[${i}]`));
}

function rebuildTensor(fn: string, args: readonly PyValue[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage)) throw new BadArguments(`${fn}: the first argument must be a storage, got ${describe(storage)}`);
  const shape = ints(size, `${fn}: size`);
  const strides = ints(stride, `${fn}: stride`);
  if (shape.length !== strides.length) throw new BadArguments(`${fn}: size ${shape.length}-D but stride ${strides.length}-D`);
  const start = int(offset, `${fn}: storage offset`);
  if (viewExtent(start, shape, strides) > storage.numel) {
    throw new BadArguments(`${fn}: a tensor of size [${shape.join(', ')}] at offset ${start} reaches past its storage of ${storage.numel} elements`);
  }
  return new TorchTensor(storage, start, shape, strides);
}

function tensorArg(fn: string, v: PyValue | undefined): TorchTensor {
  if (!(v instanceof TorchTensor)) throw new BadArguments(`${fn}: expected a tensor, got ${describe(v)}`);
  return v;
}

type Impl = (args: readonly PyValue[]) => PyValue;

const ALLOWED: Record<string, Impl | null> = {
  'collections.OrderedDict': (args) => {
    const d = new PyDict('OrderedDict');
    const items = args[0];
    if (Array.isArray(items)) for (const kv of items) if (kv instanceof PyTuple && kv.items.length === 2) d.set(kv.items[0]!, kv.items[1]!);
    return d;
  },
  'torch._utils._rebuild_tensor': (args) => rebuildTensor('_rebuild_tensor', args),
  'torch._utils._rebuild_tensor_v2': (args) => rebuildTensor('_rebuild_tensor_v2', args),
  'torch._utils._rebuild_parameter': (args) => tensorArg('_rebuild_parameter', args[0]),
  'torch._utils._rebuild_parameter_with_state': (args) => tensorArg('_rebuild_parameter_with_state', args[0]),
  'torch._tensor._rebuild_from_type_v2': ([fn, type, args]) => {
    if (!isGlobal(fn) || !fn.call) throw new BadArguments(`_rebuild_from_type_v2: ${describe(fn)} is not an allowed rebuild function`);
    if (!isGlobal(type, 'torch', 'Tensor') && !isGlobal(type, 'torch.nn.parameter', 'Parameter')) throw new BadArguments(`_rebuild_from_type_v2: tensor subclass ${describe(type)} is not supported`);
    if (!(args instanceof PyTuple)) throw new BadArguments(`_rebuild_from_type_v2: arguments must be a tuple, got ${describe(args)}`);
    return tensorArg('_rebuild_from_type_v2', fn.call(args.items));
  },
  'torch.nn.parameter.Parameter': (args) => tensorArg('Parameter', args[0]),
  'argparse.Namespace': (args) => {
    if (args.length) throw new BadArguments(`argparse.Namespace takes no positional arguments, got ${args.length}`);
    return new Inert('argparse.Namespace');
  },
  // NumPy scalars in the metadata next to a state dict ({'best_acc': np.float64(0.91)}): numpy pickles
  // them as scalar(dtype(code, False, True), bytes), and protocol 2 writes the bytes as
  // _codecs.encode(latin-1 text, 'latin1').
  'numpy.dtype': (args) => {
    const [code, align, copy] = args;
    if (args.length !== 3 || typeof code !== 'string' || !/^[a-zA-Z]\d*$/.test(code) || typeof align !== 'boolean' || typeof copy !== 'boolean') {
      throw new BadArguments(`numpy.dtype: expected (code, align, copy), got ${shownArgs(args)}`);
    }
    return new NumpyDType(code);
  },
  'numpy.core.multiarray.scalar': numpyScalar,
  'numpy._core.multiarray.scalar': numpyScalar, // NumPy 2
  '_codecs.encode': (args) => {
    const [text, encoding] = args;
    if (args.length !== 2 || typeof text !== 'string' || encoding !== 'latin1' || /[^\u0000-\u00ff]/.test(text)) {
      throw new BadArguments(`_codecs.encode: expected (latin-1 text, 'latin1'), got ${shownArgs(args)}`);
    }
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  },
  'torch.Tensor': null,
  ...Object.fromEntries(Object.keys(STORAGE_DTYPES).map((s) => [`torch.${s}`, null])),
};

/** Thrown for a call to an allowed global with arguments it does not take (a malformed checkpoint). */
export { BadArguments };

/** The allowlist as the unpickler asks for it; undefined refuses the global. */
export function resolveTorchGlobal(module: string, name: string): PyGlobal | undefined {
  const key = `${module}.${name}`;
  if (!(key in ALLOWED)) return undefined;
  const impl = ALLOWED[key];
  return impl ? { kind: 'global', module, name, call: impl } : { kind: 'global', module, name };
}

/** The names the allowlist accepts, for messages. */
export const ALLOWED_GLOBALS: readonly string[] = Object.keys(ALLOWED);

/** persistent_load for torch's zip format: ('storage', StorageClass, key, location, numel[, view]). */
export function torchPersistentLoad(storages: Map<string, TorchStorage>): (pid: PyValue) => PyValue {
  return (pid) => {
    const items = pid instanceof PyTuple ? pid.items : undefined;
    if (!items || items[0] !== 'storage' || items.length < 5) throw new BadArguments(`a persistent id must be ('storage', type, key, location, size), got ${describe(pid)}`);
    const [, type, key, location, size] = items;
    if (!isGlobal(type, 'torch') || !(type.name in STORAGE_DTYPES)) throw new BadArguments(`unknown storage type ${describe(type)}`);
    if (typeof key !== 'string' || typeof location !== 'string') throw new BadArguments(`a storage key and location must be strings, got ${describe(key)}, ${describe(location)}`);
    const dtype = STORAGE_DTYPES[type.name]!;
    const numel = int(size, `storage ${key} size`);
    const known = storages.get(key);
    if (known) {
      if (known.dtype !== dtype) throw new BadArguments(`storage ${key} is read as both ${known.dtype} and ${dtype}`);
      return known;
    }
    // The location ('cpu', 'cuda:0', 'mps', ...) is where the storage lived when saved: irrelevant here.
    const s = new TorchStorage(dtype, key, location, numel);
    storages.set(key, s);
    return s;
  };
}

export function storageBytes(s: TorchStorage): number {
  return s.numel * DTYPE_BYTES[s.dtype];
}
