// What a fine-tuning run keeps in its output directory, each file written whole (a temporary file
// renamed into place):
//   state.json          the run's settings, every finished epoch's row, the best epoch, and the
//                       trainable parameters with their momentum buffers after the last epoch
//                       (float32, base64): what --resume continues from
//   log.csv             one row per epoch: loss, accuracy, learning rate, seconds
//   steps.csv           the loss of every step (the tutorial's progress bar, kept)
//   best.safetensors    the full state dict (backbone + trained head) of the best validation accuracy
//   class_indices.json  as the tutorial writes it
//   cache/              features computed once (validation; training with --no-augment)
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail, fileSpan } from '../diag/diagnostic.js';
import { checkDirectoryWritable, readTextFile, writeFileAtomic } from '../io/files.js';

export const STATE_FILE = 'state.json';
export const LOG_FILE = 'log.csv';
export const STEPS_FILE = 'steps.csv';
export const BEST_FILE = 'best.safetensors';
export const CLASS_INDICES_FILE = 'class_indices.json';
export const CACHE_DIR = 'cache';
const OWN = new Set([STATE_FILE, LOG_FILE, STEPS_FILE, BEST_FILE, CLASS_INDICES_FILE, CACHE_DIR]);

/** Everything that must be the same for --resume to continue a run. */
export interface RunConfig {
  readonly spec: { readonly name: string; readonly sha256: string };
  /** sha256 of the backbone weights as imported. */
  readonly weights_sha256: string;
  readonly target: string;
  readonly precision: string;
  /** sha256 of the split: every sample's path and label, training then validation. */
  readonly data_sha256: string;
  readonly classes: readonly string[];
  readonly epochs: number;
  readonly batch_size: number;
  readonly lr: number;
  readonly lrf: number;
  readonly momentum: number;
  readonly weight_decay: number;
  readonly seed: number;
  readonly augment: boolean;
}

export interface EpochRow {
  readonly epoch: number;
  readonly train_loss: number;
  readonly train_acc: number;
  readonly val_loss: number;
  readonly val_acc: number;
  /** The learning rate the epoch trained with. */
  readonly lr: number;
  readonly seconds: number;
}

export interface SavedTensor { readonly name: string; readonly shape: readonly number[]; readonly data: Float32Array }

export interface RunState {
  readonly config: RunConfig;
  readonly rows: readonly EpochRow[];
  /** The loss of every step, per finished epoch. */
  readonly steps: readonly (readonly number[])[];
  readonly best?: { readonly epoch: number; readonly val_acc: number };
  /** The trainable parameters as they started (seeded), so that a reference can train from the same point. */
  readonly init: readonly SavedTensor[];
  /** The trainable parameters after the last finished epoch. */
  readonly params: readonly SavedTensor[];
  /** SGD's momentum buffers, one per parameter (absent before the first step). */
  readonly momentum?: readonly Float32Array[];
}

const FORMAT = 'vitc-finetune/1';

