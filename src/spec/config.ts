// The resolved model configuration: schema-valid spec data with defaults applied and checked for
// the constraints a schema cannot express (divisibility, combinations of options).
import { dirname, resolve } from 'node:path';
import { error, note, type Diagnostic, type Span } from '../diag/diagnostic.js';
import type { SpanIndex } from './yaml-source.js';
import { didYouMean, divisorsNear, multiplesNear } from '../util/suggest.js';
import { quote } from '../diag/quote.js';

export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

export interface Preprocess {
  readonly resize?: number;
  readonly crop?: number;
  readonly interpolation?: 'bilinear' | 'bicubic' | 'nearest';
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
}

/** A reference to a block or model in a model-language file: FILE#NAME, resolved to candidate paths. */
export interface BlockRef {
  /** The spec key that holds it: block, model or global_pool. */
  readonly key: string;
  readonly text: string;
  readonly file: string;
  readonly name: string;
  /** Directory of the spec that named it (FILE is tried there first, then in the stdlib). */
  readonly baseDir: string;
  readonly span: Span;
}

/** The ResNet-v2 backbone of a hybrid model (R50+ViT): its feature map is what the patches are cut from. */
export interface BackboneConfig {
  /** Bottleneck units per stage; stage strides are 1, 2, 2, ... */
  readonly layers: readonly number[];
  readonly stem_width: number;
  /** Output channels per stage; the bottleneck width is channels x bottle_ratio. */
  readonly channels: readonly number[];
  readonly bottle_ratio: number;
  readonly gn_groups: number;
  readonly gn_eps: number;
  /** Weight standardization's epsilon: 1e-8 in the original JAX code and timm's hybrid, 1e-6 in some ports. */
  readonly std_conv_eps: number;
}

export interface ModelConfig {
  readonly name: string;
  readonly description: string;
  readonly img_size: readonly [number, number];
  readonly patch_size: number;
  readonly in_chans: number;
  readonly num_classes: number;
  readonly embed_dim: number;
  readonly depth: number;
  readonly num_heads: number;
  readonly mlp_ratio: number;
  readonly qkv_bias: boolean;
  readonly qk_scale: number | null;
  readonly representation_size: number | null;
  readonly distilled: boolean;
  readonly norm_eps: number;
  readonly act_layer: Activation;
  readonly class_token: boolean;
  /** token, avg, or the text of a FILE#BLOCK pooling block (then `pool` is set). */
  readonly global_pool: string;
  /** A pooling block written in the model language (`global_pool: FILE#BLOCK`). */
  readonly pool: BlockRef | null;
  readonly fc_norm: boolean;
  readonly pos_embed: 'learned' | 'sincos' | 'none';
  /** Register tokens: learned tokens after the class and distillation tokens, added after the positions. */
  readonly reg_tokens: number;
  readonly init_values: number | null;
  readonly backbone: BackboneConfig | null;
  readonly block: BlockRef | null;
  /** A whole model written in the model language, instead of the stdlib's vit. */
  readonly model: BlockRef | null;
  readonly labels: string | null;
  readonly preprocess: Preprocess;
}

/**
 * The spatial size a backbone turns an image side into: the stem's stride-2 convolution and stride-2
 * pool, then stride 2 in every stage after the first, each with "same" padding (ceil(in / 2)).
 */
export function backboneSize(size: number, b: BackboneConfig): number {
  let s = size;
  for (let i = 0; i < b.layers.length + 1; i++) s = Math.ceil(s / 2);
  return s;
}

/** The [height, width] that patches are cut from: the image, or a hybrid's feature map. */
export function featureSize(c: ModelConfig): [number, number] {
  const b = c.backbone;
  return b ? [backboneSize(c.img_size[0], b), backboneSize(c.img_size[1], b)] : [c.img_size[0], c.img_size[1]];
}

