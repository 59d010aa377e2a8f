// From a YAML spec to IR: the spec's hyperparameters become the arguments of a model written in the
// model language: the stdlib's `vit` (stdlib/vit.vit), or the spec's own (`model: FILE#MODEL`).
// `block:` binds its `encoder`, `global_pool:` its `pool`; the blocks and the model get the
// parameters the spec sets under their names.
import { createHash } from 'node:crypto';
import { DiagnosticError, error, fail, fileSpan, formatDiagnostic, type Diagnostic } from '../diag/diagnostic.js';
import { anchoredAt, inStdlib, shownSpan } from '../dsl/anchor.js';
import { GraphBuilder } from '../ir/builder.js';
import { usersOf, type Graph } from '../ir/graph.js';
import { withSpecOrigins, type Spec } from '../spec/load.js';
import type { BlockRef, ModelConfig } from '../spec/config.js';
import { ModuleLoader } from '../dsl/load.js';
import { Elaborator } from '../dsl/evaluate.js';
import { bool, float, int, NONE, str, type Binding, type DValue } from '../dsl/values.js';
import type { Span } from '../diag/diagnostic.js';
import { withFeaturesOutput } from './features.js';
import { presetFor, resolveRef, type Resolved } from './refs.js';

export interface BuiltModel {
  readonly graph: Graph;
  /** The model-language files the model was built from: name (relative to the spec, or stdlib/...) and sha256. */
  readonly sources: readonly { readonly name: string; readonly sha256: string }[];
}

const MODEL_FILE = 'vit.vit';
const MODEL_NAME = 'vit';

/** A spec key as a model argument: the argument's name, the key's JSON pointer, its value. */
interface SpecArg {
  readonly arg: string;
  readonly ptr: string;
  /** Is the key one a model must have (no default)? */
  readonly required: boolean;
  readonly value: (c: ModelConfig) => DValue;
}

const optNum = (v: number | null, f: (n: number) => DValue) => (v === null ? NONE : f(v));
const ints = (xs: readonly number[]): DValue => ({ kind: 'list', items: xs.map(int) });
const key = (arg: string, value: (c: ModelConfig) => DValue, required = false, ptr = `/${arg}`): SpecArg => ({ arg, ptr, required, value });

/** The spec's keys as model arguments (timm names; a hybrid's `backbone:` mapping as backbone_*). */
const SPEC_ARGS: readonly SpecArg[] = [
  key('img_size', (c) => ints(c.img_size), true),
  key('patch_size', (c) => int(c.patch_size), true),
  key('in_chans', (c) => int(c.in_chans)),
  key('num_classes', (c) => int(c.num_classes), true),
  key('embed_dim', (c) => int(c.embed_dim), true),
  key('depth', (c) => int(c.depth), true),
  key('num_heads', (c) => int(c.num_heads), true),
  key('mlp_ratio', (c) => float(c.mlp_ratio)),
  key('qkv_bias', (c) => bool(c.qkv_bias)),
  key('qk_scale', (c) => optNum(c.qk_scale, float)),
  key('representation_size', (c) => optNum(c.representation_size, int)),
  key('distilled', (c) => bool(c.distilled)),
  key('norm_eps', (c) => float(c.norm_eps)),
  key('act_layer', (c) => str(c.act_layer)),
  key('class_token', (c) => bool(c.class_token)),
  key('global_pool', (c) => str(c.global_pool)),
  key('fc_norm', (c) => bool(c.fc_norm)),
  key('pos_embed', (c) => str(c.pos_embed)),
  key('reg_tokens', (c) => int(c.reg_tokens)),
  key('init_values', (c) => optNum(c.init_values, float)),
  key('backbone_layers', (c) => (c.backbone ? ints(c.backbone.layers) : NONE), false, '/backbone'),
  key('backbone_stem_width', (c) => int(c.backbone?.stem_width ?? 64), false, '/backbone/stem_width'),
  key('backbone_channels', (c) => ints(c.backbone?.channels ?? []), false, '/backbone/channels'),
  key('backbone_bottle_ratio', (c) => float(c.backbone?.bottle_ratio ?? 0.25), false, '/backbone/bottle_ratio'),
  key('backbone_gn_groups', (c) => int(c.backbone?.gn_groups ?? 32), false, '/backbone/gn_groups'),
  key('backbone_gn_eps', (c) => float(c.backbone?.gn_eps ?? 1e-5), false, '/backbone/gn_eps'),
  key('std_conv_eps', (c) => float(c.backbone?.std_conv_eps ?? 1e-8), false, '/backbone/std_conv_eps'),
];

