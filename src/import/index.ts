// The one way weights come into vitc: any supported file -> safetensors bytes with timm names, used
// by build, run and convert alike. Formats: safetensors, PyTorch .pth/.pt (zip, restricted
// unpickler), NumPy .npz; naming schemes: timm, Hugging Face, JAX, torchvision (names.ts).
import { closeSync, readSync } from 'node:fs';
import { openRegularFile } from '../io/files.js';
import { DiagnosticError, fail, fileSpan, note, type Diagnostic } from '../diag/diagnostic.js';
import { parseSafetensors } from '../runtime/safetensors.js';
import { readFileOrFail, writeSafetensorsRaw } from '../weights/safetensors.js';
import { explainMismatch } from './explain.js';
import type { ExpectedModel } from './model.js';
import { detectScheme, schemeLabel, toTimm, type SchemeName } from './names.js';
import { isNpz, readNpz } from './npz.js';
import { readTorchCheckpoint, torchArchivePrefix } from './pth.js';
import { gridText, resamplePosEmbed } from './resample.js';
import { isFloat, type FloatDType, type RawTensor } from './tensor.js';
import { isTensor } from './torch-pickle.js';
import { findStateDict, stripWrapperPrefixes } from './unwrap.js';
import { openZip } from './zip.js';

export type WeightsFormat = 'safetensors' | 'pth' | 'npz';

export interface ImportOptions {
  /** The entry of a wrapped checkpoint that holds the state dict (`--key`). */
  readonly key?: string;
  /** The model the weights are for: enables pos_embed resampling and the spec-key mismatch message. */
  readonly model?: ExpectedModel;
  /** Told of bytes read from large members (for a progress bar). */
  readonly progress?: (done: number, total: number) => void;
}

export interface ImportedWeights {
  /** safetensors with timm names (the file's own bytes when nothing had to change). */
  readonly bytes: Uint8Array;
  readonly format: WeightsFormat;
  readonly scheme: SchemeName;
  /** Whether `bytes` were written here (false: they are the file's own safetensors bytes). */
  readonly rewritten: boolean;
  /** What was done on the way, one note each (the caller prints them). */
  readonly notes: readonly Diagnostic[];
}

function sniff(file: string): 'zip' | 'safetensors' | 'legacy-torch' | 'npy' | 'unknown' {
  const head = new Uint8Array(16);
  let n = 0;
  let fd: number | undefined;
  try {
    fd = openRegularFile(file, 'weights'); // the same one-line error as every other unreadable file
    n = readSync(fd, head, 0, 16, 0);
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    readFileOrFail(file, 'weights');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)) return 'zip';
  if (n >= 9 && head[8] === 0x7b) return 'safetensors';
  if (n >= 4 && head[0] === 0x80 && head[1] === 0x02 && head[2] === 0x8a && head[3] === 0x0a) return 'legacy-torch';
  if (n >= 6 && head[0] === 0x93 && String.fromCharCode(...head.subarray(1, 6)) === 'NUMPY') return 'npy';
  return 'unknown';
}

interface Read {
  readonly format: WeightsFormat;
  readonly tensors: Map<string, RawTensor>;
  readonly notes: Diagnostic[];
  /** The file's own safetensors bytes, when it is one. */
  readonly original?: Uint8Array;
  /** Entries that are not floating point and were never read as tensors (an .npz's int arrays). */
  readonly nonFloat?: readonly string[];
}

