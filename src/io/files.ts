// Reading the user's files and writing vitc's outputs, with every failure as a one-line diagnostic.
// Inputs must be regular files of bounded size (a spec named /dev/zero or a FIFO would read forever);
// outputs are checked before any work starts and written to a temporary sibling that is renamed into
// place, so a failed write never leaves a half-written file.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, realpathSync, renameSync, rmSync, statSync, writeSync, accessSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DiagnosticError, error, fileSpan, type Span } from '../diag/diagnostic.js';
import { fmtCount, fmtSize, MAX_BINARY_BYTES, MAX_TEXT_BYTES } from '../limits.js';

/** What an errno means, in words. */
export function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOSPC': return 'no space left on the device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EROFS': return 'the file system is read-only';
    case 'ENAMETOOLONG': return 'the name is too long';
    case 'ELOOP': return 'too many levels of symbolic links';
    case 'EEXIST': return 'it already exists';
    case 'EMFILE': case 'ENFILE': return 'too many open files';
    case 'EIO': return 'an input/output error';
    case 'EFBIG': return 'the file is too large for the file system';
    default: return (e as Error)?.message?.split('\n')[0] ?? String(e);
  }
}

/** What a path is, in words: "a file", "a directory", "a character device", ... */
export function kindOf(st: Stats): string {
  if (st.isFile()) return 'a file';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export interface ReadOptions {
  /** Where the file was named (an `extends:` or `import` line); the error is reported there. */
  readonly referencedFrom?: Span;
  /** How the file is shown in messages (default: the path as given). */
  readonly display?: string;
  readonly maxBytes?: number;
}

function readFailure(path: string, what: string, opts: ReadOptions) {
  const shown = opts.display ?? path;
  return (code: string, reason: string): never => {
    throw new DiagnosticError([error(code, opts.referencedFrom ? `cannot read ${JSON.stringify(shown)}: ${reason}` : `cannot read ${what}: ${reason}`, opts.referencedFrom ?? fileSpan(shown))]);
  };
}

/**
 * Open `path` for reading when it is a regular file (a directory, device, FIFO or socket is an error
 * that says which). Opened non-blocking, so a file that became a FIFO since the check does not wait.
 */
export function openRegularFile(path: string, what: string, opts: ReadOptions = {}): number {
  const failRead = readFailure(path, what, opts);
  try {
    const st = statSync(path);
    if (st.isDirectory()) return failRead('io/unreadable', 'is a directory');
    if (!st.isFile()) return failRead('io/not-a-file', `it is ${kindOf(st)}, not a regular file`);
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    return failRead('io/unreadable', reasonOf(e));
  }
}

/** Read a whole regular file of at most `maxBytes` (default: the binary limit), in chunks (a single read stops at 2 GiB). */
export function readRegularFile(path: string, what: string, opts: ReadOptions = {}): Uint8Array {
  const failRead = readFailure(path, what, opts);
  const max = opts.maxBytes ?? MAX_BINARY_BYTES;
  const fd = openRegularFile(path, what, opts);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return failRead('io/not-a-file', `it is ${kindOf(st)}, not a regular file`);
    if (st.size > max) return failRead('io/too-large', `it has ${fmtCount(st.size)} bytes (${fmtSize(st.size)}); ${what} files are at most ${fmtSize(max)}`);
    let out: Uint8Array;
    try {
      out = new Uint8Array(st.size);
    } catch {
      return failRead('io/too-large', `it has ${fmtCount(st.size)} bytes (${fmtSize(st.size)}), more than vitc can hold in memory at once`);
    }
    for (let at = 0; at < st.size;) {
      const n = readSync(fd, out, at, Math.min(2 ** 30, st.size - at), at);
      if (n === 0) return failRead('io/unreadable', `the file shrank to ${at} bytes while being read`);
      at += n;
    }
    return out;
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    return failRead('io/unreadable', reasonOf(e));
  } finally {
    closeSync(fd);
  }
}

/** Read a regular text file of at most MAX_TEXT_BYTES; it must be UTF-8 (a leading BOM is dropped) unless it is binary. */
export function readTextFile(path: string, what: string, opts: ReadOptions = {}): string {
  const bytes = readRegularFile(path, what, { maxBytes: MAX_TEXT_BYTES, ...opts });
  // A NUL byte means a binary file (weights given as a spec): the caller says what it is instead.
  if (bytes.includes(0)) return new TextDecoder().decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const before = new TextDecoder().decode(bytes.subarray(0, at));
    const line = before.split('\n').length;
    const col = [...before.slice(before.lastIndexOf('\n') + 1)].length + 1;
    const hex = [...bytes.subarray(at, Math.min(at + 4, bytes.length))].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DiagnosticError([error('io/not-utf8', `${what} is not UTF-8: byte ${at} (${hex}) is not part of a valid UTF-8 sequence`,
      { file: opts.display ?? path, line, col }, 'save the file as UTF-8')]);
  }
}

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence (RFC 3629). */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c < 0x80) { i++; continue; }
    let n: number, lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) { n = 2; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return b.length;
}

