// `vitc finetune`: the tutorial's training run with a frozen backbone. The backbone is the spec
// compiled for a target with the `features` output; the head (and pre_logits) trains in TypeScript.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Precision } from '../backends/backend.js';
import { checkBuildOptions } from '../compile.js';
import { fail, fileSpan, formatDiagnostic, note } from '../diag/diagnostic.js';
import { planPreprocess } from '../image/transforms.js';
import { importWeights } from '../import/index.js';
import { params } from '../ir/graph.js';
import { buildModel } from '../models/bind.js';
import { featuresSite } from '../models/features.js';
import { parseSafetensors, type StTensor } from '../runtime/safetensors.js';
import { loadSpec, type Spec } from '../spec/load.js';
import { ttyProgress, ttyStatus } from '../util/progress.js';
import { writeFileAtomic } from '../io/files.js';
import { randomTensor } from '../weights/random.js';
import { writeSafetensorsRaw, type StoredTensor } from '../weights/safetensors.js';
import type { Transform } from './augment.js';
import { allFeatures, openBackbone, streamFeatures, type Backbone } from './backbone.js';
import type { Prepared } from '../runner.js';
import { cacheKey, readCached, writeCached } from './cache.js';
import { headParams, type Head } from './head.js';
import { learningRate, Sgd } from './sgd.js';
import { classIndicesJson, readSplitData, type Split } from './split.js';
import {
  BEST_FILE, CACHE_DIR, CLASS_INDICES_FILE, STATE_FILE, checkRunDir, configDifferences, readState, writeState,
  type EpochRow, type RunConfig, type RunState,
} from './state.js';
import { epochOrder, evaluate, gatherRows, NonFiniteLoss, trainEpoch } from './train.js';

export interface FinetuneOptions {
  readonly spec: string;
  readonly weights: string;
  readonly key?: string;
  readonly data: string;
  readonly out: string;
  readonly target: string;
  readonly precision: Precision;
  readonly targetArgs?: Readonly<Record<string, string | true>>;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly lrf: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly seed: number;
  readonly augment: boolean;
  readonly resume: boolean;
  readonly threads: number;
}

export interface FinetuneIo {
  out(s: string): void;
  err(s: string): void;
  /** Where the progress line goes (stderr); none when it is not a terminal. */
  readonly tty?: NodeJS.WriteStream;
  /**
   * Stop cleanly on Ctrl-C (SIGINT) and SIGTERM: remove the temporary build of the backbone, say what
   * the run directory keeps, exit 130 (the command line sets this; a library caller handles its own).
   */
  readonly handleSignals?: boolean;
}

export interface FinetuneResult {
  readonly rows: readonly EpochRow[];
  readonly best?: { readonly epoch: number; readonly val_acc: number };
}

/** The trainable layers and their parameter shapes, read off the model the spec builds. */
function trainableLayers(spec: Spec): { names: string[]; shapes: Map<string, readonly number[]>; all: { name: string; shape: readonly number[] }[] } {
  if (spec.config.distilled) {
    fail('finetune/distilled', 'vitc finetune trains head and pre_logits on the class token\'s features, but a distilled model\'s second head (head_dist) reads the distillation token', spec.spans.value('/distilled'), 'fine-tune a model without distilled: true');
  }
  const { graph } = buildModel(spec);
  const site = featuresSite(graph);
  if (!site) return fail('finetune/no-head', `${spec.config.name} has no head layer to train`, fileSpan(spec.file));
  const names = site.layer === 'pre_logits.fc' ? ['pre_logits.fc', 'head'] : ['head'];
  const all = params(graph).map((p) => ({ name: p.attrs.name, shape: p.attrs.shape as number[] }));
  const shapes = new Map(all.map((p) => [p.name, p.shape]));
  for (const n of names) {
    if (!shapes.has(`${n}.weight`) || !shapes.has(`${n}.bias`)) fail('finetune/no-head', `${spec.config.name}'s ${n} has no ${shapes.has(`${n}.weight`) ? 'bias' : 'weight'}`, fileSpan(spec.file));
  }
  return { names, shapes, all };
}

const isTrainable = (name: string, layers: readonly string[]) => layers.some((l) => name === `${l}.weight` || name === `${l}.bias`);

/** The tutorial's _init_vit_weights for a fresh Linear: trunc_normal_(std=.01) weights, zero biases (seeded). */
function freshHead(layers: readonly string[], shapes: Map<string, readonly number[]>, seed: number): Head {
  return layers.map((name) => {
    const [out, inp] = shapes.get(`${name}.weight`) as [number, number];
    return { name, out, in: inp, weight: randomTensor(`${name}.weight`, [out, inp], { kind: 'normal', std: 0.01 }, seed), bias: new Float32Array(out) };
  });
}