async function readAny(file: string, options: ImportOptions): Promise<Read> {
  const span = fileSpan(file);
  const sniffed = sniff(file);
  // A file named for a format it does not start like gets that format's own message.
  const kind = sniffed === 'unknown' && /\.safetensors$/i.test(file) ? 'safetensors' : sniffed;
  if (options.key !== undefined && kind !== 'zip') fail('weights/key', '--key applies to PyTorch checkpoints (.pth, .pt), whose state dict may be wrapped in a dict', span);
  switch (kind) {
    case 'safetensors': {
      const bytes = readFileOrFail(file, 'weights');
      try {
        const parsed = parseSafetensors(bytes);
        return { format: 'safetensors', tensors: new Map(Object.entries(parsed)), notes: [], original: bytes };
      } catch (e) {
        return fail('weights/safetensors', (e as Error).message, span);
      }
    }
    case 'legacy-torch':
      return fail('weights/legacy-pth', 'this checkpoint uses the legacy format of torch.save before PyTorch 1.6', span, 'load it with torch and save it again with a current PyTorch: torch.save(torch.load(PATH), NEW_PATH)');
    case 'npy':
      return fail('weights/npy', 'a single .npy array has no tensor names', span, 'save the weights with np.savez(PATH, **named_arrays), or as safetensors');
    case 'unknown':
      if (/\.(pth|pt|bin|ckpt|tar)$/i.test(file)) return fail('weights/format', 'not a PyTorch checkpoint: it does not start like the zip archive that torch.save writes', span, 'PyTorch 1.6 and later write zips; is the file complete?');
      if (/\.npz$/i.test(file)) return fail('weights/format', 'not a NumPy .npz: it does not start like a zip archive', span);
      return fail('weights/format', 'unrecognized weights format', span, 'vitc reads safetensors, PyTorch .pth/.pt (torch.save) and NumPy .npz files');
    case 'zip':
      break;
  }
  const zip = await openZip(file);
  try {
    const prefix = torchArchivePrefix(zip);
    if (prefix !== undefined) {
      const ckpt = await readTorchCheckpoint(zip, prefix);
      const found = findStateDict(file, ckpt.root, isTensor, options.key);
      const { entries, stripped } = stripWrapperPrefixes(found.entries);
      const notes: Diagnostic[] = [];
      if (found.note) notes.push(note('weights/state-dict', found.note, span));
      if (found.left) notes.push(note('weights/non-tensor', found.left, span));
      if (stripped.length) notes.push(note('weights/prefix', `removed the prefix ${stripped.map((p) => `"${p}"`).join(' and ')} that ${stripped.map((p) => (p === 'module.' ? 'DataParallel' : 'torch.compile')).join(' and ')} put on every name`, span));
      return { format: 'pth', tensors: await ckpt.materialize(entries, options.progress), notes };
    }
    if (options.key !== undefined) fail('weights/key', '--key applies to PyTorch checkpoints (.pth, .pt), whose state dict may be wrapped in a dict', span);
    if (isNpz(zip)) {
      const npz = await readNpz(zip, options.progress);
      return { format: 'npz', tensors: npz.tensors, notes: [], nonFloat: npz.nonFloat };
    }
    const shown = zip.names.slice(0, 4).join(', ') + (zip.names.length > 4 ? ', ...' : '');
    return fail('weights/zip-contents', `a zip archive that is neither a PyTorch checkpoint (no <name>/data.pkl) nor a NumPy .npz (not all .npy members); it holds ${zip.names.length ? shown : 'nothing'}`, span);
  } finally {
    zip.close();
  }
}

/** Drop a first name component every name shares (Lightning's `model.`), when that makes the names fit. */
function stripSharedPrefix(tensors: Map<string, RawTensor>, model: ExpectedModel | undefined): { tensors: Map<string, RawTensor>; prefix?: string } {
  if (!model || model.weights.some((w) => tensors.has(w.name))) return { tensors };
  const first = [...tensors.keys()][0]?.split('.')[0];
  if (!first || ![...tensors.keys()].every((n) => n.startsWith(`${first}.`))) return { tensors };
  const stripped = new Map([...tensors].map(([n, t]) => [n.slice(first.length + 1), t]));
  const names = [...stripped.keys()];
  return detectScheme(names) !== 'timm' || model.weights.some((w) => stripped.has(w.name)) ? { tensors: stripped, prefix: `${first}.` } : { tensors };
}

