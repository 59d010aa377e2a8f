// The compiler driver: spec -> IR -> passes -> backend files -> build directory.
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { loadSpec, type Spec } from './spec/load.js';
import { buildModel } from './models/bind.js';
import { runPipeline } from './passes/pipeline.js';
import type { Graph } from './ir/graph.js';
import { getBackend } from './backends/registry.js';
import type { Backend, BuildOptions, OutputFile } from './backends/backend.js';
import { makeManifest, manifestJson, withFiles, type Manifest } from './backends/manifest.js';
import { fail } from './diag/diagnostic.js';

export interface Compiled {
  readonly spec: Spec;
  readonly backend: Backend;
  readonly graph: Graph;
  readonly manifest: Manifest;
  readonly files: readonly OutputFile[];
  readonly dump?: string;
}

/** Spec -> IR as built (before passes), through the model language's stdlib model. */
export function buildGraph(spec: Spec): Graph {
  return buildModel(spec).graph;
}


export async function compile(specPath: string, target: string, options: BuildOptions, dumpAfter?: string): Promise<Compiled> {
  const backend = getBackend(target);
  for (const [key, flag] of [['externalDataThreshold', '--external-data-threshold'], ['opset', '--opset']] as const) {
    if (options[key] !== undefined && !backend.options.includes(key)) fail('cli/option', `${flag} does not apply to the ${target} target`);
  }
  if (!backend.precisions.includes(options.precision)) {
    fail('cli/precision', `target ${target} does not support --precision ${options.precision}`, undefined, `supported: ${backend.precisions.join(', ')}`);
  }
  const spec = loadSpec(specPath);
  const built = buildModel(spec);
  const { graph, dump } = runPipeline(built.graph, { nativeComposites: backend.nativeComposites }, dumpAfter);
  const manifest0 = makeManifest(spec, graph, target, options.precision, backend.entry, built.sources);
  const emitted = await backend.emit({ spec, graph, options, manifest: manifest0 });
  const manifest = withFiles(manifest0, emitted);
  const files = [...emitted, { path: 'manifest.json', contents: manifestJson(manifest) }];
  return { spec, backend, graph, manifest, files, dump };
}

/** writeFileSync, in chunks (one write call takes at most 2 GiB; ViT-H/14's weights are 2.6 GB). */
function writeContents(path: string, contents: string | Uint8Array): void {
  if (typeof contents === 'string' || contents.length < 1 << 30) {
    writeFileSync(path, contents);
    return;
  }
  const fd = openSync(path, 'w');
  try {
    for (let at = 0; at < contents.length;) at += writeSync(fd, contents, at, Math.min(1 << 30, contents.length - at));
  } finally {
    closeSync(fd);
  }
}

/**
 * Write files into `outDir` atomically: everything goes to a temporary sibling directory that is
 * renamed into place, so a failed build never leaves a half-written directory. An existing
 * directory is replaced only if it is empty or a previous vitc build (has manifest.json).
 */
export function writeBuildDir(outDir: string, files: readonly OutputFile[]): void {
  const target = resolve(outDir);
  if (existsSync(target)) {
    const st = statSync(target);
    if (!st.isDirectory()) fail('io/out-dir', `${outDir} exists and is not a directory`);
    const entries = readdirSync(target);
    if (entries.length > 0 && !entries.includes('manifest.json')) {
      fail('io/out-dir', `refusing to replace ${outDir}: it is not empty and not a vitc build directory (no manifest.json)`);
    }
  }
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.vitc-tmp-${basename(target)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    for (const f of files) {
      mkdirSync(dirname(join(tmp, f.path)), { recursive: true });
      writeContents(join(tmp, f.path), f.contents);
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
    throw e;
  }
}