/** Derived sizes every consumer needs. */
export function derived(c: ModelConfig) {
  const [H, W] = featureSize(c);
  const gridH = H / c.patch_size;
  const gridW = W / c.patch_size;
  const prefix = (c.class_token ? 1 : 0) + (c.distilled ? 1 : 0) + c.reg_tokens;
  return {
    gridH, gridW,
    numPatches: gridH * gridW,
    prefixTokens: prefix,
    tokens: prefix + gridH * gridW,
    headDim: c.embed_dim / c.num_heads,
    mlpHidden: Math.trunc(c.embed_dim * c.mlp_ratio),
    scale: c.qk_scale ?? Math.pow(c.embed_dim / c.num_heads, -0.5),
    featureDim: c.representation_size ?? c.embed_dim,
  };
}

const REQUIRED = ['img_size', 'patch_size', 'num_classes', 'embed_dim', 'depth', 'num_heads'] as const;
const NO_OPS = ['drop_rate', 'pos_drop_rate', 'proj_drop_rate', 'attn_drop_rate', 'drop_path_rate'] as const;

/** Build a ModelConfig from schema-valid data. Returns diagnostics for violated constraints and notes. */
export function resolveConfig(data: Record<string, unknown>, spans: SpanIndex, leafFile: string, defaultName: string):
  { config?: ModelConfig; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const fileLevel: Span = { file: leafFile, line: 0, col: 0 };
  // A model of the user's own declares what it needs (models/bind.ts says what is missing).
  const ownModel = typeof data.model === 'string';
  const missing = ownModel ? [] : REQUIRED.filter((k) => data[k] === undefined);
  if (missing.length) {
    diags.push(error('spec/missing-key', `missing required key${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(', ')}`, fileLevel, 'set it here or in a spec named by `extends`'));
  }
  if (diags.length) return { diagnostics: diags };
  const num = (k: string, d: number) => (data[k] ?? d) as number;
  const bool = (k: string, d: boolean) => (data[k] ?? d) as boolean;
  const img = (data.img_size ?? 0) as number | [number, number];
  const imgSize: [number, number] = typeof img === 'number' ? [img, img] : [img[0], img[1]];
  const globalPool = (data.global_pool ?? 'token') as string;
  const ref = (key: string, what: string, example: string): BlockRef | null => {
    const text = data[key] as string | null | undefined;
    if (!text) return null;
    const hash = text.lastIndexOf('#');
    const span = spans.value(`/${key}`);
    if (hash <= 0 || hash === text.length - 1) {
      diags.push(error('spec/block-ref', `"${key}" must be FILE#${what}, e.g. "${example}"; got ${quote(text)}`, span));
      return null;
    }
    const origin = spans.origin(`/${key}`);
    return { key, text, file: text.slice(0, hash), name: text.slice(hash + 1), baseDir: origin ? dirname(origin) : process.cwd(), span };
  };
  const block = ref('block', 'BLOCK', 'blocks/parallel.vit#parallel_block');
  const model = ref('model', 'MODEL', 'my_vit.vit#my_vit');
  let pool: BlockRef | null = null;
  if (globalPool.includes('#')) pool = ref('global_pool', 'BLOCK', 'pool.vit#cls_and_mean');
  else if (globalPool !== 'token' && globalPool !== 'avg') {
    diags.push(error('spec/enum', `"global_pool" must be "token", "avg" or FILE#BLOCK (a pooling block in the model language); got ${JSON.stringify(globalPool)}`, spans.value('/global_pool'), didYouMean(globalPool, ['token', 'avg'])));
  }
  const bb = data.backbone as Record<string, unknown> | null | undefined;
  const backbone: BackboneConfig | null = bb ? {
    layers: bb.layers as number[],
    stem_width: (bb.stem_width ?? 64) as number,
    channels: (bb.channels ?? (bb.layers as number[]).map((_, i) => 256 * 2 ** i)) as number[],
    bottle_ratio: (bb.bottle_ratio ?? 0.25) as number,
    gn_groups: (bb.gn_groups ?? 32) as number,
    gn_eps: (bb.gn_eps ?? 1e-5) as number,
    std_conv_eps: (bb.std_conv_eps ?? 1e-8) as number,
  } : null;
  const labelsText = data.labels as string | undefined;
  const labelsOrigin = spans.origin('/labels');
  const c: ModelConfig = {
    name: (data.name as string | undefined) ?? defaultName,
    description: (data.description as string | undefined) ?? '',
    img_size: imgSize,
    patch_size: num('patch_size', 0),
    in_chans: num('in_chans', 3),
    num_classes: num('num_classes', 0),
    embed_dim: num('embed_dim', 0),
    depth: num('depth', 0),
    num_heads: num('num_heads', 0),
    mlp_ratio: num('mlp_ratio', 4),
    qkv_bias: bool('qkv_bias', true),
    qk_scale: (data.qk_scale ?? null) as number | null,
    representation_size: (data.representation_size ?? null) as number | null,
    distilled: bool('distilled', false),
    norm_eps: num('norm_eps', 1e-6),
    act_layer: (data.act_layer ?? 'gelu') as Activation,
    class_token: bool('class_token', true),
    global_pool: globalPool,
    pool,
    fc_norm: (data.fc_norm ?? null) === null ? globalPool === 'avg' : (data.fc_norm as boolean),
    pos_embed: (data.pos_embed ?? 'learned') as 'learned' | 'sincos' | 'none',
    reg_tokens: num('reg_tokens', 0),
    init_values: (data.init_values ?? null) as number | null,
    backbone,
    block,
    model,
    labels: labelsText ? resolve(labelsOrigin ? dirname(labelsOrigin) : process.cwd(), labelsText) : null,
    preprocess: (data.preprocess ?? {}) as Preprocess,
  };

  const at = (k: string) => spans.value(`/${k}`);
  for (const k of NO_OPS) {
    if (typeof data[k] === 'number' && data[k] !== 0) diags.push(note('spec/inference-no-op', `${k} ${data[k]} has no effect at inference`, spans.key(`/${k}`)));
  }
  // The combinations below are the stdlib model's; a model of one's own checks its own.
  if (ownModel) return { config: diags.some((d) => d.severity === 'error') ? undefined : c, diagnostics: diags };
  // A clash of two keys is reported where the user edited: at the key this spec sets itself when
  // the other comes from a base it extends.
  const own = (k: string) => spans.has(`/${k}`) && spans.value(`/${k}`).file === leafFile;
  const onlyHere = (here: string, inherited: string) => own(here) && !own(inherited);
  if (c.embed_dim % c.num_heads !== 0) {
    const atDim = onlyHere('embed_dim', 'num_heads');
    diags.push(error('spec/heads', `embed_dim ${c.embed_dim} is not divisible by num_heads ${c.num_heads}`, at(atDim ? 'embed_dim' : 'num_heads'),
      `head_dim would be ${(c.embed_dim / c.num_heads).toFixed(2)}; try ${atDim ? `embed_dim ${multiplesNear(c.num_heads, c.embed_dim)}` : `num_heads ${divisorsNear(c.embed_dim, c.num_heads)}`}`));
  }
  if (backbone) diags.push(...checkBackbone(backbone, c, spans));
  else (Array.isArray(data.img_size) ? c.img_size : [c.img_size[0]]).forEach((s, i) => {
    if (s % c.patch_size !== 0) {
      const ptr = Array.isArray(data.img_size) ? `img_size/${i}` : 'img_size';
      const atPatch = onlyHere('patch_size', 'img_size');
      diags.push(error('spec/patch', `img_size ${s} is not divisible by patch_size ${c.patch_size}`, at(atPatch ? 'patch_size' : ptr),
        atPatch ? `patch sizes that divide ${s}: ${divisorsNear(s, c.patch_size)}` : `the nearest sizes that are: ${multiplesNear(c.patch_size, s)}`));
    }
  });
  if (c.mlp_ratio * c.embed_dim < 1) diags.push(error('spec/mlp', `int(embed_dim * mlp_ratio) is 0`, at('mlp_ratio')));
  if (c.distilled && !c.class_token) diags.push(error('spec/distilled', 'a distilled model needs class_token: true', at('distilled')));
  if (c.distilled && c.global_pool !== 'token') diags.push(error('spec/distilled', 'a distilled model pools its class and distillation tokens; global_pool must be "token"', at('global_pool')));
  if (c.global_pool === 'token' && !c.class_token) diags.push(error('spec/pool', 'global_pool "token" needs a class token', at('class_token'), 'use global_pool: avg, or class_token: true'));
  if (c.pos_embed === 'sincos' && c.embed_dim % 4 !== 0) diags.push(error('spec/sincos', `2-D sin-cos position embeddings need embed_dim divisible by 4; got ${c.embed_dim}`, at('pos_embed')));
  for (const k of ['mean', 'std'] as const) {
    const v = c.preprocess[k];
    if (v && v.length !== c.in_chans) diags.push(error('spec/preprocess', `preprocess.${k} has ${v.length} values but in_chans is ${c.in_chans}`, spans.value(`/preprocess/${k}`)));
  }
  return { config: diags.some((d) => d.severity === 'error') ? undefined : c, diagnostics: diags };
}