export async function importWeights(file: string, options: ImportOptions = {}): Promise<ImportedWeights> {
  const span = fileSpan(file);
  const read = await readAny(file, options);
  const notes = [...read.notes];
  let changed = read.format !== 'safetensors';

  const dropped = [...read.nonFloat ?? [], ...[...read.tensors].filter(([, t]) => !isFloat(t.dtype)).map(([n]) => n)];
  let tensors = new Map([...read.tensors].filter(([, t]) => isFloat(t.dtype)));
  if (dropped.length) {
    notes.push(note('weights/non-float', `left out ${dropped.length} non-floating-point tensor${dropped.length > 1 ? 's' : ''} (${dropped.slice(0, 3).join(', ')}${dropped.length > 3 ? ', ...' : ''}): a ViT has no integer parameters`, span));
    changed = true;
  }
  const shared = stripSharedPrefix(tensors, options.model);
  if (shared.prefix) {
    notes.push(note('weights/prefix', `removed the prefix "${shared.prefix}" that every name carries`, span));
    tensors = shared.tensors;
    changed = true;
  }
  const scheme = detectScheme([...tensors.keys()]);
  if (scheme !== 'timm') {
    try {
      tensors = toTimm(scheme, tensors);
    } catch (e) {
      fail('weights/names', `${schemeLabel(scheme)} names: ${(e as Error).message}`, span);
    }
    const eps = scheme === 'huggingface' ? ' (Hugging Face ViT configs usually set layer_norm_eps 1e-12: make the spec\'s norm_eps match config.json)' : '';
    notes.push(note('weights/names', `mapped ${schemeLabel(scheme)} names to timm names${eps}`, span));
    changed = true;
  }

  const model = options.model;
  if (model) {
    const resampled = resamplePosEmbedFor(tensors, model);
    if (resampled) {
      tensors.set('pos_embed', resampled.tensor);
      notes.push(note('weights/pos-embed', resampled.message, span));
      changed = true;
    }
    const shapes = new Map([...tensors].map(([n, t]) => [n, t.shape]));
    const fits = model.weights.every((w) => sameShape(shapes.get(w.name), w.shape));
    if (!fits) explainMismatch(file, shapes, model);
  }
  const bytes = !changed && read.original ? read.original
    : writeSafetensorsRaw([...tensors].map(([name, t]) => ({ name, dtype: t.dtype as FloatDType, shape: t.shape, bytes: t.bytes })));
  return { bytes, format: read.format, scheme, rewritten: bytes !== read.original, notes };
}

function sameShape(a: readonly number[] | undefined, b: readonly number[]): boolean {
  return a !== undefined && a.length === b.length && a.every((d, i) => d === b[i]);
}

function resamplePosEmbedFor(tensors: Map<string, RawTensor>, model: ExpectedModel): { tensor: RawTensor; message: string } | undefined {
  const have = tensors.get('pos_embed');
  const want = model.weights.find((w) => w.name === 'pos_embed')?.shape;
  const proj = model.weights.find((w) => w.name === 'patch_embed.proj.weight')?.shape;
  if (!have || !want || !proj || have.shape.length !== 3 || want.length !== 3) return undefined;
  if (have.shape[1] === want[1] || have.shape[2] !== want[2]) return undefined;
  const prefix = (model.weights.some((w) => w.name === 'cls_token') ? 1 : 0) + (model.weights.some((w) => w.name === 'dist_token') ? 1 : 0);
  const grid: [number, number] = [model.imageSize[0] / proj[2]!, model.imageSize[1] / proj[3]!];
  if (prefix + grid[0] * grid[1] !== want[1]) return undefined;
  const r = resamplePosEmbed(have, prefix, grid);
  if (!r) return undefined;
  const kept = prefix === 0 ? '' : `; the ${prefix === 1 ? 'class token\'s row is' : 'class and distillation tokens\' rows are'} kept`;
  return {
    tensor: r.tensor,
    message: `resampled pos_embed from the weights' ${gridText(r.from)} grid of patches to ${gridText(grid)} for img_size ${model.imageSize[0] === model.imageSize[1] ? model.imageSize[0] : `[${model.imageSize.join(', ')}]`} (bicubic, as timm does${kept})`,
  };
}

export type { ExpectedModel } from './model.js';
export { expectedFromManifest, expectedFromSpec } from './model.js';
export type { SchemeName } from './names.js';
