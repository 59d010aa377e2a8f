// The tutorial's read_split_data: one sub-folder per class (sorted), each class's images listed in
// a stable order, 20 % of each class sampled for validation with Python's `random` seeded once with 0,
// and class_indices.json as `json.dumps({index: name}, indent=4)` writes it. Files the tutorial would
// pass over silently are skipped here with a warning that names them; a folder that cannot be trained
// on is an error.
import { closeSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { join, relative } from 'node:path';
import { DiagnosticError, error, fail, fileSpan, type Diagnostic } from '../diag/diagnostic.js';
import { isDirectory as isDir, kindOf, reasonOf } from '../io/files.js';
import { PyRandom } from './pyrandom.js';

/** read_split_data's `supported` list. */
export const SUPPORTED = ['.jpg', '.JPG', '.png', '.PNG'] as const;

export interface Sample {
  readonly path: string;
  readonly label: number;
}

export interface Split {
  /** Class names, sorted; the index is the label. */
  readonly classes: readonly string[];
  /** Images per class (train + validation). */
  readonly counts: readonly number[];
  readonly train: readonly Sample[];
  readonly val: readonly Sample[];
  /** One per file or folder passed over. */
  readonly warnings: readonly Diagnostic[];
}

/** Python's str ordering: by code point (JS's default compares UTF-16 units, which differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** os.path.splitext(name)[1]: the last dot's suffix, unless only dots precede it (".bashrc" has none). */
export function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return '';
  for (let i = 0; i < dot; i++) if (name[i] !== '.') return name.slice(dot);
  return '';
}

/** Whether a file starts like a JPEG or a PNG (what the tutorial's extensions promise). */
function looksLikeImage(path: string): boolean {
  const head = new Uint8Array(8);
  let n = 0;
  const fd = openSync(path, 'r');
  try { n = readSync(fd, head, 0, 8, 0); } finally { closeSync(fd); }
  const jpeg = n >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
  const png = n >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47 && head[4] === 0x0d && head[5] === 0x0a && head[6] === 0x1a && head[7] === 0x0a;
  return jpeg || png;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    return fail('data/unreadable', `cannot read the folder: ${reasonOf(e)}`, fileSpan(dir));
  }
}

function isFile(path: string): boolean {
  try { return statSync(path).isFile(); } catch { return false; }
}