function failWrite(shown: string, reason: string, hint?: string): never {
  throw new DiagnosticError([error('io/unwritable', `cannot write ${shown}: ${reason}`, undefined, hint)]);
}

/**
 * Create and remove an empty file in `dir`: the one sure test that writing there works (permissions,
 * read-only and special file systems) before the work whose result would go there.
 */
export function probeWritable(dir: string, shown: string): void {
  const probe = join(dir, `.vitc-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    rmSync(probe, { force: true });
  } catch (e) {
    // The directory is there (it was just looked at): ENOENT means it takes no new files (/proc, /sys).
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${dir} does not accept new files` : reasonOf(e);
    failWrite(shown, why, 'choose a directory you can write to');
  }
}

/**
 * Check, before any work, that `path` can be written as a file: its directory exists (or can be made
 * under one that does) and is writable, and the path is not a directory or a device.
 */
export function checkOutputFile(path: string, what: string): void {
  const shown = `${what} ${JSON.stringify(path)}`;
  if (path.trim() === '') failWrite(shown, 'the name is empty');
  if (basename(path).length > 255) failWrite(shown, reasonOf({ code: 'ENAMETOOLONG' }));
  let st: Stats | undefined;
  try { st = statSync(path); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') failWrite(shown, reasonOf(e));
  }
  if (st?.isDirectory()) failWrite(shown, 'it is a directory');
  if (st && !st.isFile()) failWrite(shown, `it is ${kindOf(st)}, not a regular file`);
  checkDirectoryWritable(dirname(resolve(path)), shown);
}

/**
 * An output must not name a file the command reads: a slip of the shell would replace the user's
 * checkpoint, input or spec with what the command writes. `inputs` are [what, path] pairs; `product`
 * names what would be written, `option` the output's option.
 */
export function refuseOverwritingInputs(out: string, inputs: readonly (readonly [string, string | undefined])[], product: string, option: string): void {
  const real = (f: string) => { try { return realpathSync(f); } catch { return undefined; } };
  const target = real(out);
  if (target === undefined) return;
  for (const [what, file] of inputs) {
    if (file !== undefined && real(file) === target) throw new DiagnosticError([error('io/out-file', `refusing to overwrite ${what} ${file} with ${product}`, fileSpan(out), `choose another ${option}`)]);
  }
}

/** The nearest existing ancestor of `dir` must be a writable directory (missing ones are made later, after the work). */
export function checkDirectoryWritable(dir: string, shown: string): void {
  for (let d = dir; ; d = dirname(d)) {
    let st: Stats;
    try { st = statSync(d); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && dirname(d) !== d) continue;
      return failWrite(shown, reasonOf(e));
    }
    if (!st.isDirectory()) return failWrite(shown, `${d} is not a directory`);
    try { accessSync(d, constants.W_OK | constants.X_OK); } catch { return failWrite(shown, `permission denied in ${d}`, 'choose a directory you can write to'); }
    // The nearest directory that exists is where the write (or its first mkdir) happens.
    probeWritable(d, shown);
    return;
  }
}

/** Whether `path` is a directory (following links); false when it is missing or unreadable, whose reading says why. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * mkdir -p without `mkdirSync(dir, { recursive: true })`, which in Node 20 loops forever (at full CPU)
 * when a parent exists but refuses new entries with ENOENT, as /proc does (`vitc build -o /proc/x/y`).
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if (statSync(d).isDirectory()) break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && dirname(d) !== d) { missing.push(d); continue; }
      throw e;
    }
    throw Object.assign(new Error(`${d} is not a directory`), { code: 'ENOTDIR' });
  }
  for (const d of missing.reverse()) {
    try { mkdirSync(d); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
  }
}

/** Write `contents` to a temporary file next to `path` and rename it into place; a failure leaves nothing behind. */
export function writeFileAtomic(path: string, contents: string | Uint8Array, what: string): void {
  const shown = `${what} ${JSON.stringify(path)}`;
  const target = resolve(path);
  const tmp = join(dirname(target), `.vitc-tmp-${basename(target).slice(0, 200)}-${process.pid}`);
  try {
    makeDirs(dirname(target));
    writeChunked(tmp, contents);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    failWrite(shown, reasonOf(e), 'nothing was written');
  }
}

/** Write a file in chunks (one write call takes at most 2 GiB; ViT-H/14's weights are 2.6 GB). */
export function writeChunked(path: string, contents: string | Uint8Array): void {
  const bytes = typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents;
  const fd = openSync(path, 'w');
  try {
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, Math.min(2 ** 30, bytes.length - at));
  } finally {
    closeSync(fd);
  }
}
