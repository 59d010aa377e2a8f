// Weight naming schemes mapped to timm's state-dict names (design note 3): tables of rules, no new IR.
// A rule renames one source tensor, optionally reshaping it, or contributes one part of a tensor that
// timm stores merged (q, k and v become attn.qkv, concatenated in that order along axis 0).
import { concat0, permute, reshape, shapeText, type RawTensor } from './tensor.js';

export type SchemeName = 'timm' | 'huggingface' | 'jax' | 'torchvision';

/** How a source tensor's layout becomes timm's. */
type Transform = (t: RawTensor, name: string) => RawTensor;

const linear: Transform = (t) => permute(t, [1, 0]); // JAX Dense kernel [in, out] -> [out, in]
const conv: Transform = (t) => permute(t, [3, 2, 0, 1]); // JAX conv kernel [kh, kw, in, out] -> [out, in, kh, kw]
const headsIn: Transform = (t, n) => { // JAX q/k/v kernel [D, heads, head_dim] -> [heads*head_dim, D]
  const [d, h, hd] = dims(t, 3, n);
  return permute(reshape(t, [d, h * hd]), [1, 0]);
};
const headsBias: Transform = (t, n) => { const [h, hd] = dims(t, 2, n); return reshape(t, [h * hd]); }; // [heads, head_dim] -> [D]
const headsOut: Transform = (t, n) => { // JAX out kernel [heads, head_dim, D] -> [D, heads*head_dim]
  const [h, hd, d] = dims(t, 3, n);
  return permute(reshape(t, [h * hd, d]), [1, 0]);
};

function dims(t: RawTensor, rank: number, name: string): number[] {
  if (t.shape.length !== rank) throw new Error(`"${name}" has shape ${shapeText(t.shape)}; a ${rank}-D tensor was expected`);
  return [...t.shape];
}

interface Rule {
  /** Source name; `{i}` stands for a block index, `{p}` for weight|bias, `{m}` for an optional model prefix. */
  readonly from: string;
  readonly to: string;
  /** [index, count]: this tensor is part `index` of `count` concatenated along axis 0 into `to`. */
  readonly part?: readonly [number, number];
  readonly fn?: Transform;
}

interface Scheme {
  readonly name: SchemeName;
  /** How messages name it. */
  readonly label: string;
  /** Whether a set of names is in this scheme. */
  readonly detect: RegExp;
  readonly rules: readonly Rule[];
}

const HF_BLOCK = '{m}encoder.layer.{i}';
const TV_BLOCK = 'encoder.layers.encoder_layer_{i}';
const JAX_BLOCK = 'Transformer/encoderblock_{i}';

