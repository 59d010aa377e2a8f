// `vitc build --check`: does a directory hold exactly what a build would write? For CI that commits
// generated kernels and proves them current, as `prettier --check` and `cargo fmt --check` do for
// source. Reads only; compares bytes in chunks, so a multi-gigabyte weights file is no problem.
import { closeSync, lstatSync, openSync, readdirSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { OutputFile } from '../backends/backend.js';

export type Difference = { readonly path: string; readonly change: 'changed' | 'added' | 'removed' };

const CHUNK = 1 << 24;

/** Every entry under `dir`, as paths relative to it with `/`; directories are walked, anything else is listed. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      return e.isDirectory() ? listFiles(dir, rel) : [rel];
    });
}

function statOrUndefined(path: string): Stats | undefined {
  try { return lstatSync(path); } catch { return undefined; }
}

/** Are the file's bytes exactly `want`? */
function sameBytes(path: string, st: Stats, want: Uint8Array): boolean {
  if (!st.isFile() || st.size !== want.length) return false;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(1, want.length)));
    for (let at = 0; at < want.length;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, want.length - at), at);
      if (n <= 0 || !buf.subarray(0, n).equals(want.subarray(at, at + n))) return false;
      at += n;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/**
 * How `dir` differs from the files a build would write there: files that would change, files the
 * build would add (missing from `dir`), and files in `dir` the build would not write (removed),
 * sorted by path. Empty when `dir` is exactly the build. A missing `dir` has every file added.
 */
export function compareBuildDir(dir: string, files: readonly OutputFile[]): Difference[] {
  const out: Difference[] = [];
  const st = statOrUndefined(dir);
  const present = st?.isDirectory() ? new Set(listFiles(dir)) : new Set<string>();
  for (const f of files) {
    const path = join(dir, f.path);
    const fst = present.has(f.path) ? statOrUndefined(path) : undefined;
    const bytes = typeof f.contents === 'string' ? Buffer.from(f.contents, 'utf8') : f.contents;
    if (!fst) out.push({ path: f.path, change: 'added' });
    else if (!sameBytes(path, fst, bytes)) out.push({ path: f.path, change: 'changed' });
    present.delete(f.path);
  }
  for (const p of present) out.push({ path: p, change: 'removed' });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