function headFromState(layers: readonly string[], shapes: Map<string, readonly number[]>, s: RunState, file: string): Head {
  return layers.map((name) => {
    const [out, inp] = shapes.get(`${name}.weight`) as [number, number];
    const w = s.params.find((p) => p.name === `${name}.weight`), b = s.params.find((p) => p.name === `${name}.bias`);
    if (!w || !b || w.data.length !== out * inp || b.data.length !== out) fail('finetune/state', `the saved run has no ${name} of shape [${out}, ${inp}]`, fileSpan(file), 'start a new run in another directory');
    return { name, out, in: inp, weight: w.data.slice(), bias: b.data.slice() };
  });
}

/** The model's full state dict: the imported backbone tensors as they are, the head in float32. */
function fullStateDict(backbone: ReadonlyMap<string, StTensor>, head: Head): Uint8Array {
  const tensors: StoredTensor[] = [...backbone].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, bytes: t.bytes }));
  for (const p of headParams(head)) tensors.push({ name: p.name, dtype: 'F32', shape: p.shape, bytes: new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength) });
  return writeSafetensorsRaw(tensors);
}

function dataDigest(split: Split): string {
  const h = createHash('sha256');
  for (const s of [...split.train, ...split.val]) h.update(`${resolve(s.path)}\t${s.label}\n`);
  return h.digest('hex');
}

const fmt = (x: number, d = 4) => x.toFixed(d);

/** A path with its existing part's symbolic links resolved (the rest may not exist yet). */
function realPath(path: string): string {
  const abs = resolve(path);
  const parent = dirname(abs);
  try { return realpathSync(abs); } catch { return parent === abs ? abs : join(realPath(parent), basename(abs)); }
}

/** The run's folder inside --data would be read as a class folder by the next run, and by --resume. */
function checkOutsideData(out: string, data: string): void {
  const o = realPath(out), d = realPath(data);
  if (o === d || o.startsWith(d + sep)) {
    fail('finetune/out-dir', `the run's folder ${out} is ${o === d ? 'the --data folder itself' : `inside --data ${data}, where --resume and later runs would read it as a class folder`}`, undefined, `choose an -o outside ${data}, e.g. -o ${join(data, '..', 'runs', basename(d))}`);
  }
}

