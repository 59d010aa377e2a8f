// Benchmark, not a test: one epoch of `vitc finetune` with ViT-B/16 on ONNX (onnxruntime-node, the
// CPU) on a generated folder of 500 photo-sized images (5 classes x 100: 400 for training, 100 for
// validation), with augmentation (every training image through the backbone) and with --no-augment
// (features computed once, the epoch on cached features), side by side with its peer, the PyTorch
// tutorial's own epoch (bench/finetune_torch.py: torchvision transforms, DataLoader, the frozen model
// in torch). ROUNDS rounds (default 3), the two in alternating order; medians and their ratio.
// Then the parts (decoding + transforms per image, the backbone per image at batch 16) and what a
// full flower_photos run (3,670 images, 10 epochs) takes here, and an estimate for a GPU.
// `npm run bench:finetune` (ROUNDS= to change the rounds; IMAGES= the folder's size, a multiple of 5
// from 25, default 500: IMAGES=25 ROUNDS=1 is a smoke run that checks the benchmark runs through).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { main as vitcMain } from '../src/cli/main.js';
import { finetune, type FinetuneOptions } from '../src/finetune/run.js';
import { loadSample, type Transform } from '../src/finetune/augment.js';
import { readSplitData } from '../src/finetune/split.js';
import { openBackbone } from '../src/finetune/backbone.js';
import { planPreprocess } from '../src/image/transforms.js';
import { loadSpec } from '../src/spec/load.js';
import { makeImageFolder } from '../test/image-folder.js';
import { parseSafetensors } from '../src/runtime/safetensors.js';
import { writeSafetensorsRaw } from '../src/weights/safetensors.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const IMAGES = Number(process.env.IMAGES ?? 500);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`ROUNDS must be a positive integer; got ${process.env.ROUNDS}`);
// Five classes, and at least one validation image per class (read_split_data keeps int(n * 0.2)).
if (!Number.isInteger(IMAGES) || IMAGES < 25 || IMAGES % 5) throw new Error(`IMAGES must be a multiple of 5 from 25; got ${process.env.IMAGES}`);
const WORK = resolve('bench/.work');
const DATA = join(WORK, `finetune-${IMAGES}`);
const SPEC = join(WORK, 'flowers-b16.yaml');
const WEIGHTS = join(WORK, 'vit-b16-in21k.safetensors');
const PY = '/usr/bin/python3';
const THREADS = availableParallelism();
const BATCH = 16;
mkdirSync(WORK, { recursive: true });

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const log = (s: string) => process.stderr.write(`${s}\n`);

async function vitc(...args: string[]): Promise<void> {
  const err: string[] = [];
  const code = await vitcMain(args, { out: () => {}, err: (s) => err.push(s) });
  if (code !== 0) throw new Error(`vitc ${args.join(' ')}: ${err.join('\n')}`);
}

/** One vitc finetune epoch in a fresh run directory: seconds of the validation features and of the epoch. */
async function vitcEpoch(augment: boolean): Promise<{ features: Record<string, number>; epoch: number; out: string }> {
  const out = mkdtempSync(join(WORK, 'run-'));
  rmSync(out, { recursive: true });
  const features: Record<string, number> = {};
  const o: FinetuneOptions = {
    spec: SPEC, weights: WEIGHTS, data: DATA, out, target: 'onnx', precision: 'fp32', epochs: 1, batchSize: BATCH,
    lr: 0.01, lrf: 0.1, momentum: 0.9, weightDecay: 4e-5, seed: 0, augment, resume: false, threads: THREADS,
  };
  const r = await finetune(o, {
    out: () => {},
    err: (s) => { const m = /^(train|val) features: \d+ images in ([\d.]+) s/.exec(s); if (m) features[m[1]!] = Number(m[2]); },
  });
  return { features, epoch: r.rows[0]!.seconds, out };
}