export const SCHEMES: readonly Scheme[] = [
  {
    name: 'huggingface',
    label: 'Hugging Face ViTForImageClassification',
    detect: /^(vit\.|deit\.)?(embeddings\.patch_embeddings\.projection\.weight|encoder\.layer\.\d+\.attention\.attention\.query\.weight)$/,
    rules: [
      { from: '{m}embeddings.cls_token', to: 'cls_token' },
      { from: '{m}embeddings.distillation_token', to: 'dist_token' },
      { from: '{m}embeddings.position_embeddings', to: 'pos_embed' },
      { from: '{m}embeddings.patch_embeddings.projection.{p}', to: 'patch_embed.proj.{p}' },
      { from: `${HF_BLOCK}.layernorm_before.{p}`, to: 'blocks.{i}.norm1.{p}' },
      { from: `${HF_BLOCK}.attention.attention.query.{p}`, to: 'blocks.{i}.attn.qkv.{p}', part: [0, 3] },
      { from: `${HF_BLOCK}.attention.attention.key.{p}`, to: 'blocks.{i}.attn.qkv.{p}', part: [1, 3] },
      { from: `${HF_BLOCK}.attention.attention.value.{p}`, to: 'blocks.{i}.attn.qkv.{p}', part: [2, 3] },
      { from: `${HF_BLOCK}.attention.output.dense.{p}`, to: 'blocks.{i}.attn.proj.{p}' },
      { from: `${HF_BLOCK}.layernorm_after.{p}`, to: 'blocks.{i}.norm2.{p}' },
      { from: `${HF_BLOCK}.intermediate.dense.{p}`, to: 'blocks.{i}.mlp.fc1.{p}' },
      { from: `${HF_BLOCK}.output.dense.{p}`, to: 'blocks.{i}.mlp.fc2.{p}' },
      { from: '{m}layernorm.{p}', to: 'norm.{p}' },
      { from: '{m}pooler.dense.{p}', to: 'pre_logits.fc.{p}' },
      { from: 'classifier.{p}', to: 'head.{p}' },
      { from: 'cls_classifier.{p}', to: 'head.{p}' },
      { from: 'distillation_classifier.{p}', to: 'head_dist.{p}' },
    ],
  },
  {
    name: 'jax',
    label: 'original ViT (JAX/Flax)',
    detect: /^Transformer\//,
    rules: [
      { from: 'cls', to: 'cls_token' },
      { from: 'embedding/kernel', to: 'patch_embed.proj.weight', fn: conv },
      { from: 'embedding/bias', to: 'patch_embed.proj.bias' },
      { from: 'Transformer/posembed_input/pos_embedding', to: 'pos_embed' },
      { from: `${JAX_BLOCK}/LayerNorm_0/scale`, to: 'blocks.{i}.norm1.weight' },
      { from: `${JAX_BLOCK}/LayerNorm_0/bias`, to: 'blocks.{i}.norm1.bias' },
      { from: `${JAX_BLOCK}/MultiHeadDotProductAttention_1/query/kernel`, to: 'blocks.{i}.attn.qkv.weight', part: [0, 3], fn: headsIn },
      { from: `${JAX_BLOCK}/MultiHeadDotProductAttention_1/key/kernel`, to: 'blocks.{i}.attn.qkv.weight', part: [1, 3], fn: headsIn },
      { from: `${JAX_BLOCK}/MultiHeadDotProductAttention_1/value/kernel`, to: 'blocks.{i}.attn.qkv.weight', part: [2, 3], fn: headsIn },
      { from: `${JAX_BLOCK}/MultiHeadDotProductAttention_1/query/bias`, to: 'blocks.{i}.attn.qkv.bias', part: [0, 3], fn: headsBias },
      { from: `${JAX_BLOCK}/MultiHeadDotProductAttention_1/key/bias`, to: 'blocks.{i}.attn.qkv.bias', part: [1, 3], fn: headsBias },
      { from: `${JAX_BLOCK}/MultiHeadDotProductAttention_1/value/bias`, to: 'blocks.{i}.attn.qkv.bias', part: [2, 3], fn: headsBias },
      { from: `${JAX_BLOCK}/MultiHeadDotProductAttention_1/out/kernel`, to: 'blocks.{i}.attn.proj.weight', fn: headsOut },
      { from: `${JAX_BLOCK}/MultiHeadDotProductAttention_1/out/bias`, to: 'blocks.{i}.attn.proj.bias' },
      { from: `${JAX_BLOCK}/LayerNorm_2/scale`, to: 'blocks.{i}.norm2.weight' },
      { from: `${JAX_BLOCK}/LayerNorm_2/bias`, to: 'blocks.{i}.norm2.bias' },
      { from: `${JAX_BLOCK}/MlpBlock_3/Dense_0/kernel`, to: 'blocks.{i}.mlp.fc1.weight', fn: linear },
      { from: `${JAX_BLOCK}/MlpBlock_3/Dense_0/bias`, to: 'blocks.{i}.mlp.fc1.bias' },
      { from: `${JAX_BLOCK}/MlpBlock_3/Dense_1/kernel`, to: 'blocks.{i}.mlp.fc2.weight', fn: linear },
      { from: `${JAX_BLOCK}/MlpBlock_3/Dense_1/bias`, to: 'blocks.{i}.mlp.fc2.bias' },
      { from: 'Transformer/encoder_norm/scale', to: 'norm.weight' },
      { from: 'Transformer/encoder_norm/bias', to: 'norm.bias' },
      { from: 'pre_logits/kernel', to: 'pre_logits.fc.weight', fn: linear },
      { from: 'pre_logits/bias', to: 'pre_logits.fc.bias' },
      { from: 'head/kernel', to: 'head.weight', fn: linear },
      { from: 'head/bias', to: 'head.bias' },
    ],
  },
  {
    name: 'torchvision',
    label: 'torchvision VisionTransformer',
    detect: /^(conv_proj\.weight|encoder\.layers\.encoder_layer_\d+\.self_attention\.in_proj_weight)$/,
    rules: [
      { from: 'class_token', to: 'cls_token' },
      { from: 'conv_proj.{p}', to: 'patch_embed.proj.{p}' },
      { from: 'encoder.pos_embedding', to: 'pos_embed' },
      { from: `${TV_BLOCK}.ln_1.{p}`, to: 'blocks.{i}.norm1.{p}' },
      { from: `${TV_BLOCK}.self_attention.in_proj_weight`, to: 'blocks.{i}.attn.qkv.weight' },
      { from: `${TV_BLOCK}.self_attention.in_proj_bias`, to: 'blocks.{i}.attn.qkv.bias' },
      { from: `${TV_BLOCK}.self_attention.out_proj.{p}`, to: 'blocks.{i}.attn.proj.{p}' },
      { from: `${TV_BLOCK}.ln_2.{p}`, to: 'blocks.{i}.norm2.{p}' },
      { from: `${TV_BLOCK}.mlp.0.{p}`, to: 'blocks.{i}.mlp.fc1.{p}' },
      { from: `${TV_BLOCK}.mlp.linear_1.{p}`, to: 'blocks.{i}.mlp.fc1.{p}' },
      { from: `${TV_BLOCK}.mlp.3.{p}`, to: 'blocks.{i}.mlp.fc2.{p}' },
      { from: `${TV_BLOCK}.mlp.linear_2.{p}`, to: 'blocks.{i}.mlp.fc2.{p}' },
      { from: 'encoder.ln.{p}', to: 'norm.{p}' },
      { from: 'heads.pre_logits.{p}', to: 'pre_logits.fc.{p}' },
      { from: 'heads.head.{p}', to: 'head.{p}' },
    ],
  },
];

