// PyTorch checkpoints in the zip format (torch.save since 1.6, through 2.x): `<archive>/data.pkl` is
// a pickle whose tensors point at storages `<archive>/data/<key>`; `<archive>/byteorder` (2.x) says
// how the storages are laid out; `.format_version`, `.storage_alignment`, the 64-byte alignment of
// members and `.data/` records need nothing from a reader that goes through the central directory.
import { fail, fileSpan } from '../diag/diagnostic.js';
import { PickleError, PickleRefused, unpickle, type PyValue } from './pickle.js';
import { ALLOWED_GLOBALS, BadArguments, TorchStorage, TorchTensor, resolveTorchGlobal, storageBytes, torchPersistentLoad } from './torch-pickle.js';
import { DTYPE_BYTES, gather, swapBytes, type RawTensor } from './tensor.js';
import type { ZipArchive } from './zip.js';

export interface TorchCheckpoint {
  /** The unpickled object (tensors are TorchTensor records, nothing read yet). */
  readonly root: PyValue;
  /** Read the storages of `tensors` (each once) and return their contiguous values, by name. */
  materialize(tensors: ReadonlyArray<readonly [string, TorchTensor]>, progress?: (done: number, total: number) => void): Promise<Map<string, RawTensor>>;
}

/** The archive folder holding data.pkl, or undefined when this zip is not a torch.save checkpoint. */
export function torchArchivePrefix(zip: ZipArchive): string | undefined {
  const pkl = zip.names.find((n) => /^[^/]+\/data\.pkl$/.test(n));
  return pkl?.slice(0, -'data.pkl'.length);
}

export function isTorchScript(zip: ZipArchive, prefix: string): boolean {
  return zip.names.some((n) => n === `${prefix}constants.pkl` || n.startsWith(`${prefix}code/`));
}

export async function readTorchCheckpoint(zip: ZipArchive, prefix: string): Promise<TorchCheckpoint> {
  const file = zip.file;
  const span = fileSpan(file);
  if (isTorchScript(zip, prefix)) {
    fail('weights/torchscript', 'this is a TorchScript archive (torch.jit.save), which holds code as well as weights', span,
      'save the weights with torch.save(model.state_dict(), PATH) and give vitc that file');
  }
  const byteorder = zip.size(`${prefix}byteorder`) !== undefined ? new TextDecoder().decode(await zip.read(`${prefix}byteorder`)).trim() : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') fail('weights/pth', `unknown byte order "${byteorder}" in ${prefix}byteorder`, span);
  const storages = new Map<string, TorchStorage>();
  let root: PyValue;
  try {
    root = unpickle(await zip.read(`${prefix}data.pkl`), { resolveGlobal: resolveTorchGlobal, persistentLoad: torchPersistentLoad(storages) });
  } catch (e) {
    // A class (by Python's naming) as the first object: the file holds an instance, a whole model.
    if (e instanceof PickleRefused && e.root && /\.[A-Z][^.]*$/.test(e.global)) {
      return fail('weights/unsafe-pickle', `refusing to load: ${prefix}data.pkl is a whole ${e.global} object (as torch.save(model) writes), not a state dict, and only its class's code could rebuild it`, span,
        'save its weights in Python, where that class imports: torch.save(torch.load(PATH, weights_only=False).state_dict(), NEW_PATH); vitc runs no code from checkpoints, and nothing was executed');
    }
    if (e instanceof PickleRefused) {
      return fail('weights/unsafe-pickle', `refusing to load: ${prefix}data.pkl calls ${e.global} (at byte ${e.at}), which is not a tensor or storage rebuild, OrderedDict, Parameter, argparse.Namespace or NumPy scalar`, span,
        'vitc runs no code from checkpoints; nothing was executed. Only weights saved with torch.save(model.state_dict(), PATH) and plain dicts of them are accepted');
    }
    if (e instanceof PickleError || e instanceof BadArguments) return fail('weights/pth', `${prefix}data.pkl is not a readable checkpoint: ${e.message}`, span);
    throw e;
  }
  return {
    root,
    async materialize(tensors, progress) {
      const needed = [...new Set(tensors.map(([, t]) => t.storage))].sort((a, b) => Number(a.key) - Number(b.key) || (a.key < b.key ? -1 : 1));
      const total = needed.reduce((a, s) => a + storageBytes(s), 0);
      let done = 0;
      progress?.(0, total);
      const data = new Map<TorchStorage, Uint8Array>();
      for (const s of needed) {
        const member = `${prefix}data/${s.key}`;
        const size = zip.size(member);
        if (size === undefined) fail('weights/pth', `storage ${s.key} is missing from the archive (no member ${member})`, span, 'the file is incomplete; save it again');
        if (size < storageBytes(s)) fail('weights/pth', `storage ${s.key} holds ${size} bytes but ${s.numel} ${s.dtype} values need ${storageBytes(s)}`, span, 'the file is damaged; save it again');
        const bytes = await zip.read(member, (n) => { done += n; progress?.(done, total); });
        if (byteorder === 'big') swapBytes(bytes, DTYPE_BYTES[s.dtype]);
        data.set(s, bytes);
      }
      const out = new Map<string, RawTensor>();
      for (const [name, t] of tensors) {
        out.set(name, { dtype: t.storage.dtype, shape: t.shape, bytes: gather(data.get(t.storage)!, DTYPE_BYTES[t.storage.dtype], t.offset, t.shape, t.stride) });
      }
      return out;
    },
  };
}

export { ALLOWED_GLOBALS };