/** --data must be a folder that exists: one line otherwise, saying what it is instead. */
function checkRoot(root: string): void {
  let s: Stats;
  try {
    s = statSync(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail('data/root', code === 'ENOENT' || code === 'ENOTDIR' ? 'no such folder' : `cannot read the folder: ${reasonOf(e)}`, fileSpan(root));
  }
  if (!s.isDirectory()) fail('data/root', `not a folder but ${kindOf(s)}: --data takes a folder with one sub-folder of images per class`, fileSpan(root));
}

export function readSplitData(root: string, valRate = 0.2): Split {
  checkRoot(root);
  const warnings: Diagnostic[] = [];
  // Hidden entries (.DS_Store, ._x.jpg, .ipynb_checkpoints/) are what a file manager or a notebook
  // left behind, not data: one warning counts them all instead of a line per class folder.
  const hidden: string[] = [];
  const visible = (dir: string): string[] => list(dir).sort(compareCodePoints).filter((e) => !e.startsWith('.') || (hidden.push(join(dir, e)), false));
  const entries = visible(root);
  const classes = entries.filter((e) => isDir(join(root, e)));
  for (const e of entries) if (!classes.includes(e)) warnings.push(warning(join(root, e), 'skipped: not a class folder (--data holds one folder of images per class)'));
  if (classes.length === 0) fail('data/no-classes', 'no class folders: --data takes a folder with one sub-folder of images per class (flower_photos/daisy/*.jpg, ...)', fileSpan(root));
  if (classes.length === 1) {
    // flower_photos.tgz unpacked into data/: --data data has the one folder flower_photos.
    const only = join(root, classes[0]!);
    const inner = list(only).filter((e) => isDir(join(only, e)));
    const hint = inner.length && !list(only).some((e) => (SUPPORTED as readonly string[]).includes(extension(e))) ? `it holds folders (${names(inner.sort(compareCodePoints))}): give --data ${only}` : 'add a folder of images for each other class';
    fail('data/one-class', `only one class folder ("${classes[0]}"): a classifier needs at least two classes`, fileSpan(root), hint);
  }

  const perClass: string[][] = [];
  const empty: Diagnostic[] = [];
  const folders: string[][] = [];
  for (const cls of classes) {
    const dir = join(root, cls);
    const images: string[] = [];
    const inner: string[] = [];
    for (const name of visible(dir)) {
      const path = join(dir, name);
      if (!(SUPPORTED as readonly string[]).includes(extension(name))) {
        if (isDir(path)) inner.push(name);
        warnings.push(warning(path, isDir(path) ? 'skipped: a folder inside a class folder' : `skipped: not a ${SUPPORTED.join(', ')} file, the kinds the tutorial's read_split_data takes`));
      } else if (!isFile(path)) {
        warnings.push(warning(path, 'skipped: not a regular file'));
      } else if (!readable(path)) {
        warnings.push(warning(path, 'skipped: cannot be read'));
      } else if (!looksLikeImage(path)) {
        warnings.push(warning(path, 'skipped: not an image (it does not start like a JPEG or a PNG)'));
      } else {
        images.push(path);
      }
    }
    perClass.push(images);
    folders.push(inner);
    if (images.length === 0) {
      empty.push(inner.length
        ? error('data/empty-class', `the class folder "${cls}" has no images, only folders (${names(inner)}): the images of a class are read from its folder alone, not from folders inside it`, fileSpan(dir), 'move the images up into the class folder')
        : error('data/empty-class', `the class folder "${cls}" has no images`, fileSpan(dir), `every class needs images to train on; add ${SUPPORTED.join('/')} files or remove the folder`));
    }
  }
  // A tree already split the torchvision ImageFolder way (train/ants, val/ants, ...): every "class"
  // holds folders only. One line at --data says what vitc takes instead.
  if (empty.length === classes.length && folders.every((f) => f.length > 0)) {
    const inner = [...new Set(folders.flat())].sort(compareCodePoints);
    const train = classes.find((c) => /^train/i.test(c)) ?? classes[0]!;
    fail('data/empty-class', `the folders in --data (${names(classes)}) hold folders (${names(inner)}), not images: --data takes one folder of images per class, and vitc finetune samples ${Math.round(valRate * 100)} % of each class for validation itself, as the tutorial's read_split_data does`, fileSpan(root),
      `for a tree split into ${classes.length === 2 ? `${classes[0]}/ and ${classes[1]}/` : names(classes.map((c) => `${c}/`))}, give --data ${join(root, train)} (its own ${Math.round(valRate * 100)} % become the validation images), or merge each class's images into one folder`);
  }
  if (empty.length) throw new DiagnosticError(empty);
  if (hidden.length) {
    const shown = hidden.slice(0, 3).map((h) => relative(root, h)).join(', ') + (hidden.length > 3 ? ', ...' : '');
    warnings.push(warning(root, `skipped ${hidden.length} hidden ${hidden.length === 1 ? 'entry' : 'entries'} (names starting with "."): ${shown}`));
  }
  const { train, val } = splitLists(perClass, valRate);
  if (val.length === 0) fail('data/no-validation', `no images for validation: ${Math.round(valRate * 100)} % of each class is rounded down, and every class has fewer than ${Math.ceil(1 / valRate)} images`, fileSpan(root), 'add images');
  return { classes, counts: perClass.map((l) => l.length), train, val, warnings };
}

/**
 * The split itself: `random.seed(0)` once, then per class (in label order) `random.sample(images,
 * k=int(len(images) * val_rate))` goes to validation, the rest to training, each in listing order.
 */
export function splitLists(perClass: readonly (readonly string[])[], valRate: number): { train: Sample[]; val: Sample[] } {
  const rnd = new PyRandom(0);
  const train: Sample[] = [], val: Sample[] = [];
  for (const [label, images] of perClass.entries()) {
    const picked = new Set(rnd.sample(images, Math.trunc(images.length * valRate)));
    for (const path of images) (picked.has(path) ? val : train).push({ path, label });
  }
  return { train, val };
}

/** A few names, quoted as a list. */
function names(list: readonly string[]): string {
  return list.slice(0, 4).join(', ') + (list.length > 4 ? ', ...' : '');
}

function readable(path: string): boolean {
  try { closeSync(openSync(path, 'r')); return true; } catch { return false; }
}

function warning(path: string, message: string): Diagnostic {
  return { code: 'data/skipped', severity: 'warning', message, span: fileSpan(path) };
}

/** class_indices.json exactly as json.dumps(dict, indent=4) writes it (ASCII only, no final newline). */
export function classIndicesJson(classes: readonly string[]): string {
  const obj = Object.fromEntries(classes.map((c, i) => [String(i), c]));
  return JSON.stringify(obj, null, 4).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
