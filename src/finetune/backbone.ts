// The frozen backbone: the spec compiled for a target with the `features` output, run on batches of
// images. While the model runs on one batch, the next batch's images are decoded and transformed.
import { BATCH } from '../ir/types.js';
import type { Precision } from '../backends/backend.js';
import { fail } from '../diag/diagnostic.js';
import { featureTargets } from '../backends/registry.js';
import { openSession, prepare, type Prepared } from '../runner.js';
import type { Session } from '../backends/backend.js';
import { loadSample, type Transform } from './augment.js';
import { batches, type FeatureBatch } from './train.js';

export interface Backbone {
  /** The model input [C, H, W]. */
  readonly input: readonly [number, number, number];
  /** Features per image. */
  readonly dim: number;
  readonly prepared: Prepared;
  /** Features [n, dim] of a normalized input batch [n, C, H, W]. */
  features(input: Float32Array, n: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface BackboneOptions {
  readonly spec: string;
  readonly target: string;
  readonly precision: Precision;
  /** The full state dict the model is built and run with (backbone + a head of the right size). */
  readonly weights: Uint8Array;
  readonly threads: number;
  readonly targetArgs?: Readonly<Record<string, string | true>>;
  readonly info?: (line: string) => void;
  /** Told of the temporary build as soon as it exists (before the runtime loads it), so a signal can remove it. */
  readonly onPrepared?: (p: Prepared) => void;
}

export async function openBackbone(o: BackboneOptions): Promise<Backbone> {
  const prepared = await prepare(o.spec, o.target, { precision: o.precision, seed: 0, features: true, weights: { bytes: o.weights, file: 'weights' }, targetArgs: o.targetArgs });
  o.onPrepared?.(prepared);
  let session: Session;
  try {
    session = await openSession(prepared, o.weights, o.threads, o.info);
  } catch (e) {
    prepared.cleanup();
    throw e;
  }
  const run = session.forwardAll;
  if (!run) {
    await session.close();
    prepared.cleanup();
    return fail('finetune/target', `the ${o.target} target's runner does not return the features`, undefined, `use --target ${featureTargets().join(', ')}`);
  }
  const m = prepared.manifest;
  const at = m.outputs.findIndex((out) => out.name === 'features');
  const [, c, h, w] = m.inputs[0]!.shape as [typeof BATCH, number, number, number];
  return {
    input: [c, h, w],
    dim: m.outputs[at]!.shape[1] as number,
    prepared,
    async features(input, n) {
      return (await run(input, n))[at]!;
    },
    async close() {
      try { await session.close(); } finally { prepared.cleanup(); }
    },
  };
}

/** The normalized input batch of images `indices` of `paths`, decoded in parallel. */
async function inputBatch(b: Backbone, paths: readonly string[], indices: readonly number[], t: Transform, notes: Set<string>): Promise<Float32Array> {
  const [c, h, w] = b.input;
  const per = c * h * w;
  const out = new Float32Array(indices.length * per);
  const got = await Promise.all(indices.map((i, k) => loadSample(paths[i]!, i, t, c, out, k * per)));
  for (const n of got.flat()) notes.add(n);
  return out;
}

/**
 * Features of `paths` under transform `t`, for batches requested in the order of `order` (one batch
 * of `batchSize` at a time): each request starts preparing the next batch's images before running
 * the model on its own.
 */
export function streamFeatures(b: Backbone, paths: readonly string[], order: readonly number[], batchSize: number, t: Transform, notes: Set<string>): FeatureBatch {
  const plan = batches(order, batchSize);
  let next = 0;
  let pending: Promise<Float32Array> | undefined;
  const start = (k: number) => (k < plan.length ? inputBatch(b, paths, plan[k]!, t, notes) : undefined);
  return async (indices) => {
    const k = next++;
    const want = plan[k];
    if (!want || want.length !== indices.length || want.some((v, i) => v !== indices[i])) throw new Error(`feature batch ${k} requested out of order`);
    const input = await (pending ?? start(k)!);
    pending = start(k + 1);
    // A failure while preparing the next batch is reported when that batch is requested.
    pending?.catch(() => {});
    return b.features(input, indices.length);
  };
}

/** Features [paths.length, dim] of every image, in order, under `t`; `onBatch` is told of progress. */
export async function allFeatures(b: Backbone, paths: readonly string[], batchSize: number, t: Transform, notes: Set<string>, onBatch?: (done: number, total: number) => void): Promise<Float32Array> {
  const order = [...paths.keys()];
  const feed = streamFeatures(b, paths, order, batchSize, t, notes);
  const out = new Float32Array(paths.length * b.dim);
  let done = 0;
  for (const idx of batches(order, batchSize)) {
    out.set(await feed(idx), idx[0]! * b.dim);
    done += idx.length;
    onBatch?.(done, paths.length);
  }
  return out;
}