/** Keys that are not arguments of any model: about the spec itself, or without effect at inference. */
const NOT_ARGS = new Set(['name', 'description', 'model', 'labels', 'preprocess', 'drop_rate', 'pos_drop_rate', 'proj_drop_rate', 'attn_drop_rate', 'drop_path_rate']);

type Named = Map<string, { value: DValue; span: Span }>;

const blockValue = (r: Resolved, spec: Spec, bound?: Binding): DValue => ({ kind: 'block', def: r.def, module: r.module, preset: presetFor(spec, r.def), bound });

/** The arguments of `model` from the spec: its declared parameters that the spec's keys, blocks and sections fill. */
function modelArgs(spec: Spec, model: Resolved, loader: ModuleLoader, stdlib: boolean): Named {
  const c = spec.config;
  const declared = new Set(model.def.params.map((p) => p.name));
  const named: Named = new Map();
  const used = new Set<string>();
  const modelRef = c.model;
  const what = `model ${model.def.name}`;
  for (const a of SPEC_ARGS) {
    if (!declared.has(a.arg)) continue;
    // A model of one's own gets the keys the spec sets, and the defaults of keys that have one.
    if (!stdlib && a.required && !spec.spans.has(a.ptr)) continue;
    named.set(a.arg, { value: a.value(c), span: spec.spans.key(a.ptr) });
    used.add(a.ptr.split('/')[1]!);
  }
  const bindBlock = (param: string, ref: BlockRef | null, fallback?: string) => {
    if (!declared.has(param)) {
      if (ref) fail('spec/unused-key', `${what} takes no ${param} block, so "${ref.key}: ${ref.text}" would have no effect`, ref.span, `its parameters: ${model.def.params.map((p) => p.name).join(', ')}`);
      return;
    }
    const blk = ref ? resolveRef(loader, ref, 'block') : fallback ? loader.stdlib(MODEL_FILE).blocks.get(fallback) : undefined;
    if (!blk) return;
    // The spec's own choice of block is held to the role's contract (dsl/bound.ts).
    const bound: Binding | undefined = ref ? { role: param === 'encoder' ? 'encoder' : 'pool', model: model.def.name, span: ref.span } : undefined;
    named.set(param, { value: blockValue(blk, spec, bound), span: ref?.span ?? spec.spans.key('/global_pool') });
    if (ref) used.add(ref.key);
  };
  bindBlock('encoder', c.block);
  // global_pool: token or avg binds the stdlib's pooling block (always for vit; for a model of one's
  // own when the spec sets it).
  bindBlock('pool', c.pool, !c.pool && (stdlib || spec.spans.has('/global_pool')) ? `${c.global_pool}_pool` : undefined);
  if (declared.has('pool') || declared.has('global_pool')) used.add('global_pool');
  for (const [k, e] of presetFor(spec, model.def)) named.set(k, e);
  // Nothing the spec says may be silently ignored.
  const unused = Object.keys(spec.data).filter((k) => !used.has(k) && !NOT_ARGS.has(k) && !spec.hyper.has(k));
  const diags = unused.map((k) => error('spec/unused-key', `"${k}" is not a parameter of ${what}`, spec.spans.key(`/${k}`), `${what} declares: ${model.def.params.map((p) => p.name).join(', ')}${modelRef ? `; set its own parameters under "${model.def.name}:"` : ''}`));
  const standard = new Set(SPEC_ARGS.map((a) => a.arg));
  const missing = (name: string) => (standard.has(name) ? `missing key "${name}": ${what} declares it without a default`
    : name === 'encoder' ? `${what} needs an encoder block: set "block: FILE#BLOCK"`
      : name === 'pool' ? `${what} needs a pooling block: set "global_pool: token", "avg" or FILE#BLOCK`
        : `${what} needs "${name}": set it under "${model.def.name}:", e.g. ${model.def.name}: { ${name}: ... }`);
  for (const p of model.def.params) if (!p.default && !named.has(p.name)) diags.push(error('spec/missing-key', missing(p.name), modelRef?.span ?? fileSpan(spec.file)));
  if (diags.length) throw new DiagnosticError(diags);
  return named;
}