function torchEpoch(weights: string): { train: number; val: number; workers: number } {
  const r = spawnSync(PY, ['bench/finetune_torch.py', SPEC, weights, DATA, '--batch-size', String(BATCH), '--threads', String(THREADS)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`bench/finetune_torch.py failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { train_s: number; val_s: number; workers: number };
  return { train: j.train_s, val: j.val_s, workers: j.workers };
}

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    log(`generating ${DATA} (${IMAGES} images, 5 classes)`);
    await makeImageFolder(DATA, { classes: ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'], perClass: IMAGES / 5, minSide: 240, maxSide: 500, seed: 2024 });
  }
  writeFileSync(SPEC, `name: flowers-b16\nextends: ${resolve('spec/vit-b16-in21k.yaml')}\nnum_classes: 5\nrepresentation_size: null\n`);
  if (!existsSync(WEIGHTS)) { log('writing random ViT-B/16 in21k weights'); await vitc('weights', 'spec/vit-b16-in21k.yaml', '-o', WEIGHTS); }
  const split = readSplitData(DATA);
  const nTrain = split.train.length, nVal = split.val.length;
  log(`${nTrain} training and ${nVal} validation images; ${THREADS} threads; ${cpus()[0]?.model ?? 'unknown CPU'}`);

  // The full state dict the PyTorch peer loads: the backbone, and a 5-class head (its values do not matter for timing).
  const torchWeights = join(WORK, 'flowers-b16-full.safetensors');
  if (!existsSync(torchWeights)) {
    const t = parseSafetensors(readFileSync(WEIGHTS));
    const keep = Object.entries(t).filter(([n]) => !/^(head|pre_logits)\./.test(n)).map(([name, x]) => ({ name, dtype: x.dtype, shape: x.shape, bytes: x.bytes }));
    const head = [{ name: 'head.weight', shape: [5, 768], data: new Float32Array(5 * 768).fill(0.01) }, { name: 'head.bias', shape: [5], data: new Float32Array(5) }];
    writeFileSync(torchWeights, writeSafetensorsRaw([...keep, ...head.map((h) => ({ name: h.name, dtype: 'F32' as const, shape: h.shape, bytes: new Uint8Array(h.data.buffer) }))]));
  }

  const v: { val: number; train: number }[] = [], t: { val: number; train: number }[] = [];
  let workers = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ['torch', 'vitc'] : ['vitc', 'torch'];
    for (const who of order) {
      if (who === 'vitc') {
        const r = await vitcEpoch(true);
        rmSync(r.out, { recursive: true });
        v.push({ val: r.features.val!, train: r.epoch });
        log(`round ${round + 1}: vitc   train ${r.epoch.toFixed(1)} s, val features ${r.features.val!.toFixed(1)} s`);
      } else {
        const r = torchEpoch(torchWeights);
        workers = r.workers;
        t.push({ val: r.val, train: r.train });
        log(`round ${round + 1}: torch  train ${r.train.toFixed(1)} s, val ${r.val.toFixed(1)} s`);
      }
    }
  }
  log('vitc --no-augment: features once, then an epoch on them');
  const cached = await vitcEpoch(false);
  rmSync(cached.out, { recursive: true });

  // The parts: decoding + transforms per image, and the backbone per image at batch 16.
  const spec = loadSpec(SPEC);
  const plan = planPreprocess(spec.config.preprocess, [224, 224], 3);
  const buf = new Float32Array(3 * 224 * 224);
  const prep = async (t: Transform) => {
    const t0 = performance.now();
    for (const [i, s] of split.val.entries()) await loadSample(s.path, i, t, 3, buf, 0);
    return (performance.now() - t0) / split.val.length;
  };
  const prepVal = await prep({ kind: 'eval', plan });
  const prepTrain = await prep({ kind: 'train', plan, size: [224, 224], seed: 0, epoch: 0 });
  const bb = await openBackbone({ spec: SPEC, target: 'onnx', precision: 'fp32', weights: readFileSync(torchWeights), threads: THREADS });
  const x = new Float32Array(BATCH * 3 * 224 * 224).fill(0.1);
  const fwd: number[] = [];
  await bb.features(x, BATCH);
  for (let i = 0; i < 3; i++) { const t0 = performance.now(); await bb.features(x, BATCH); fwd.push((performance.now() - t0) / BATCH); }
  await bb.close();

  const vTrain = median(v.map((r) => r.train)), vVal = median(v.map((r) => r.val));
  const tTrain = median(t.map((r) => r.train)), tVal = median(t.map((r) => r.val));
  const perTrain = (vTrain * 1000) / nTrain, perVal = (vVal * 1000) / nVal;
  const tPerTrain = (tTrain * 1000) / nTrain, tPerVal = (tVal * 1000) / nVal;
  const featAll = (cached.features.train! + cached.features.val!) * 1000 / (nTrain + nVal);
  const fwdMs = median(fwd);
  // flower_photos: 633, 898, 641, 699, 799 images; read_split_data keeps int(n * 0.2) of each for validation.
  const F_TRAIN = 2939, F_VAL = 731, EPOCHS = 10;
  const hours = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${(s / 60).toFixed(0)} min`);
  // A GPU range whose bounds round to the same figure prints as one figure ("9 min", not "9 min-9 min").
  const span = ([lo, hi]: readonly number[]) => (hours(lo!) === hours(hi!) ? `about ${hours(lo!)}` : `${hours(lo!)}-${hours(hi!)}`);
  const augmentHere = (F_VAL * perVal + EPOCHS * F_TRAIN * perTrain) / 1000;
  const cachedHere = ((F_TRAIN + F_VAL) * featAll) / 1000 + EPOCHS * cached.epoch * (F_TRAIN / nTrain);
  const torchHere = (EPOCHS * (F_TRAIN * tPerTrain + F_VAL * tPerVal)) / 1000;
  // GPU estimate (no GPU here): ViT-B/16 is 17.6 GMACs = 35 GFLOP per image; the cuda target's fp16
  // mma.sync GEMMs at an assumed 30-60 % of an A100's 312 TFLOP/s is 0.2-0.4 ms per image, so the
  // per-image cost becomes the decoding and transforms, which run on the CPU as measured here.
  const gpuFwd = [0.19, 0.38];
  const gpuAugment = gpuFwd.map((g) => (F_VAL * Math.max(prepVal, g) + EPOCHS * F_TRAIN * Math.max(prepTrain, g)) / 1000);
  const gpuCached = gpuFwd.map((g) => ((F_TRAIN + F_VAL) * Math.max(prepVal, g)) / 1000);

  const lines = [
    `vitc finetune, ViT-B/16 on onnx (${THREADS} threads), ${nTrain} + ${nVal} generated images (240-500 px), batch ${BATCH}; medians of ${ROUNDS} interleaved rounds`,
    '',
    '| one epoch | vitc | PyTorch tutorial | vitc / PyTorch |',
    '|---|---|---|---|',
    `| training, augmented (${nTrain} images) | ${vTrain.toFixed(1)} s (${perTrain.toFixed(0)} ms/image) | ${tTrain.toFixed(1)} s (${tPerTrain.toFixed(0)} ms/image) | ${(vTrain / tTrain).toFixed(2)} |`,
    `| validation (${nVal} images) | ${vVal.toFixed(1)} s (${perVal.toFixed(0)} ms/image), once: cached | ${tVal.toFixed(1)} s (${tPerVal.toFixed(0)} ms/image), every epoch | ${(vVal / tVal).toFixed(2)} |`,
    `| --no-augment: features of all ${nTrain + nVal} images, once | ${((cached.features.train! + cached.features.val!)).toFixed(1)} s (${featAll.toFixed(0)} ms/image) | | |`,
    `| --no-augment: an epoch on cached features | ${(cached.epoch * 1000).toFixed(0)} ms | | |`,
    '',
    `parts: decoding + train transform ${prepTrain.toFixed(1)} ms/image, + val transform ${prepVal.toFixed(1)} ms/image (one thread); backbone forward ${fwdMs.toFixed(0)} ms/image at batch ${BATCH}`,
    `PyTorch: DataLoader with ${workers} workers (the tutorial's min(cpus, batch, 8)), torch threads ${THREADS}`,
    '',
    `flower_photos (${F_TRAIN} + ${F_VAL} images), ${EPOCHS} epochs, here: vitc ${hours(augmentHere)} augmented, ${hours(cachedHere)} with --no-augment; the PyTorch tutorial ${hours(torchHere)}`,
    `on a GPU with -t cuda (an estimate, not measured here; bench/gpu/run.sh's finetune step measures the backbone on a GPU: the backbone at ${gpuFwd[0]}-${gpuFwd[1]} ms/image, from 35 GFLOP per image at 30-60 % of 312 TFLOP/s fp16; the CPU's decoding and transforms as measured here, which then dominate): ${span(gpuAugment)} augmented, ${span(gpuCached)} with --no-augment`,
  ];
  console.log(lines.join('\n'));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/finetune.json', JSON.stringify({ rounds: ROUNDS, threads: THREADS, vitc: v, torch: t, cached, prepTrain, prepVal, forwardMsPerImage: fwd }, null, 1) + '\n');
}

await main();