/** What a backbone needs beyond its schema: one width per stage, whole bottleneck widths, dividing groups, patches that tile the feature map. */
function checkBackbone(b: BackboneConfig, c: ModelConfig, spans: SpanIndex): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const at = (k: string) => spans.value(`/backbone/${k}`);
  if (b.channels.length !== b.layers.length) {
    diags.push(error('spec/backbone', `backbone.channels has ${b.channels.length} values but backbone.layers has ${b.layers.length} stages`, at('channels'), 'give one output width per stage'));
    return diags;
  }
  const mids = b.channels.map((ch) => ch * b.bottle_ratio);
  const bad = mids.findIndex((m) => !Number.isInteger(m) || m < 1);
  if (bad >= 0) {
    diags.push(error('spec/backbone', `stage ${bad}'s bottleneck width channels x bottle_ratio = ${b.channels[bad]} x ${b.bottle_ratio} = ${mids[bad]} is not a positive whole number`, spans.has('/backbone/bottle_ratio') ? at('bottle_ratio') : at(`channels/${bad}`)));
    return diags;
  }
  const widths: [string, number][] = [['stem_width', b.stem_width], ...b.channels.map((ch, i): [string, number] => [`stage ${i}'s ${ch} channels`, ch]), ...mids.map((m, i): [string, number] => [`stage ${i}'s bottleneck width ${m}`, m])];
  const notDivided = widths.find(([, w]) => w % b.gn_groups !== 0);
  if (notDivided) {
    const [what, w] = notDivided;
    diags.push(error('spec/backbone', `backbone.gn_groups ${b.gn_groups} does not divide ${what === 'stem_width' ? `stem_width ${w}` : what}`, at('gn_groups'), `GroupNorm needs whole groups; try gn_groups ${divisorsNear(gcd(widths.map(([, v]) => v)), b.gn_groups)}`));
  }
  const fm = featureSize(c);
  if (fm.some((s) => s % c.patch_size !== 0)) {
    diags.push(error('spec/patch', `the backbone's feature map for img_size ${c.img_size.join('x')} is ${fm.join('x')}, which patches of ${c.patch_size} do not tile`, spans.value('/patch_size'), 'hybrid models usually cut patches of 1 from the feature map'));
  }
  return diags;
}

function gcd(xs: readonly number[]): number {
  return xs.reduce((a, b) => { while (b) [a, b] = [b, a % b]; return a; });
}