const b64 = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
function fromB64(s: string): Float32Array {
  const bytes = Buffer.from(s, 'base64');
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function stateJson(s: RunState): string {
  return JSON.stringify({
    format: FORMAT,
    config: s.config,
    rows: s.rows,
    steps: s.steps,
    best: s.best ?? null,
    init: s.init.map((p) => ({ name: p.name, shape: p.shape, f32: b64(p.data) })),
    params: s.params.map((p) => ({ name: p.name, shape: p.shape, f32: b64(p.data) })),
    momentum: s.momentum ? s.momentum.map(b64) : null,
  }, null, 1) + '\n';
}

/** A run's state.json, checked enough that a damaged one is one line, not a crash. */
export function readState(dir: string): RunState {
  const file = join(dir, STATE_FILE);
  const bad = (why: string): never => fail('finetune/state', `not a usable vitc finetune state: ${why}`, fileSpan(file), 'start a new run in another directory');
  let raw: unknown;
  try { raw = JSON.parse(readTextFile(file, 'run state')); } catch (e) { if ((e as { diagnostics?: unknown }).diagnostics) throw e; return bad('the file is not JSON'); }
  type Saved = { name: string; shape: number[]; f32: string };
  const r = raw as { format?: unknown; config?: RunConfig; rows?: EpochRow[]; steps?: number[][]; best?: RunState['best'] | null; init?: Saved[]; params?: Saved[]; momentum?: string[] | null };
  if (r?.format !== FORMAT) return bad(`"format" is not "${FORMAT}"`);
  if (!r.config || !Array.isArray(r.rows) || !Array.isArray(r.steps) || !Array.isArray(r.init) || !Array.isArray(r.params)) return bad('it lacks config, rows, steps, init or params');
  const tensors = (list: Saved[]) => list.map((p) => {
    const data = fromB64(String(p.f32));
    if (!Array.isArray(p.shape) || data.length !== p.shape.reduce((a, b) => a * b, 1)) bad(`parameter ${p.name} does not have the values its shape says`);
    return { name: String(p.name), shape: p.shape, data };
  });
  const params = tensors(r.params), init = tensors(r.init);
  const momentum = r.momentum ? r.momentum.map(fromB64) : undefined;
  if (momentum && (momentum.length !== params.length || momentum.some((m, i) => m.length !== params[i]!.data.length))) bad('the momentum buffers do not match the parameters');
  return { config: r.config, rows: r.rows, steps: r.steps, best: r.best ?? undefined, init, params, momentum };
}

export function logCsv(rows: readonly EpochRow[]): string {
  const head = 'epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds';
  return [head, ...rows.map((r) => [r.epoch, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.lr, r.seconds.toFixed(1)].join(','))].join('\n') + '\n';
}

export function stepsCsv(steps: readonly (readonly number[])[]): string {
  return ['epoch,step,loss', ...steps.flatMap((losses, e) => losses.map((l, i) => `${e},${i},${l}`))].join('\n') + '\n';
}

export function writeState(dir: string, s: RunState): void {
  writeFileAtomic(join(dir, STATE_FILE), stateJson(s), 'the run state');
  writeFileAtomic(join(dir, LOG_FILE), logCsv(s.rows), 'the log');
  writeFileAtomic(join(dir, STEPS_FILE), stepsCsv(s.steps), 'the step log');
}

/** The settings that differ between a saved run and this one, as `--flag saved` phrases. */
export function configDifferences(saved: RunConfig, now: RunConfig): string[] {
  const out: string[] = [];
  const flags: [keyof RunConfig, string][] = [['epochs', '--epochs'], ['batch_size', '--batch-size'], ['lr', '--lr'], ['lrf', '--lrf'], ['momentum', '--momentum'], ['weight_decay', '--weight-decay'], ['seed', '--seed'], ['target', '--target'], ['precision', '--precision']];
  for (const [k, flag] of flags) if (saved[k] !== now[k]) out.push(`${flag} ${String(saved[k])} (now ${String(now[k])})`);
  if (saved.augment !== now.augment) out.push(saved.augment ? 'augmentation (now --no-augment)' : '--no-augment (now with augmentation)');
  if (saved.spec.sha256 !== now.spec.sha256) out.push(`the spec ${saved.spec.name} as it was then (it changed since)`);
  if (saved.weights_sha256 !== now.weights_sha256) out.push('other --weights');
  if (saved.data_sha256 !== now.data_sha256) out.push('other images in --data (files were added, removed or renamed)');
  return out;
}

/**
 * Check the output directory before any work. A new run needs a new or empty directory (or one
 * holding only a feature cache of ours); --resume needs a directory with a state.json.
 */
export function checkRunDir(dir: string, resume: boolean): void {
  if (dir.trim() === '') fail('io/out-dir', 'the output directory is empty', undefined, 'give -o a directory name, e.g. -o runs/flowers');
  if (existsSync(dir) && !statSync(dir).isDirectory()) fail('io/out-dir', `${dir} exists and is not a directory`, undefined, 'choose another -o');
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  if (resume) {
    if (!entries.includes(STATE_FILE)) fail('finetune/resume', `--resume: ${dir} holds no run to continue (no ${STATE_FILE})`, undefined, 'start the run without --resume');
  } else {
    if (entries.includes(STATE_FILE)) fail('finetune/out-dir', `${dir} already holds a run`, undefined, 'continue it with --resume, or choose another -o');
    const foreign = entries.filter((e) => !OWN.has(e));
    if (foreign.length) fail('finetune/out-dir', `refusing to write the run to ${dir}: it holds ${foreign.slice(0, 3).map((f) => JSON.stringify(f)).join(', ')}${foreign.length > 3 ? ', ...' : ''}, which vitc finetune did not write`, undefined, 'choose a new or empty directory');
  }
  checkDirectoryWritable(resolve(dir), `the run ${JSON.stringify(dir)}`);
}
