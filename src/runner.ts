// What `vitc run` does, as a library (the golden tests use exactly this path):
// build a spec into a temporary directory (or take a build directory), bind weights, run batches.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, writeBuildDir } from './compile.js';
import { getBackend } from './backends/registry.js';
import type { Backend, BuildOptions, Session } from './backends/backend.js';
import type { Manifest } from './backends/manifest.js';
import { DiagnosticError, error, fail, fileSpan, type Span } from './diag/diagnostic.js';
import { checkSize, fmtCount, MAX_TENSOR_ELEMENTS } from './limits.js';
import { numel } from './ir/types.js';
import { randomWeights } from './weights/random.js';
import { checkWeights, writeSafetensors } from './weights/safetensors.js';
import { checkManifest } from './backends/manifest-check.js';
import { isDirectory, readTextFile } from './io/files.js';
import { truncate } from './diag/quote.js';

export interface Prepared {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly backend: Backend;
  /** The user's build directory (its files are their input), rather than a temporary build of a spec. */
  readonly userDir: boolean;
  /** Remove the temporary build directory (no-op for a user's build directory). */
  cleanup(): void;
}

export function isBuildDir(path: string): boolean {
  return isDirectory(path) && existsSync(join(path, 'manifest.json'));
}

/** A build directory's manifest.json, checked against the schema and the directory (backends/manifest-check.ts). */
export function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  const text = readTextFile(file, 'manifest');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DiagnosticError([error('build/manifest', `not a vitc build manifest: the file is not JSON (${(e as Error).message.split('\n')[0]})`, fileSpan(file))]);
  }
  return checkManifest(dir, raw);
}

/** A build directory for `specOrDir`: the directory itself, or a fresh temporary build of the spec. */
export async function prepare(specOrDir: string, target: string | undefined, options: BuildOptions): Promise<Prepared> {
  if (isBuildDir(specOrDir)) {
    const manifest = readManifest(specOrDir);
    if (target && target !== manifest.target) fail('run/target', `${specOrDir} was built for ${manifest.target}, not ${target}`, undefined, `rebuild with vitc build --target ${target}`);
    return { dir: specOrDir, manifest, backend: getBackend(manifest.target), userDir: true, cleanup: () => {} };
  }
  const compiled = await compile(specOrDir, target ?? 'js', options);
  const base = mkdtempSync(join(tmpdir(), 'vitc-run-'));
  const dir = join(base, 'build');
  writeBuildDir(dir, compiled.files);
  return { dir, manifest: compiled.manifest, backend: compiled.backend, userDir: false, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/**
 * Refuse a batch whose input, or largest activation, could not be allocated, before allocating
 * anything (`--batch 100000000`). `at`: where the batch came from (an --input file).
 */
export function checkBatch(m: Manifest, batch: number, at?: Span): void {
  const perImage = Math.max(numel(m.inputs[0]!.shape, 1), m.stats.largest_tensor_elements ?? 0);
  checkSize(`batch ${fmtCount(batch)} of ${m.spec.name}: its largest tensor`, batch * perImage, MAX_TENSOR_ELEMENTS, 'elements', 4, at,
    `at most batch ${fmtCount(Math.max(1, Math.floor(MAX_TENSOR_ELEMENTS / perImage)))}`);
}

/** Seeded random weights for a build, as safetensors bytes. */
export function randomWeightsFor(manifest: Manifest, seed: number): Uint8Array {
  return writeSafetensors(randomWeights(manifest.weights, seed));
}

/** Validate user weights against a build (missing names, shapes); returns unused tensor names. */
export function validateWeights(manifest: Manifest, file: string, bytes: Uint8Array): string[] {
  return checkWeights(file, bytes, manifest.weights.map((w) => [w.name, w.shape] as const));
}

/**
 * A deterministic synthetic sample image batch for the model's input: smooth color gradients with a
 * bright disc (a different position per batch item), in [0, 1], normalized with the spec's mean/std.
 */
export function sampleInput(manifest: Manifest, batch: number): Float32Array {
  const [, C, H, W] = manifest.inputs[0]!.shape as [string, number, number, number];
  const mean = manifest.preprocess.mean ?? new Array(C).fill(0.5);
  const std = manifest.preprocess.std ?? new Array(C).fill(0.5);
  const out = new Float32Array(batch * C * H * W);
  for (let b = 0; b < batch; b++) {
    const cx = W * (0.35 + 0.3 * ((b * 0.618) % 1)), cy = H * 0.5, r = Math.min(H, W) * 0.2;
    for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const grad = c % 3 === 0 ? x / W : c % 3 === 1 ? y / H : 0.5 + 0.5 * Math.sin((x + y) / 9);
      const disc = (x - cx) ** 2 + (y - cy) ** 2 < r * r ? 0.8 : 0;
      const v = Math.min(1, 0.6 * grad + disc);
      out[((b * C + c) * H + y) * W + x] = (v - mean[c]!) / std[c]!;
    }
  }
  return out;
}

export async function openSession(p: Prepared, weights: Uint8Array, threads?: number, info?: (line: string) => void): Promise<Session> {
  if (!p.userDir) return p.backend.open({ dir: p.dir, manifest: p.manifest, weights, threads, info });
  // A user's build directory is their input: a model file that does not load (truncated, garbage,
  // edited) is their problem to fix, reported on one line at the file.
  const entry = join(p.dir, p.manifest.entry);
  const asDiagnostic = (what: string) => (e: unknown): never => {
    if (e instanceof DiagnosticError) throw e;
    const msg = (e instanceof Error ? e.message : String(e)).split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
    throw new DiagnosticError([error('build/load', `${what} (${truncate(msg, 300).text})`, fileSpan(entry), 'rebuild it with vitc build')]);
  };
  const session = await p.backend.open({ dir: p.dir, manifest: p.manifest, weights, threads, info }).catch(asDiagnostic(`cannot load the ${p.manifest.target} model`));
  const all = session.forwardAll?.bind(session);
  // What the manifest says the model returns is what predictions, features and --output are read as.
  const checked = (outs: readonly Float32Array[], batch: number): void => outs.forEach((out, i) => {
    const o = p.manifest.outputs[i];
    const want = o ? batch * numel(o.shape, 1) : NaN;
    if (out.length !== want) {
      throw new DiagnosticError([error('build/load', `the model returned ${fmtCount(out.length)} values for batch ${batch}, but manifest.json's output ${o ? `[${o.shape.join(', ')}] has ${fmtCount(want)}` : `list has no output ${i + 1}`}`, fileSpan(entry), 'the build directory is damaged; rebuild it with vitc build')]);
    }
  });
  return {
    forward: async (input, batch) => {
      const out = await session.forward(input, batch).catch(asDiagnostic('the model failed to run'));
      checked([out], batch);
      return out;
    },
    forwardAll: all && (async (input, batch) => {
      const outs = await all(input, batch).catch(asDiagnostic('the model failed to run'));
      checked(outs, batch);
      return outs;
    }),
    close: () => session.close(),
  };
}
