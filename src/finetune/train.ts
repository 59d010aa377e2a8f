// The tutorial's train_one_epoch and evaluate for the trainable head: batches in a seeded shuffled
// order, cross-entropy, one SGD step per batch; the epoch's loss is the mean of its batch losses and
// its accuracy the share of samples whose first maximum is their label.
import { crossEntropy, headBackward, headForward, type Head } from './head.js';
import { PyRandom } from './pyrandom.js';
import type { Sgd } from './sgd.js';

/** Features [indices.length, D] of the samples at `indices` (computed, cached or augmented). */
export type FeatureBatch = (indices: readonly number[]) => Promise<Float32Array>;

/**
 * The order of the training samples in `epoch`: random.Random((seed << 32) + epoch).shuffle(range(n)),
 * which a Python reference reproduces in one line, and which depends on nothing but (seed, epoch), so a
 * resumed run sees the same batches.
 */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  return new PyRandom((BigInt(seed) << 32n) + BigInt(epoch)).shuffle([...Array(n).keys()]);
}

export interface EpochResult {
  /** Mean of the batch losses (the tutorial's accu_loss / (step + 1)). */
  readonly loss: number;
  readonly accuracy: number;
  /** The loss of every step, in order. */
  readonly steps: readonly number[];
}

/** The batches of `order`, `batchSize` at a time, the last one shorter (drop_last=False). */
export function batches(order: readonly number[], batchSize: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

export interface StepReport {
  readonly step: number;
  readonly steps: number;
  /** Running mean loss and accuracy of the epoch so far. */
  readonly loss: number;
  readonly accuracy: number;
}

export async function trainEpoch(
  head: Head, sgd: Sgd, labels: ArrayLike<number>, order: readonly number[], batchSize: number, lr: number,
  features: FeatureBatch, onStep?: (r: StepReport) => void,
): Promise<EpochResult> {
  const steps: number[] = [];
  let correct = 0, seen = 0;
  const all = batches(order, batchSize);
  for (const [s, idx] of all.entries()) {
    const x = await features(idx);
    const y = idx.map((i) => labels[i]!);
    const acts = headForward(head, x, idx.length);
    const r = crossEntropy(acts.logits, y, idx.length);
    if (!Number.isFinite(r.loss)) throw new NonFiniteLoss(r.loss, s);
    sgd.step(headBackward(head, acts, r.grad, idx.length), lr);
    steps.push(r.loss);
    correct += r.correct;
    seen += idx.length;
    onStep?.({ step: s + 1, steps: all.length, loss: mean(steps), accuracy: correct / seen });
  }
  return { loss: mean(steps), accuracy: correct / seen, steps };
}

/** The tutorial's evaluate: batches in order, no updates. */
export async function evaluate(head: Head, labels: ArrayLike<number>, batchSize: number, features: FeatureBatch): Promise<{ loss: number; accuracy: number }> {
  const losses: number[] = [];
  let correct = 0;
  for (const idx of batches([...Array(labels.length).keys()], batchSize)) {
    const x = await features(idx);
    const r = crossEntropy(headForward(head, x, idx.length).logits, idx.map((i) => labels[i]!), idx.length);
    losses.push(r.loss);
    correct += r.correct;
  }
  return { loss: mean(losses), accuracy: correct / labels.length };
}

/** The tutorial stops with "WARNING: non-finite loss, ending training" when a loss is NaN or infinite. */
export class NonFiniteLoss extends Error {
  constructor(readonly loss: number, readonly step: number) {
    super(`the loss became ${loss} at step ${step + 1}`);
  }
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Rows [i] of a [n, d] matrix, gathered. */
export function gatherRows(x: Float32Array, d: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * d);
  indices.forEach((r, i) => out.set(x.subarray(r * d, (r + 1) * d), i * d));
  return out;
}
