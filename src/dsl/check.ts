// Static checks of a model-language file, before anything runs: unknown names (with the closest
// known one), assignments to things that are not names, unused expression statements, misplaced
// `input`, parameter types, number literals out of range, statements that can never run, calls that
// do not match their callee's declaration (check-calls.ts).
// All problems are reported together.
import { error, type Diagnostic } from '../diag/diagnostic.js';
import { quote } from '../diag/quote.js';
import { didYouMean } from '../util/suggest.js';
import type { BlockDef, Body, Expr, Stmt } from './ast.js';
import { BUILTIN_BY_NAME, BUILTIN_VALUES } from './builtins.js';
import type { Module } from './module.js';
import { BASE_TYPES } from './parser.js';
import { checkCall, literalValue } from './check-calls.js';
import { describe, fits, typeName } from './values.js';

function boundNames(body: Body, out: Set<string>): void {
  for (const s of body.stmts) {
    if (s.kind === 'assign') s.targets.forEach((t) => out.add(t.name));
    if (s.kind === 'param' || s.kind === 'input') out.add(s.name);
    if (s.kind === 'if') {
      boundNames(s.then, out);
      let e = s.else;
      while (e) {
        if ('stmts' in e) { boundNames(e, out); break; }
        boundNames(e.then, out);
        e = e.else;
      }
    }
    if (s.kind === 'repeat') {
      if (s.index) out.add(s.index.name);
      boundNames(s.body, out);
    }
  }
}

export function checkModule(m: Module): Diagnostic[] {
  const diags: Diagnostic[] = [];
  for (const def of m.ast.items) diags.push(...checkBlock(def, m));
  return diags;
}

