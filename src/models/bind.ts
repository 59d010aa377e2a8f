// From a YAML spec to IR: the spec's hyperparameters become the arguments of the stdlib model
// `vit` (stdlib/vit.vit), written in the model language; `block:` picks its encoder block.
import { createHash } from 'node:crypto';
import { DiagnosticError, error, fail, fileSpan } from '../diag/diagnostic.js';
import { anchoredAt } from '../dsl/anchor.js';
import { GraphBuilder } from '../ir/builder.js';
import { usersOf, type Graph } from '../ir/graph.js';
import type { Spec } from '../spec/load.js';
import type { ModelConfig } from '../spec/config.js';
import { ModuleLoader, findVitFile } from '../dsl/load.js';
import { Elaborator } from '../dsl/evaluate.js';
import { bool, float, int, NONE, str, type DValue } from '../dsl/values.js';
import { didYouMean } from '../util/suggest.js';
import type { Span } from '../diag/diagnostic.js';
import { withFeaturesOutput } from './features.js';
import { quote } from '../diag/quote.js';

export interface BuiltModel {
  readonly graph: Graph;
  /** The model-language files the model was built from: name and sha256. */
  readonly sources: readonly { readonly name: string; readonly sha256: string }[];
}

const MODEL_FILE = 'vit.vit';
const MODEL_NAME = 'vit';

/** The spec's keys as model arguments (timm names; `block` binds `encoder`). */
function modelArgs(c: ModelConfig): Map<string, DValue> {
  const optNum = (v: number | null, f: (n: number) => DValue) => (v === null ? NONE : f(v));
  return new Map<string, DValue>([
    ['img_size', { kind: 'list', items: c.img_size.map(int) }],
    ['patch_size', int(c.patch_size)],
    ['in_chans', int(c.in_chans)],
    ['num_classes', int(c.num_classes)],
    ['embed_dim', int(c.embed_dim)],
    ['depth', int(c.depth)],
    ['num_heads', int(c.num_heads)],
    ['mlp_ratio', float(c.mlp_ratio)],
    ['qkv_bias', bool(c.qkv_bias)],
    ['qk_scale', optNum(c.qk_scale, float)],
    ['representation_size', optNum(c.representation_size, int)],
    ['distilled', bool(c.distilled)],
    ['norm_eps', float(c.norm_eps)],
    ['act_layer', str(c.act_layer)],
    ['class_token', bool(c.class_token)],
    ['global_pool', str(c.global_pool)],
    ['fc_norm', bool(c.fc_norm)],
    ['pos_embed', str(c.pos_embed)],
    ['init_values', optNum(c.init_values, float)],
    ...backboneArgs(c),
  ]);
}

/** A hybrid's backbone (`backbone:` in the spec) as the model's backbone_* arguments; none for a plain ViT. */
function backboneArgs(c: ModelConfig): [string, DValue][] {
  const b = c.backbone;
  const ints = (xs: readonly number[]): DValue => ({ kind: 'list', items: xs.map(int) });
  return [
    ['backbone_layers', b ? ints(b.layers) : NONE],
    ['backbone_stem_width', int(b?.stem_width ?? 64)],
    ['backbone_channels', ints(b?.channels ?? [])],
    ['backbone_bottle_ratio', float(b?.bottle_ratio ?? 0.25)],
    ['backbone_gn_groups', int(b?.gn_groups ?? 32)],
    ['backbone_gn_eps', float(b?.gn_eps ?? 1e-5)],
    ['std_conv_eps', float(b?.std_conv_eps ?? 1e-8)],
  ];
}

export interface ModelOptions {
  /** Also output the pre-head features (`features`, the input of pre_logits.fc or head: models/features.ts). */
  readonly features?: boolean;
}

export function buildModel(spec: Spec, options: ModelOptions = {}): BuiltModel {
  const loader = new ModuleLoader();
  const main = loader.stdlib(MODEL_FILE);
  const model = main.blocks.get(MODEL_NAME);
  if (!model || model.def.kind !== 'model') throw new Error(`stdlib/${MODEL_FILE} has no model ${MODEL_NAME}`);
  // backbone_layers is written `backbone: { layers: ... }` in the spec.
  const specSpan = (key: string): Span => spec.spans.key(key === 'std_conv_eps' ? '/backbone/std_conv_eps' : `/${key.replace(/^backbone_/, 'backbone/')}`);
  const named = new Map<string, { value: DValue; span: Span }>();
  for (const [k, v] of modelArgs(spec.config)) named.set(k, { value: v, span: specSpan(k) });
  const blockRef = spec.config.block;
  if (blockRef) {
    const found = findVitFile(blockRef.file, blockRef.baseDir);
    if (!found) fail('spec/block-file', `cannot find ${quote(blockRef.file)}`, blockRef.span, 'looked next to the spec and in the stdlib');
    const mod = loader.load(found, blockRef.span);
    const blk = mod.blocks.get(blockRef.name);
    if (!blk || blk.module !== mod || blk.def.kind !== 'block') {
      const own = mod.ast.items.filter((d) => d.kind === 'block').map((d) => d.name);
      fail('spec/block-name', `${mod.file} has no block ${quote(blockRef.name)}`, blockRef.span, didYouMean(blockRef.name, own) ?? `its blocks: ${own.join(', ') || 'none'}`);
    }
    named.set('encoder', { value: { kind: 'block', def: blk.def, module: blk.module }, span: blockRef.span });
  }
  const b = new GraphBuilder(spec.config.name);
  // Errors inside the stdlib model come from the spec's values: report them at the spec.
  const out = anchoredAt(fileSpan(spec.file), () => new Elaborator(b).callBlock(model.def, model.module, [], named, model.def.nameSpan));
  if (out.kind !== 'tensor') throw new Error('the model did not return a tensor');
  b.output('logits', out.value);
  const built = b.build();
  checkAllUsed(built);
  const graph = options.features ? withFeaturesOutput(built) : built;
  if (!graph) fail('build/features', `${spec.config.name} has no head layer whose input could be the features output`, fileSpan(spec.file));
  const sources = loader.sources().map((s) => ({ name: s.name, sha256: createHash('sha256').update(s.text).digest('hex') }));
  return { graph, sources };
}

/** A value or parameter nobody uses is a mistake in the model definition: say where. */
function checkAllUsed(g: Graph): void {
  const users = usersOf(g);
  const outs = new Set(g.outputs.map((o) => o.id));
  const diags = g.nodes
    .filter((n) => !outs.has(n.id) && (users.get(n.id)?.length ?? 0) === 0)
    .map((n) => n.op === 'param'
      ? error('dsl/unused-param', `parameter "${n.attrs.name}" is declared but never used`, n.span)
      : error('dsl/unused-value', `this ${n.op} is computed but never used`, n.span));
  if (diags.length) throw new DiagnosticError(diags);
}