export interface ModelOptions {
  /** Also output the pre-head features (`features`, the input of pre_logits.fc or head: models/features.ts). */
  readonly features?: boolean;
}

export function buildModel(spec: Spec, options: ModelOptions = {}): BuiltModel {
  // Problems at a base spec's lines also say which file extended it.
  return withSpecOrigins(spec, () => build(spec, options));
}

function build(spec: Spec, options: ModelOptions): BuiltModel {
  const loader = new ModuleLoader();
  const stdlib = !spec.config.model;
  let model: Resolved;
  if (spec.config.model) {
    model = resolveRef(loader, spec.config.model, 'model');
  } else {
    const main = loader.stdlib(MODEL_FILE);
    const def = main.blocks.get(MODEL_NAME);
    if (!def || def.def.kind !== 'model') throw new Error(`stdlib/${MODEL_FILE} has no model ${MODEL_NAME}`);
    model = def;
  }
  const named = modelArgs(spec, model, loader, stdlib);
  const b = new GraphBuilder(spec.config.name, { has: (s) => inStdlib(s.file), show: shownSpan });
  // Errors inside the stdlib model come from the spec's values: report them at the spec.
  const elaborator = new Elaborator(b);
  const out = anchoredAt(fileSpan(spec.file), () => elaborator.callBlock(model.def, model.module, [], named, model.def.nameSpan));
  if (out.kind !== 'tensor') throw new Error('the model did not return a tensor');
  b.output('logits', out.value);
  const built = b.build();
  checkAllUsed(built, elaborator.origins);
  const graph = options.features ? withFeaturesOutput(built) : built;
  if (!graph) fail('build/features', `${spec.config.name} has no head layer whose input could be the features output`, fileSpan(spec.file));
  const sources = loader.sources(spec.dir).map((s) => ({ name: s.name, sha256: createHash('sha256').update(s.text).digest('hex') }));
  return { graph, sources };
}

/**
 * A value or parameter nobody uses is a mistake in the model definition: say where, once (not once
 * per layer): at the name it was assigned to, or at the user's call of the stdlib block that made it.
 */
function checkAllUsed(g: Graph, origins: Elaborator['origins']): void {
  const users = usersOf(g);
  const outs = new Set(g.outputs.map((o) => o.id));
  const diags = new Map<string, Diagnostic>();
  for (const n of g.nodes) {
    if (outs.has(n.id) || (users.get(n.id)?.length ?? 0) > 0) continue;
    const o = origins.get(n.id);
    const d = n.op === 'param' ? error('dsl/unused-param', `parameter "${n.attrs.name}" is declared but never used`, n.span)
      : o?.name !== undefined ? error('dsl/unused-value', `the value assigned to "${o.name}" here is never used`, o.span, 'use it, or remove the assignment')
        : o ? error('dsl/unused-value', `the result of this ${o.callee} call is computed but never used`, o.span)
          : error('dsl/unused-value', `this ${n.op} is computed but never used`, n.span);
    diags.set(formatDiagnostic(d), d);
  }
  if (diags.size) throw new DiagnosticError([...diags.values()]);
}
