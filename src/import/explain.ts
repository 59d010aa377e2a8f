// When a checkpoint does not fit the spec, say which spec keys to change, in one line:
//   weights have head.weight [5, 768]; the spec says num_classes: 1000 — set num_classes: 5
// Each rule reads one hyperparameter off the weights' shapes and off the shapes the spec expects.
import { fail, fileSpan } from '../diag/diagnostic.js';
import type { ExpectedModel } from './model.js';
import { shapeText } from './tensor.js';
import { sameShape } from '../ir/types.js';

type Shapes = ReadonlyMap<string, readonly number[]>;
type Value = number | boolean | string | null;

interface Reading {
  readonly value: Value;
  /** The tensors the value was read from, as the message shows them. */
  readonly evidence: string;
}

interface Rule {
  readonly key: string;
  /** The part of the model whose tensors it reads, when that part may be the spec's own code. */
  readonly in?: 'block' | 'pool';
  read(s: Shapes): Reading | undefined;
}

const has = (s: Shapes, n: string): Reading | undefined => {
  const shape = s.get(n);
  return shape ? { value: true, evidence: `${n} ${shapeText(shape)}` } : undefined;
};

/** A dimension of a tensor. */
const dim = (name: string, d: number) => (s: Shapes): Reading | undefined => {
  const shape = s.get(name);
  return shape && shape.length > d ? { value: shape[d]!, evidence: `${name} ${shapeText(shape)}` } : undefined;
};

/** Whether a tensor exists (only meaningful when the weights hold the model at all). */
const presence = (name: string) => (s: Shapes): Reading | undefined =>
  s.has('patch_embed.proj.weight') ? (has(s, name) ?? { value: false, evidence: `no ${name}` }) : undefined;