export async function finetune(o: FinetuneOptions, io: FinetuneIo): Promise<FinetuneResult> {
  // 1. Everything the user gave is checked before any work or any file is written.
  checkBuildOptions(o.target, { precision: o.precision, features: true, targetArgs: o.targetArgs });
  const spec = loadSpec(o.spec);
  const { names: layers, shapes, all } = trainableLayers(spec);
  const split = readSplitData(o.data);
  // Lines for stderr, printed once everything is checked (an error is then the only line).
  const info = split.warnings.map(formatDiagnostic);
  const classes = shapes.get('head.weight')![0]!;
  if (classes !== split.classes.length) {
    const n = split.classes.length;
    // The value may come from a base spec (an ImageNet head): the edit belongs in the user's own spec.
    const at = spec.spans.value('/num_classes');
    const hint = at.file === spec.file ? `set num_classes: ${n}` : `set num_classes: ${n} in ${spec.file}; this value comes from ${at.file}, which it extends`;
    fail('finetune/classes', `num_classes is ${classes}, but ${o.data} has ${n} class folders (${split.classes.slice(0, 6).join(', ')}${n > 6 ? ', ...' : ''})`, at, hint);
  }
  checkOutsideData(o.out, o.data);
  checkRunDir(o.out, o.resume);
  const backboneWeights = all.filter((p) => !isTrainable(p.name, layers));
  const imported = await importWeights(o.weights, {
    key: o.key,
    model: { specName: spec.config.name, weights: backboneWeights, imageSize: spec.config.img_size, spanOf: (k) => spec.spans.value(`/${k}`) },
    progress: io.tty ? ttyProgress(`reading ${basename(o.weights)}`, io.tty) : undefined,
  });
  info.push(...imported.notes.map(formatDiagnostic));
  const tensors = parseSafetensors(imported.bytes);
  const replaced = Object.keys(tensors).filter((n) => /^(head|pre_logits)\./.test(n));
  if (replaced.length) info.push(formatDiagnostic(note('finetune/fresh-head', `${replaced.map((n) => `${n} [${tensors[n]!.shape.join(', ')}]`).join(', ')} from the weights ${replaced.length > 1 ? 'are' : 'is'} not used: the trained layers start fresh, as the tutorial's do`, fileSpan(o.weights))));
  const backbone = new Map(backboneWeights.map((w) => [w.name, tensors[w.name]!]));

  const config: RunConfig = {
    spec: { name: spec.config.name, sha256: spec.hash },
    weights_sha256: createHash('sha256').update(imported.bytes).digest('hex'),
    target: o.target, precision: o.precision,
    data_sha256: dataDigest(split), classes: split.classes,
    epochs: o.epochs, batch_size: o.batchSize, lr: o.lr, lrf: o.lrf, momentum: o.momentum, weight_decay: o.weightDecay,
    seed: o.seed, augment: o.augment,
  };
  let state: RunState | undefined;
  if (o.resume) {
    state = readState(o.out);
    const diff = configDifferences(state.config, config);
    if (diff.length) fail('finetune/resume', `--resume: the run in ${o.out} was made with ${diff.join(', ')}`, undefined, 'resume with the same settings, or start a new run in another directory');
    if (state.rows.length >= o.epochs) {
      io.out(`${o.out}: all ${o.epochs} epochs are done; best val acc ${fmt(state.best?.val_acc ?? 0, 3)} at epoch ${state.best ? state.best.epoch + 1 : '-'} (${join(o.out, BEST_FILE)})`);
      return { rows: state.rows, best: state.best };
    }
  }
  const head = state ? headFromState(layers, shapes, state, join(o.out, STATE_FILE)) : freshHead(layers, shapes, o.seed);
  const init = state?.init ?? headParams(head).map((p) => ({ ...p, data: p.data.slice() }));
  const trained = head.flatMap((l) => [l.weight, l.bias]);
  const sgd = new Sgd(trained, { momentum: o.momentum, weightDecay: o.weightDecay }, state?.momentum?.map((m) => m.slice()));

  for (const line of info) io.err(line);
  io.err(`${o.data}: ${split.counts.reduce((a, b) => a + b, 0)} images in ${split.classes.length} classes: ${split.train.length} for training, ${split.val.length} for validation`);
  io.err(`training ${headParams(head).map((p) => `${p.name} [${p.shape.join(', ')}]`).join(', ')}; the rest of ${spec.config.name} frozen, run on ${o.target} (${o.precision})`);

  // 2. The backbone, and the features that do not change between epochs.
  const status = io.tty ? ttyStatus(io.tty) : undefined;
  let finished = state?.rows.length ?? 0;
  // From the moment the backbone's temporary build exists (its compile for the runtime, nvcc for
  // cuda, can take minutes) until it is removed, a signal removes it too.
  let build: Prepared | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    status?.clear();
    build?.cleanup();
    io.err(`vitc finetune: stopped by ${signal}; ${finished ? `${o.out} keeps the state after epoch ${finished}: continue with --resume` : 'no epoch had finished'}`);
    process.exit(130);
  };
  const signals = ['SIGINT', 'SIGTERM'] as const;
  if (io.handleSignals) for (const sig of signals) process.once(sig, onSignal);
  let model: Backbone;
  try {
    model = await openBackbone({
      spec: o.spec, target: o.target, precision: o.precision, weights: fullStateDict(backbone, head), threads: o.threads, targetArgs: o.targetArgs,
      info: (line) => io.err(line), onPrepared: (p) => { build = p; },
    });
  } catch (e) {
    for (const sig of signals) process.off(sig, onSignal);
    throw e;
  }
  const notes = new Set<string>();
  const printed = new Set<string>();
  const flushNotes = () => { for (const n of notes) if (!printed.has(n)) { printed.add(n); status?.clear(); io.err(n); } };
  try {
    if (model.dim !== head[0]!.in) throw new Error(`the features output has ${model.dim} values per image; ${head[0]!.name} takes ${head[0]!.in}`);
    const [c, h, w] = model.input;
    const plan = planPreprocess(spec.config.preprocess, [h, w], c, (k) => spec.spans.value(`/${k}`));
    const evalT: Transform = { kind: 'eval', plan };
    const cacheDir = join(o.out, CACHE_DIR);
    const cacheParts = { spec: spec.hash, weights: config.weights_sha256, target: o.target, precision: o.precision, targetArgs: o.targetArgs ?? {}, plan };
    const trainPaths = split.train.map((s) => s.path), valPaths = split.val.map((s) => s.path);
    const trainLabels = split.train.map((s) => s.label), valLabels = split.val.map((s) => s.label);
    const fixed = async (name: string, paths: readonly string[]): Promise<Float32Array> => {
      const key = cacheKey(cacheParts, paths);
      const hit = readCached(cacheDir, name, key, paths.length, model.dim);
      if (hit) { io.err(`${name} features: from ${join(cacheDir, `${name}-${key}.safetensors`)}`); return hit; }
      const t0 = performance.now();
      const f = await allFeatures(model, paths, o.batchSize, evalT, notes, (done, total) => status?.update(`${name} features: ${done}/${total} images`, done === total));
      status?.clear();
      flushNotes();
      writeCached(cacheDir, name, key, f, paths.length, model.dim);
      io.err(`${name} features: ${paths.length} images in ${((performance.now() - t0) / 1000).toFixed(1)} s (${((performance.now() - t0) / paths.length).toFixed(0)} ms/image), cached`);
      return f;
    };
    const valFeatures = await fixed('val', valPaths);
    const trainFeatures = o.augment ? undefined : await fixed('train', trainPaths);

    // 3. The epochs.
    const rows: EpochRow[] = [...(state?.rows ?? [])];
    const steps: (readonly number[])[] = [...(state?.steps ?? [])];
    let best = state?.best;
    for (let epoch = rows.length; epoch < o.epochs; epoch++) {
      const t0 = performance.now();
      const lr = learningRate(o.lr, epoch, o.epochs, o.lrf);
      const order = epochOrder(trainPaths.length, o.seed, epoch);
      const feed = trainFeatures
        ? async (idx: readonly number[]) => gatherRows(trainFeatures, model.dim, idx)
        : streamFeatures(model, trainPaths, order, o.batchSize, { kind: 'train', plan, size: [h, w], seed: o.seed, epoch }, notes);
      let r;
      try {
        r = await trainEpoch(head, sgd, trainLabels, order, o.batchSize, lr, feed, (s) => {
          status?.update(`[train epoch ${epoch + 1}/${o.epochs}] step ${s.step}/${s.steps}  loss ${fmt(s.loss, 3)}  acc ${fmt(s.accuracy, 3)}  lr ${lr.toPrecision(4)}`, s.step === s.steps);
        });
      } catch (e) {
        if (e instanceof NonFiniteLoss) {
          status?.clear();
          fail('finetune/non-finite', `${e.message} of epoch ${epoch + 1}: training stopped${rows.length ? ` (${o.out} keeps the state after epoch ${rows.length})` : ''}`, undefined, 'try a lower --lr');
        }
        throw e;
      }
      flushNotes();
      const v = await evaluate(head, valLabels, o.batchSize, async (idx) => gatherRows(valFeatures, model.dim, idx));
      const row: EpochRow = { epoch, train_loss: r.loss, train_acc: r.accuracy, val_loss: v.loss, val_acc: v.accuracy, lr, seconds: (performance.now() - t0) / 1000 };
      rows.push(row);
      steps.push(r.steps);
      const improved = !best || v.accuracy > best.val_acc;
      if (improved) {
        best = { epoch, val_acc: v.accuracy };
        writeFileAtomic(join(o.out, BEST_FILE), fullStateDict(backbone, head), 'the best weights');
      }
      writeFileAtomic(join(o.out, CLASS_INDICES_FILE), classIndicesJson(split.classes), 'class_indices.json');
      writeState(o.out, { config, rows, steps, best, init, params: headParams(head), momentum: sgd.buffers });
      finished = rows.length;
      status?.clear();
      io.out(`epoch ${epoch + 1}/${o.epochs}: train loss ${fmt(r.loss)} acc ${fmt(r.accuracy, 3)}, val loss ${fmt(v.loss)} acc ${fmt(v.accuracy, 3)}, lr ${lr.toPrecision(4)} (${row.seconds.toFixed(1)} s)${improved ? ' best' : ''}`);
    }
    io.out(`${join(o.out, BEST_FILE)}: val acc ${fmt(best!.val_acc, 3)} at epoch ${best!.epoch + 1}; predict with: vitc run ${o.spec} --weights ${join(o.out, BEST_FILE)} --labels ${join(o.out, CLASS_INDICES_FILE)} --image PHOTO.jpg`);
    return { rows, best };
  } catch (e) {
    status?.clear();
    throw e;
  } finally {
    await model.close();
    for (const sig of signals) process.off(sig, onSignal);
  }
}