interface CompiledRule extends Rule {
  readonly re: RegExp;
  readonly slots: readonly string[];
}

const compiled = new Map<SchemeName, CompiledRule[]>(SCHEMES.map((s) => [s.name, s.rules.map(compileRule)]));

function compileRule(r: Rule): CompiledRule {
  const slots: string[] = [];
  const pattern = r.from.split(/(\{[imp]\})/).map((piece: string) => {
    if (piece === '{i}') { slots.push('i'); return '(\\d+)'; }
    if (piece === '{p}') { slots.push('p'); return '(weight|bias)'; }
    if (piece === '{m}') return '(?:vit\\.|deit\\.)?';
    return piece.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }).join('');
  return { ...r, re: new RegExp(`^${pattern}$`), slots };
}

/** The scheme a set of names is written in (timm when none of the others matches). */
export function detectScheme(names: readonly string[]): SchemeName {
  for (const s of SCHEMES) if (names.some((n) => s.detect.test(n))) return s.name;
  return 'timm';
}

export function schemeLabel(name: SchemeName): string {
  return SCHEMES.find((s) => s.name === name)?.label ?? 'timm';
}

/**
 * Rename (and reshape, and merge) `tensors` from `scheme` to timm names. Tensors no rule matches keep
 * their names, so they show up as unused rather than vanish. Throws an Error naming a missing part.
 */
export function toTimm(scheme: SchemeName, tensors: ReadonlyMap<string, RawTensor>): Map<string, RawTensor> {
  const rules = compiled.get(scheme);
  if (!rules) return new Map(tensors);
  const out = new Map<string, RawTensor>();
  const parts = new Map<string, { count: number; items: (RawTensor | undefined)[]; sources: string[] }>();
  for (const [name, t] of tensors) {
    const hit = rules.map((r) => ({ r, m: r.re.exec(name) })).find((x) => x.m);
    if (!hit) {
      out.set(name, t);
      continue;
    }
    const { r, m } = hit;
    let to = r.to;
    r.slots.forEach((slot, k) => { to = to.replace(`{${slot}}`, m![k + 1]!); });
    const value = r.fn ? r.fn(t, name) : t;
    if (!r.part) {
      out.set(to, value);
      continue;
    }
    const [index, count] = r.part;
    const p = parts.get(to) ?? { count, items: new Array<RawTensor | undefined>(count).fill(undefined), sources: [] as string[] };
    p.items[index] = value;
    p.sources.push(name);
    parts.set(to, p);
    if (!out.has(to)) out.set(to, value); // placeholder keeps the first part's position in the order
  }
  for (const [to, p] of parts) {
    const missing = p.items.findIndex((x) => x === undefined);
    if (missing >= 0) throw new Error(`"${to}" is stored in ${p.count} parts and part ${missing + 1} is missing (found only ${p.sources.join(', ')})`);
    out.set(to, concat0(p.items as RawTensor[]));
  }
  return out;
}