function checkBlock(def: BlockDef, m: Module): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const p of def.params) {
    if (seen.has(p.name)) diags.push(error('dsl/param', `parameter "${p.name}" is declared twice`, p.span));
    seen.add(p.name);
    if (p.type && !BASE_TYPES.includes(p.type.base)) {
      diags.push(error('dsl/type-name', `unknown type ${quote(p.type.base)}`, p.type.span, didYouMean(p.type.base, BASE_TYPES) ?? `types: ${BASE_TYPES.join(', ')}`));
    }
  }
  if (def.returns && !BASE_TYPES.includes(def.returns.base)) {
    diags.push(error('dsl/type-name', `unknown type ${quote(def.returns.base)}`, def.returns.span, didYouMean(def.returns.base, BASE_TYPES)));
  }
  const locals = new Set<string>(def.params.map((p) => p.name));
  boundNames(def.body, locals);
  const names = new Set<string>([...locals, ...BUILTIN_VALUES.keys(), ...BUILTIN_BY_NAME.keys(), ...m.blocks.keys()]);
  const defaults = new Set<string>([...BUILTIN_VALUES.keys(), ...BUILTIN_BY_NAME.keys(), ...m.blocks.keys()]);
  for (const p of def.params) {
    if (!p.default) continue;
    expr(p.default, defaults);
    const v = literalValue(p.default);
    if (v && p.type && BASE_TYPES.includes(p.type.base) && !fits(v, p.type)) {
      diags.push(error('dsl/type', `the default of "${p.name}" must be ${typeName(p.type)}; got ${describe(v)}`, p.default.span));
    }
  }

  function expr(e: Expr, known: ReadonlySet<string>): void {
    switch (e.kind) {
      case 'num':
        if (!Number.isFinite(e.value)) diags.push(error('dsl/number', `the number ${quote(e.text, 24)} is too large`, e.span, `numbers are at most ${Number.MAX_VALUE}`));
        else if (e.isInt && !Number.isSafeInteger(e.value)) diags.push(error('dsl/number', `the int ${quote(e.text, 24)} is too large`, e.span, `ints are exact up to ${Number.MAX_SAFE_INTEGER}`));
        break;
      case 'name':
        if (!known.has(e.name)) diags.push(error('dsl/unknown-name', `unknown name ${quote(e.name)}`, e.span, didYouMean(e.name, known)));
        break;
      case 'list': e.items.forEach((i) => expr(i, known)); break;
      case 'unary': expr(e.arg, known); break;
      case 'binary': expr(e.left, known); expr(e.right, known); break;
      case 'cond': expr(e.then, known); expr(e.cond, known); expr(e.else, known); break;
      case 'index':
        expr(e.target, known);
        for (const s of e.subs) {
          if (s.kind === 'at') expr(s.index, known);
          else { if (s.start) expr(s.start, known); if (s.end) expr(s.end, known); }
        }
        break;
      case 'call':
        if (!e.callee) diags.push(error('dsl/not-callable', 'only a name can be called', e.calleeSpan));
        else if (!known.has(e.callee)) diags.push(error('dsl/unknown-name', `unknown block or function ${quote(e.callee)}`, e.calleeSpan, didYouMean(e.callee, known)));
        else if (e.scope && BUILTIN_BY_NAME.has(e.callee) && !def.params.some((p) => p.name === e.callee) && !m.blocks.has(e.callee)) {
          diags.push(error('dsl/scope', `"as ${e.scope.parts.join('.')}" names the parameters of a block call; ${e.callee} is a builtin and declares none`, e.scope.span));
        } else {
          diags.push(...checkCall(e, known === names ? locals : new Set(), m));
        }
        e.args.forEach((a) => expr(a.value, known));
        break;
      default: break;
    }
  }

  function stmt(s: Stmt): void {
    switch (s.kind) {
      case 'assign':
        s.targets.forEach((t) => { if (!t.name) diags.push(error('dsl/assign', 'only names can be assigned to', t.span)); });
        expr(s.value, names);
        break;
      case 'param': expr(s.shape, names); expr(s.init, names); break;
      case 'input':
        if (def.kind !== 'model') diags.push(error('dsl/input', '`input` may only appear in a model', s.span));
        expr(s.shape, names);
        break;
      case 'if': {
        expr(s.cond, names);
        body(s.then);
        if (s.else) { if ('stmts' in s.else) body(s.else); else stmt(s.else); }
        break;
      }
      case 'repeat': expr(s.count, names); body(s.body); break;
      case 'return': s.values.forEach((v) => expr(v, names)); break;
      case 'expr':
        expr(s.expr, names);
        diags.push(error('dsl/unused', 'the value of this expression is not used; assign it to a name or return it', s.span));
        break;
    }
  }
  /** The statements of a body; one after a statement that always returns can never run. */
  function body(b: Body): void {
    const end = b.stmts.findIndex(alwaysReturns);
    const dead = end >= 0 ? b.stmts[end + 1] : undefined;
    if (dead) diags.push(error('dsl/unreachable', 'this statement can never run: the statement before it always returns', dead.span, 'remove it, or move the return'));
    b.stmts.forEach(stmt);
  }
  body(def.body);
  if (!def.body.stmts.some(returnsSomewhere)) {
    diags.push(error('dsl/no-return', `${def.kind} ${def.name} never returns a value: its body has no return statement`, def.nameSpan, 'end it with `return` and the value it computes'));
  }
  return diags;
}

/** Is there a `return` in `s` (in any branch or repeat)? A block without one fails whenever it runs. */
function returnsSomewhere(s: Stmt): boolean {
  if (s.kind === 'return') return true;
  if (s.kind === 'repeat') return s.body.stmts.some(returnsSomewhere);
  if (s.kind !== 'if') return false;
  return s.then.stmts.some(returnsSomewhere) || (s.else !== undefined && ('stmts' in s.else ? s.else.stmts.some(returnsSomewhere) : returnsSomewhere(s.else)));
}

/** Does running `s` return in every case? (`return`, or an if whose every branch returns.) */
function alwaysReturns(s: Stmt): boolean {
  if (s.kind === 'return') return true;
  if (s.kind !== 'if' || !s.else) return false;
  const bodyReturns = (b: Body) => b.stmts.some(alwaysReturns);
  return bodyReturns(s.then) && ('stmts' in s.else ? bodyReturns(s.else) : alwaysReturns(s.else));
}
