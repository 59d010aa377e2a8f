// NumPy .npz archives (np.savez / np.savez_compressed): one .npy member per array, named by its key,
// as the original ViT's JAX checkpoints are written. The .npy parser is vitc's one (weights/npy.ts).
import { DiagnosticError, error, fileSpan } from '../diag/diagnostic.js';
import { readNpy } from '../weights/npy.js';
import { fromFloat32, type RawTensor } from './tensor.js';
import type { ZipArchive } from './zip.js';

export function isNpz(zip: ZipArchive): boolean {
  return zip.names.length > 0 && zip.names.every((n) => n.endsWith('.npy') || n.endsWith('/'));
}

export async function readNpz(zip: ZipArchive, progress?: (done: number, total: number) => void): Promise<Map<string, RawTensor>> {
  const members = zip.names.filter((n) => n.endsWith('.npy'));
  const total = members.reduce((a, n) => a + zip.size(n)!, 0);
  let done = 0;
  const out = new Map<string, RawTensor>();
  for (const member of members) {
    const bytes = await zip.read(member, (n) => { done += n; progress?.(done, total); });
    const name = member.slice(0, -'.npy'.length);
    try {
      const arr = readNpy(member, bytes);
      out.set(name, fromFloat32(arr.shape, arr.data));
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      const d = e.diagnostics[0]!;
      throw new DiagnosticError([error(d.code, `array "${name}": ${d.message}`, fileSpan(zip.file), d.hint)]);
    }
  }
  return out;
}
