// The head's training against PyTorch (test/fixtures/finetune/sgd-*.json, written by
// tools/golden/make_finetune_fixtures.py): the same features, initial weights and batch order give
// the loss of every step, each epoch's summary and the final weights within 1e-5.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Head, Linear } from './head.js';
import { crossEntropy, headBackward, headForward } from './head.js';
import { cosineFactor, learningRate, Sgd } from './sgd.js';
import { epochOrder, evaluate, gatherRows, trainEpoch } from './train.js';

interface Tensor { shape: number[]; data: number[] }
interface Fixture {
  config: { dim: number; classes: number; representation: number | null; epochs: number; batch_size: number; lr: number; lrf: number; momentum: number; weight_decay: number; seed: number };
  train: { features: number[]; labels: number[] };
  val: { features: number[]; labels: number[] };
  init: Record<string, Tensor>;
  steps: number[];
  epochs: { epoch: number; lr: number; train_loss: number; train_acc: number; val_loss: number; val_acc: number }[];
  final: Record<string, Tensor>;
}

const load = (name: string): Fixture => JSON.parse(readFileSync(`test/fixtures/finetune/${name}.json`, 'utf8')) as Fixture;

function headOf(f: Fixture): Head {
  const names = f.config.representation ? ['pre_logits.fc', 'head'] : ['head'];
  return names.map((name): Linear => {
    const w = f.init[`${name}.weight`]!;
    return { name, out: w.shape[0]!, in: w.shape[1]!, weight: Float32Array.from(w.data), bias: Float32Array.from(f.init[`${name}.bias`]!.data) };
  });
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe.each(['sgd-head', 'sgd-prelogits'])('%s: head training matches torch.optim.SGD + LambdaLR', (name) => {
  it('per step, per epoch and in the final weights, within 1e-5', async () => {
    const f = load(name);
    const c = f.config;
    const head = headOf(f);
    const sgd = new Sgd(head.flatMap((l) => [l.weight, l.bias]), { momentum: c.momentum, weightDecay: c.weight_decay });
    const xt = Float32Array.from(f.train.features), xv = Float32Array.from(f.val.features);
    const steps: number[] = [];
    for (const [e, want] of f.epochs.entries()) {
      const lr = learningRate(c.lr, e, c.epochs, c.lrf);
      expect(lr).toBeCloseTo(want.lr, 12);
      const order = epochOrder(f.train.labels.length, c.seed, e);
      const r = await trainEpoch(head, sgd, f.train.labels, order, c.batch_size, lr, async (idx) => gatherRows(xt, c.dim, idx));
      steps.push(...r.steps);
      expect(Math.abs(r.loss - want.train_loss)).toBeLessThan(1e-5);
      expect(r.accuracy).toBe(want.train_acc);
      const v = await evaluate(head, f.val.labels, c.batch_size, async (idx) => gatherRows(xv, c.dim, idx));
      expect(Math.abs(v.loss - want.val_loss)).toBeLessThan(1e-5);
      expect(v.accuracy).toBe(want.val_acc);
    }
    expect(maxDiff(steps, f.steps)).toBeLessThan(1e-5);
    for (const l of head) {
      expect(maxDiff(l.weight, f.final[`${l.name}.weight`]!.data), `${l.name}.weight`).toBeLessThan(1e-5);
      expect(maxDiff(l.bias, f.final[`${l.name}.bias`]!.data), `${l.name}.bias`).toBeLessThan(1e-5);
    }
  });
});

describe('pieces', () => {
  it('cosine factor: 1 at the start, lrf at the end, the midpoint halfway', () => {
    expect(cosineFactor(0, 100, 0.1)).toBe(1);
    expect(cosineFactor(100, 100, 0.1)).toBeCloseTo(0.1, 15);
    expect(cosineFactor(50, 100, 0.1)).toBeCloseTo(0.55, 15);
  });

  it('the first SGD step sets the momentum buffer to the decayed gradient; later ones accumulate', () => {
    const p = Float32Array.of(1, -2);
    const sgd = new Sgd([p], { momentum: 0.9, weightDecay: 0.5 });
    sgd.step([Float64Array.of(0.25, 1)], 0.1);
    // d = g + 0.5 p = [0.75, 0]; buf = d; p -= 0.1 * buf
    expect([...sgd.buffers![0]!]).toEqual([0.75, 0]);
    expect([...p]).toEqual([Math.fround(1 - 0.075), -2]);
    sgd.step([Float64Array.of(0, 0)], 0.1);
    // d = 0.5 p; buf = 0.9 buf + d
    expect(sgd.buffers![0]![1]).toBeCloseTo(0.9 * 0 + 0.5 * -2, 6);
  });

  it('the backward pass agrees with finite differences through tanh', () => {
    const head: Head = [
      { name: 'pre_logits.fc', in: 3, out: 2, weight: Float32Array.of(0.3, -0.2, 0.5, 0.1, 0.4, -0.6), bias: Float32Array.of(0.05, -0.1) },
      { name: 'head', in: 2, out: 3, weight: Float32Array.of(0.7, -0.3, 0.2, 0.9, -0.5, 0.4), bias: Float32Array.of(0, 0.1, -0.2) },
    ];
    const x = Float32Array.of(1, 2, -1, 0.5, -0.5, 2), labels = [2, 0];
    const loss = () => crossEntropy(headForward(head, x, 2).logits, labels, 2).loss;
    const acts = headForward(head, x, 2);
    const grads = headBackward(head, acts, crossEntropy(acts.logits, labels, 2).grad, 2);
    const params = head.flatMap((l) => [l.weight, l.bias]);
    params.forEach((p, k) => {
      for (let j = 0; j < p.length; j++) {
        const keep = p[j]!, h = 1e-3;
        p[j] = keep + h; const up = loss();
        p[j] = keep - h; const down = loss();
        p[j] = keep;
        // Parameters are float32: the perturbation itself is rounded, so compare with what was applied.
        expect(grads[k]![j]!).toBeCloseTo((up - down) / (Math.fround(keep + h) - Math.fround(keep - h)), 4);
      }
    });
  });
});
