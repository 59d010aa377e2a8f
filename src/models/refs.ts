// What a spec's FILE#NAME references point at (`block:`, `model:`, a `global_pool:` block), and the
// parameters the spec sets for them under their names: loaded, of the right kind, checked against
// the declaration (did-you-mean on a misspelled name, the declared type on a wrong value).
import { DiagnosticError, error, fail, type Diagnostic, type Span } from '../diag/diagnostic.js';
import { findVitFile, type ModuleLoader } from '../dsl/load.js';
import { shownSpan } from '../dsl/anchor.js';
import type { BlockDef } from '../dsl/ast.js';
import type { Module } from '../dsl/module.js';
import { bool, describe, fits, float, int, NONE, str, typeName, type DValue } from '../dsl/values.js';
import type { BlockRef } from '../spec/config.js';
import type { Spec } from '../spec/load.js';
import { didYouMean } from '../util/suggest.js';
import { quote } from '../diag/quote.js';

export interface Resolved {
  readonly def: BlockDef;
  readonly module: Module;
}

/** The block (`want: 'block'`) or model a reference names, or a one-line error that says which key to use. */
export function resolveRef(loader: ModuleLoader, ref: BlockRef, want: 'block' | 'model'): Resolved {
  const found = findVitFile(ref.file, ref.baseDir);
  if (!found) fail('spec/block-file', `cannot find ${quote(ref.file)}`, ref.span, 'looked next to the spec and in the stdlib');
  const mod = loader.load(found, ref.span);
  const hit = mod.blocks.get(ref.name);
  const own = mod.ast.items.filter((d) => d.kind === want).map((d) => d.name);
  if (!hit || hit.module !== mod) {
    const kind = want === 'model' ? 'model' : 'block';
    fail('spec/block-name', `${mod.file} has no ${kind} "${ref.name}"`, ref.span, didYouMean(ref.name, own) ?? `its ${kind}s: ${own.join(', ') || 'none'}`);
  }
  if (hit.def.kind !== want) {
    const hint = want === 'block'
      ? `a model, which has an input statement, is named by "model: ${ref.text}"`
      : `name it with "block: ${ref.text}" to make it the encoder block, or "global_pool: ${ref.text}" to pool with it; a model is what has an input statement`;
    fail('spec/block-kind', `${ref.name} in ${mod.file} is a ${hit.def.kind}, not a ${want}`, ref.span, hint);
  }
  return { def: hit.def, module: hit.module };
}

type Preset = ReadonlyMap<string, { readonly value: DValue; readonly span: Span }>;

/** A YAML value as a model-language value: numbers that are whole become ints (widened where a float is declared). */
function fromYaml(v: unknown): DValue | undefined {
  if (v === null) return NONE;
  if (typeof v === 'boolean') return bool(v);
  if (typeof v === 'number') return Number.isInteger(v) ? int(v) : float(v);
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) {
    const items = v.map(fromYaml);
    return items.every((i): i is DValue => i !== undefined) ? { kind: 'list', items } : undefined;
  }
  return undefined;
}

/**
 * The parameters `spec` sets for `def` under its name (`NAME: { param: value }`), checked against its
 * declaration: every key a parameter of it that is a hyperparameter (not a tensor or block), every
 * value of the declared type. Empty when the spec has no section for it.
 */
export function presetFor(spec: Spec, def: BlockDef): Preset {
  const section = spec.hyper.get(def.name);
  const preset = new Map<string, { value: DValue; span: Span }>();
  if (!section) return preset;
  const diags: Diagnostic[] = [];
  const names = def.params.map((p) => p.name);
  for (const [key, raw] of Object.entries(section)) {
    const ptr = `/${def.name}/${key}`;
    const p = def.params.find((q) => q.name === key);
    if (!p) {
      diags.push(error('spec/unknown-param', `${def.kind} ${def.name} has no parameter "${key}"`, spec.spans.key(ptr), didYouMean(key, names) ?? `its parameters: ${names.join(', ')}`));
      continue;
    }
    if (p.type && (p.type.base === 'tensor' || p.type.base === 'block')) {
      diags.push(error('spec/unknown-param', `"${key}" of ${def.name} is a ${p.type.base}; a spec sets only numbers, bools, strings and lists`, spec.spans.key(ptr)));
      continue;
    }
    const v = fromYaml(raw);
    if (v === undefined || (p.type && !fits(v, p.type))) {
      diags.push(error('spec/type', `"${key}" of ${def.name} must be ${p.type ? typeName(p.type) : 'a number, bool, string or list'}; got ${v ? describe(v) : 'a mapping'}`, spec.spans.value(ptr), p.type ? `declared at ${shownSpan(p.span)}` : undefined));
      continue;
    }
    preset.set(key, { value: v.kind === 'int' && p.type?.base === 'float' && !p.type.list ? float(v.n) : v, span: spec.spans.value(ptr) });
  }
  if (diags.length) throw new DiagnosticError(diags);
  return preset;
}