function blockCount(s: Shapes): number {
  let n = 0;
  for (const k of s.keys()) {
    const m = /^blocks\.(\d+)\./.exec(k);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/** The width of the features the head reads: pre_logits' output, else the embedding. */
function featureDim(s: Shapes): number | undefined {
  return s.get('pre_logits.fc.weight')?.[0] ?? s.get('patch_embed.proj.weight')?.[0];
}

const RULES: readonly Rule[] = [
  { key: 'embed_dim', read: (s) => (s.get('patch_embed.proj.weight')?.length === 4 ? dim('patch_embed.proj.weight', 0)(s) : undefined) },
  {
    key: 'patch_size',
    read: (s) => {
      const w = s.get('patch_embed.proj.weight');
      return w?.length === 4 && w[2] === w[3] ? dim('patch_embed.proj.weight', 2)(s) : undefined;
    },
  },
  { key: 'in_chans', read: (s) => (s.get('patch_embed.proj.weight')?.length === 4 ? dim('patch_embed.proj.weight', 1)(s) : undefined) },
  {
    key: 'depth',
    read: (s) => {
      const n = blockCount(s);
      return n ? { value: n, evidence: `${n} blocks (blocks.0 to blocks.${n - 1})` } : undefined;
    },
  },
  {
    key: 'mlp_ratio',
    in: 'block',
    read: (s) => {
      const fc1 = s.get('blocks.0.mlp.fc1.weight');
      const d = s.get('patch_embed.proj.weight')?.[0];
      return fc1?.length === 2 && fc1[1] === d ? { value: fc1[0]! / fc1[1]!, evidence: `blocks.0.mlp.fc1.weight ${shapeText(fc1)}` } : undefined;
    },
  },
  { key: 'qkv_bias', in: 'block', read: presence('blocks.0.attn.qkv.bias') },
  { key: 'class_token', read: presence('cls_token') },
  { key: 'distilled', read: presence('dist_token') },
  {
    key: 'global_pool',
    in: 'pool',
    read: (s) => {
      const r = presence('fc_norm.weight')(s);
      return r && { value: r.value ? 'avg' : 'token', evidence: r.evidence };
    },
  },
  {
    key: 'representation_size',
    read: (s) => {
      const r = s.get('pre_logits.fc.weight');
      if (r) return r.length === 2 && r[1] === s.get('patch_embed.proj.weight')?.[0] ? { value: r[0]!, evidence: `pre_logits.fc.weight ${shapeText(r)}` } : undefined;
      return s.has('patch_embed.proj.weight') ? { value: null, evidence: 'no pre_logits.fc.weight' } : undefined;
    },
  },
  {
    key: 'num_classes',
    read: (s) => {
      const h = s.get('head.weight');
      return h?.length === 2 && h[1] === featureDim(s) ? { value: h[0]!, evidence: `head.weight ${shapeText(h)}` } : undefined;
    },
  },
];

function show(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean' || typeof v === 'string') return String(v);
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
}

/**
 * Throw a one-line diagnostic naming the spec keys that disagree with `have`, if any rule explains
 * the difference; return normally otherwise (the generic per-tensor check then reports it).
 */
export function explainMismatch(weightsFile: string, have: Shapes, model: ExpectedModel): void {
  const want: Shapes = new Map(model.weights.map((w) => [w.name, w.shape]));
  const diffs: { key: string; spec: Reading; weights: Reading }[] = [];
  // A model of the spec's own names its tensors as it likes; a block of its own shapes them as it
  // likes: rules reading such tensors would suggest values they cannot know.
  const own = model.own;
  const readable = (r: Rule) => !own?.model && !(r.in && own?.[r.in]);
  for (const rule of RULES.filter(readable)) {
    const w = rule.read(have);
    const s = rule.read(want);
    if (w && s && w.value !== s.value) diffs.push({ key: rule.key, spec: s, weights: w });
  }
  if (diffs.length === 0) return explainShapes(weightsFile, have, want, model);
  // Two keys read off one tensor (embed_dim and patch_size off the patch embedding) cite it once.
  const message = `weights have ${[...new Set(diffs.map((d) => d.weights.evidence))].join(', ')}; ${model.spanOf ? 'the spec says' : `the build of ${model.specName} says`} `
    + `${diffs.map((d) => `${d.key}: ${show(d.spec.value)}`).join(', ')} — set ${diffs.map((d) => `${d.key}: ${show(d.weights.value)}`).join(', ')}`;
  const span = model.spanOf?.(diffs[0]!.key) ?? fileSpan(weightsFile);
  annotate(model, () => fail('weights/spec-mismatch', message, span, model.spanOf ? `the weights are ${weightsFile}` : 'in the spec, then rebuild'));
}

const annotate = (model: ExpectedModel, fn: () => never): never => (model.annotate ? model.annotate(fn) : fn());

/**
 * When the model is partly the spec's own code and no rule it can trust explains the difference: say
 * which tensors differ in shape (or are missing), and which part of the spec builds them.
 */
function explainShapes(weightsFile: string, have: Shapes, want: Shapes, model: ExpectedModel): void {
  const own = model.own;
  if (!own || !(own.block || own.pool || own.model)) return;
  const differ = [...want].filter(([n, w]) => { const h = have.get(n); return h !== undefined && !sameShape(h, w); });
  if (differ.length === 0) return;
  const [name, w] = differ[0]!;
  const more = differ.length > 1 ? `, and ${differ.length - 1} more tensor${differ.length > 2 ? 's differ' : ' differs'}` : '';
  const key = own.model ? 'model' : own.block && /^blocks\.\d+\./.test(name) ? 'block' : own.pool ? 'global_pool' : 'model';
  const span = model.spanOf?.(key) ?? fileSpan(weightsFile);
  const part = key === 'model' ? 'model' : key === 'block' ? 'encoder block' : 'pooling block';
  annotate(model, () => fail('weights/spec-mismatch', `weights have ${name} ${shapeText(have.get(name)!)}; the spec's ${part} makes it ${shapeText(w)}${more}`, span,
    `the weights are ${weightsFile}; were they saved from another block or other hyperparameters?`));
}

