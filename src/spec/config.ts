// The resolved model configuration: schema-valid spec data with defaults applied and checked for
// the constraints a schema cannot express (divisibility, combinations of options).
import { dirname, resolve } from 'node:path';
import { error, note, type Diagnostic, type Span } from '../diag/diagnostic.js';
import type { SpanIndex } from './yaml-source.js';
import { divisorsNear } from '../util/suggest.js';

export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

export interface Preprocess {
  readonly resize?: number;
  readonly crop?: number;
  readonly interpolation?: 'bilinear' | 'bicubic' | 'nearest';
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
}

/** A reference to a block in a model-language file: FILE#NAME, resolved to candidate paths. */
export interface BlockRef {
  readonly text: string;
  readonly file: string;
  readonly name: string;
  /** Directory of the spec that named it (FILE is tried there first, then in the stdlib). */
  readonly baseDir: string;
  readonly span: Span;
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
  readonly global_pool: 'token' | 'avg';
  readonly fc_norm: boolean;
  readonly pos_embed: 'learned' | 'sincos';
  readonly init_values: number | null;
  readonly block: BlockRef | null;
  readonly labels: string | null;
  readonly preprocess: Preprocess;
}

/** Derived sizes every consumer needs. */
export function derived(c: ModelConfig) {
  const [H, W] = c.img_size;
  const gridH = H / c.patch_size;
  const gridW = W / c.patch_size;
  const prefix = (c.class_token ? 1 : 0) + (c.distilled ? 1 : 0);
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
  const missing = REQUIRED.filter((k) => data[k] === undefined);
  if (missing.length) {
    diags.push(error('spec/missing-key', `missing required key${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(', ')}`, fileLevel, 'set it here or in a spec named by `extends`'));
  }
  if (diags.length) return { diagnostics: diags };
  const num = (k: string, d: number) => (data[k] ?? d) as number;
  const bool = (k: string, d: boolean) => (data[k] ?? d) as boolean;
  const img = data.img_size as number | [number, number];
  const imgSize: [number, number] = typeof img === 'number' ? [img, img] : [img[0], img[1]];
  const globalPool = (data.global_pool ?? 'token') as 'token' | 'avg';
  const blockText = data.block as string | null | undefined;
  let block: BlockRef | null = null;
  if (blockText) {
    const hash = blockText.lastIndexOf('#');
    const span = spans.value('/block');
    if (hash <= 0 || hash === blockText.length - 1) {
      diags.push(error('spec/block-ref', `"block" must be FILE#BLOCK, e.g. "blocks/parallel.vit#parallel_block"; got ${JSON.stringify(blockText)}`, span));
    } else {
      const origin = spans.origin('/block');
      block = { text: blockText, file: blockText.slice(0, hash), name: blockText.slice(hash + 1), baseDir: origin ? dirname(origin) : process.cwd(), span };
    }
  }
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
    fc_norm: (data.fc_norm ?? null) === null ? globalPool === 'avg' : (data.fc_norm as boolean),
    pos_embed: (data.pos_embed ?? 'learned') as 'learned' | 'sincos',
    init_values: (data.init_values ?? null) as number | null,
    block,
    labels: labelsText ? resolve(labelsOrigin ? dirname(labelsOrigin) : process.cwd(), labelsText) : null,
    preprocess: (data.preprocess ?? {}) as Preprocess,
  };

  const at = (k: string) => spans.value(`/${k}`);
  if (c.embed_dim % c.num_heads !== 0) {
    diags.push(error('spec/heads', `embed_dim ${c.embed_dim} is not divisible by num_heads ${c.num_heads}`, at('num_heads'),
      `head_dim would be ${(c.embed_dim / c.num_heads).toFixed(2)}; try num_heads ${divisorsNear(c.embed_dim, c.num_heads)}`));
  }
  (Array.isArray(data.img_size) ? c.img_size : [c.img_size[0]]).forEach((s, i) => {
    if (s % c.patch_size !== 0) {
      const ptr = Array.isArray(data.img_size) ? `img_size/${i}` : 'img_size';
      diags.push(error('spec/patch', `img_size ${s} is not divisible by patch_size ${c.patch_size}`, at(ptr),
        `the nearest sizes that are: ${Math.floor(s / c.patch_size) * c.patch_size || c.patch_size} or ${Math.ceil(s / c.patch_size) * c.patch_size}`));
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
  for (const k of NO_OPS) {
    if (typeof data[k] === 'number' && data[k] !== 0) diags.push(note('spec/inference-no-op', `${k} ${data[k]} has no effect at inference`, spans.key(`/${k}`)));
  }
  return { config: diags.some((d) => d.severity === 'error') ? undefined : c, diagnostics: diags };
}
