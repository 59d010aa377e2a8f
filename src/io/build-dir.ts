// Build directories: checked before a build starts, written atomically (a temporary sibling renamed
// into place), and never written over anything that is not a vitc build.
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DiagnosticError, error, fail } from '../diag/diagnostic.js';
import type { OutputFile } from '../backends/backend.js';
import { checkDirectoryWritable, makeDirs, readTextFile, reasonOf, writeChunked } from './files.js';

/**
 * Why `dir` may not be replaced by a build, or undefined when it may: it must not exist, be an empty
 * directory, or be a vitc build (its manifest.json says `"format": "vitc-build/1"`) holding nothing
 * but the files its manifest lists. Anything else is the user's, and a build never deletes it.
 */
export function whyNotReplaceable(dir: string): string | undefined {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return undefined;
  }
  if (!st.isDirectory()) return 'it exists and is not a directory';
  const entries = readdirSync(dir);
  if (entries.length === 0) return undefined;
  let listed: Set<string>;
  try {
    const m = JSON.parse(readTextFile(join(dir, 'manifest.json'), 'manifest')) as { format?: unknown; files?: { path?: unknown }[] };
    if (m === null || typeof m !== 'object' || m.format !== 'vitc-build/1' || !Array.isArray(m.files)) throw new Error('not a vitc manifest');
    listed = new Set(m.files.map((f) => String(f?.path).split('/')[0]!));
  } catch {
    return 'it is not empty and not a vitc build directory';
  }
  const foreign = entries.filter((e) => e !== 'manifest.json' && !listed.has(e));
  return foreign.length ? `it is a vitc build but also holds ${foreign.slice(0, 3).map((f) => JSON.stringify(f)).join(', ')}${foreign.length > 3 ? ', ...' : ''}, which vitc did not write` : undefined;
}

/** Check, before a build starts, that `outDir` may receive it (see whyNotReplaceable) and that its parent is writable. */
export function checkBuildDir(outDir: string): void {
  if (outDir.trim() === '') fail('io/out-dir', 'the output directory is empty', undefined, 'give -o a directory name, e.g. -o out/model');
  const target = resolve(outDir);
  if (basename(target).length > 200) fail('io/out-dir', `cannot write the build to ${outDir}: the name is too long`, undefined, 'use a name of at most 200 characters');
  const why = whyNotReplaceable(target);
  if (why) fail('io/out-dir', `refusing to write the build to ${outDir}: ${why}`, undefined, 'choose a new or empty directory, or remove it first');
  checkDirectoryWritable(dirname(target), `the build ${JSON.stringify(outDir)}`);
}

/**
 * Write files into `outDir` atomically: everything goes to a temporary sibling directory that is
 * renamed into place, so a failed build never leaves a half-written directory. An existing
 * directory is replaced only when whyNotReplaceable() allows it.
 */
export function writeBuildDir(outDir: string, files: readonly OutputFile[]): void {
  checkBuildDir(outDir);
  const target = resolve(outDir);
  const tmp = join(dirname(target), `.vitc-tmp-${basename(target)}-${process.pid}`);
  try {
    makeDirs(dirname(target));
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    for (const f of files) {
      makeDirs(dirname(join(tmp, f.path)));
      writeChunked(join(tmp, f.path), f.contents);
    }
    if (existsSync(target)) {
      const old = `${tmp}-old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new DiagnosticError([error('io/unwritable', `cannot write the build to ${outDir}: ${reasonOf(e)}`, undefined, 'nothing was written')]);
  }
}
