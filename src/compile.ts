// The compiler driver: spec -> IR -> passes -> backend files -> build directory.
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { loadSpec, type Spec } from './spec/load.js';
import { buildModel } from './models/bind.js';
import { runPipeline } from './passes/pipeline.js';
import type { Graph } from './ir/graph.js';
import { BACKENDS, getBackend, parseTargetOptions } from './backends/registry.js';
import { buildKernelProgram, printKernels, type KernelProgram } from './kernel/index.js';
import type { Backend, BuildOptions, OutputFile } from './backends/backend.js';
import { makeManifest, manifestJson, withFiles, type Manifest } from './backends/manifest.js';
import { fail } from './diag/diagnostic.js';

export interface Compiled {
  readonly spec: Spec;
  readonly backend: Backend;
  readonly graph: Graph;
  readonly kernels?: KernelProgram;
  readonly manifest: Manifest;
  readonly files: readonly OutputFile[];
  readonly dump?: string;
}

/** Spec -> IR as built (before passes), through the model language's stdlib model. */
export function buildGraph(spec: Spec): Graph {
  return buildModel(spec).graph;
}


export async function compile(specPath: string, target: string, options: BuildOptions, dumpAfter?: string, dumpKernels = false): Promise<Compiled> {
  const backend = getBackend(target);
  const targetOptions = parseTargetOptions(backend, options.targetArgs ?? {});
  if (!backend.precisions.includes(options.precision)) {
    fail('cli/precision', `target ${target} does not support --precision ${options.precision}`, undefined, `supported: ${backend.precisions.join(', ')}`);
  }
  const spec = loadSpec(specPath);
  const built = buildModel(spec);
  const { graph, dump } = runPipeline(built.graph, { nativeComposites: backend.capabilities.nativeComposites }, dumpAfter);
  const kernels = backend.consumes === 'kernels'
    ? buildKernelProgram(graph, { precision: options.precision, lnPrologue: backend.capabilities.lnPrologue ?? false })
    : undefined;
  if (dumpKernels && !kernels) fail('cli/dump-kernels', `--dump-kernels: the ${target} target renders the graph, not a KernelProgram`, undefined, `targets with kernels: ${BACKENDS.filter((b) => b.consumes === 'kernels').map((b) => b.name).join(', ')}`);
  const manifest0 = makeManifest(spec, graph, target, options.precision, backend.entry, built.sources);
  const emitted = await backend.emit({ spec, graph, kernels, options, targetOptions, manifest: manifest0 });
  const manifest = withFiles(manifest0, emitted);
  const files = [...emitted, { path: 'manifest.json', contents: manifestJson(manifest) }];
  return { spec, backend, graph, kernels, manifest, files, dump: dumpKernels && kernels ? (dump ?? '') + printKernels(kernels) : dump };
}

/** writeFileSync, in chunks (one write call takes at most 2 GiB; ViT-H/14's weights are 2.6 GB). */
export function writeContents(path: string, contents: string | Uint8Array): void {
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
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { format?: unknown; files?: { path?: unknown }[] };
    if (m === null || typeof m !== 'object' || m.format !== 'vitc-build/1' || !Array.isArray(m.files)) throw new Error('not a vitc manifest');
    listed = new Set(m.files.map((f) => String(f?.path).split('/')[0]!));
  } catch {
    return 'it is not empty and not a vitc build directory';
  }
  const foreign = entries.filter((e) => e !== 'manifest.json' && !listed.has(e));
  return foreign.length ? `it is a vitc build but also holds ${foreign.slice(0, 3).map((f) => JSON.stringify(f)).join(', ')}${foreign.length > 3 ? ', ...' : ''}, which vitc did not write` : undefined;
}

/**
 * Write files into `outDir` atomically: everything goes to a temporary sibling directory that is
 * renamed into place, so a failed build never leaves a half-written directory. An existing
 * directory is replaced only when whyNotReplaceable() allows it.
 */
export function writeBuildDir(outDir: string, files: readonly OutputFile[]): void {
  if (outDir.trim() === '') fail('io/out-dir', 'the output directory is empty', undefined, 'give -o a directory name, e.g. -o out/model');
  const target = resolve(outDir);
  const why = whyNotReplaceable(target);
  if (why) fail('io/out-dir', `refusing to write the build to ${outDir}: ${why}`, undefined, 'choose a new or empty directory, or remove it first');
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
