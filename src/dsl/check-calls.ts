// Static checks of calls, before anything runs: a call of a known builtin or block must match its
// declaration (how many positional arguments, which keywords, which are required, and the type of an
// argument written as a literal). Each is reported with the words and at the place elaboration would
// use (the call, or the argument at fault), so `vitc check FILE.vit` finds a bad call in a branch that
// a spec never takes, and a spec that takes it gets the same line.
import { error, type Diagnostic } from '../diag/diagnostic.js';
import { closest, didYouMean } from '../util/suggest.js';
import type { Arg, BlockDef, Expr } from './ast.js';
import { BUILTIN_BY_NAME, fitsB, typeWords, type Builtin } from './builtins.js';
import type { Module } from './module.js';
import { shownSpan } from './anchor.js';
import { bool, describe, fits, float, int, NONE, str, typeName, type DValue } from './values.js';

/** What a call is checked against: the callee's parameters in order. */
interface Signature {
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly required: boolean; readonly accepts: (v: DValue) => boolean; readonly words: string; readonly positive?: boolean }[];
  /** "takes 2 arguments" for blocks, "takes at most 2 arguments" for builtins (as elaboration says). */
  readonly atMost: boolean;
  /** Where a missing argument's declaration is (blocks), or the builtin's one-line usage. */
  readonly hint: (param: string) => string;
}

function blockSignature(def: BlockDef): Signature {
  return {
    name: def.name,
    atMost: false,
    params: def.params.map((p) => ({
      name: p.name,
      required: !p.default,
      accepts: (v: DValue) => !p.type || fits(v, p.type),
      words: p.type ? typeName(p.type) : 'any value',
    })),
    hint: (param) => {
      const p = def.params.find((q) => q.name === param);
      return p ? `declared at ${shownSpan(p.span)}` : `its parameters: ${def.params.map((q) => q.name).join(', ')}`;
    },
  };
}

function builtinSignature(fn: Builtin): Signature {
  return {
    name: fn.name,
    atMost: true,
    params: fn.params.map((p) => ({ name: p.name, required: !p.default, accepts: (v: DValue) => fitsB(v, p.type), words: typeWords(p.type), positive: p.positive })),
    hint: () => `${fn.name}(${fn.params.map((q) => q.name).join(', ')}): ${fn.doc}`,
  };
}

/** The value of an argument written as a literal (`3`, `-1.5`, `"same"`, `none`, `[1, 2]`), else undefined. */
export function literalValue(e: Expr): DValue | undefined {
  switch (e.kind) {
    case 'num': return e.isInt ? int(e.value) : float(e.value);
    case 'str': return str(e.value);
    case 'bool': return bool(e.value);
    case 'none': return NONE;
    case 'unary': {
      const v = e.op === '-' ? literalValue(e.arg) : undefined;
      return v && (v.kind === 'int' || v.kind === 'float') ? { ...v, n: -v.n } : undefined;
    }
    case 'list': {
      const items = e.items.map(literalValue);
      return items.every((i): i is DValue => i !== undefined) ? { kind: 'list', items } : undefined;
    }
    default: return undefined;
  }
}

/**
 * The callee a call names when it is known before elaboration: a block visible in the file, or a
 * builtin, unless a parameter or local name of the calling block shadows it (then it is a value,
 * e.g. the `encoder: block` a model is given, and only elaboration knows it).
 */
function signatureOf(callee: string, locals: ReadonlySet<string>, m: Module): Signature | undefined {
  if (locals.has(callee)) return undefined;
  const blk = m.blocks.get(callee);
  if (blk) return blk.def.kind === 'block' ? blockSignature(blk.def) : undefined;
  const fn = BUILTIN_BY_NAME.get(callee);
  return fn ? builtinSignature(fn) : undefined;
}

/** Diagnostics for one call `e` made from a block whose parameters and local names are `locals`. */
export function checkCall(e: Extract<Expr, { kind: 'call' }>, locals: ReadonlySet<string>, m: Module): Diagnostic[] {
  const sig = signatureOf(e.callee, locals, m);
  if (!sig) return [];
  const diags: Diagnostic[] = [];
  const positional: Arg[] = [];
  const named = new Map<string, Arg>();
  let sawNamed = false;
  for (const a of e.args) {
    if (a.name === undefined) {
      if (sawNamed) { diags.push(error('dsl/args', 'positional arguments must come before named ones', a.span)); return diags; }
      positional.push(a);
      continue;
    }
    sawNamed = true;
    if (named.has(a.name)) { diags.push(error('dsl/args', `argument "${a.name}" is given twice`, a.span)); continue; }
    named.set(a.name, a);
  }
  if (positional.length > sig.params.length) {
    const n = sig.params.length;
    diags.push(error('dsl/args', `${sig.name} takes ${sig.atMost ? 'at most ' : ''}${n} argument${n === 1 ? '' : 's'}; got ${positional.length}`, e.span, sig.hint('')));
    return diags;
  }
  /** Parameters a misspelled keyword was meant for: the did-you-mean says it, not a second "missing" line. */
  const meant = new Set<string>();
  for (const [name, a] of named) {
    const i = sig.params.findIndex((p) => p.name === name);
    if (i < 0) {
      // An offered argument is for callees that declare it; others never see it.
      if (a.offered) continue;
      const close = closest(name, sig.params.map((p) => p.name));
      if (close !== undefined) meant.add(close);
      diags.push(error('dsl/args', `${sig.name} has no parameter "${name}"`, a.span, didYouMean(name, sig.params.map((p) => p.name)) ?? sig.hint(name)));
    } else if (i < positional.length) {
      diags.push(error('dsl/args', `${sig.name}: "${name}" is given twice (by position and by name)`, a.span));
    }
  }
  sig.params.forEach((p, i) => {
    const a = positional[i] ?? named.get(p.name);
    if (!a) {
      if (p.required && !meant.has(p.name)) diags.push(error('dsl/args', `${sig.name}: missing argument "${p.name}" (${p.words})`, e.span, sig.hint(p.name)));
      return;
    }
    const v = literalValue(a.value);
    if (v === undefined) return;
    if (!p.accepts(v)) diags.push(error('dsl/type', `${sig.name}: "${p.name}" must be ${p.words}; got ${describe(v)}`, a.span));
    else if (p.positive && v.kind === 'int' && v.n < 1) diags.push(error('dsl/groups', `${sig.name}: ${p.name} must be a positive integer; got ${v.n}`, e.span));
  });
  return diags;
}
