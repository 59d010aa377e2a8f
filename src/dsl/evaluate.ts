// Elaboration: run a model definition with concrete hyperparameters, building IR through the one
// IR builder. Shape and type errors are reported at the model-language expression that caused them.
import { fail, type Span } from '../diag/diagnostic.js';
import { fmtCount, MAX_EVAL_NESTING, MAX_UNROLLED } from '../limits.js';
import { GraphBuilder, type Value } from '../ir/builder.js';
import { BATCH } from '../ir/types.js';
import { didYouMean } from '../util/suggest.js';
import type { BinOp, BlockDef, Body, Expr, Stmt, Subscript } from './ast.js';
import { BUILTIN_BY_NAME, BUILTIN_VALUES, fitsB, typeWords, type Builtin } from './builtins.js';
import type { Module } from './module.js';
import { anchoredAt, inStdlib, shownSpan } from './anchor.js';
import { checkBoundCall, checkBoundResult } from './bound.js';
import { bool, coerce, describe, fits, float, int, isNumber, NONE, str, tensorV, typeName, type DValue } from './values.js';
import { quote } from '../diag/quote.js';

const MAX_DEPTH = 64;

interface Frame {
  readonly module: Module;
  readonly vars: Map<string, DValue>;
  readonly isModel: boolean;
  /** The graph input, once `input` has run. */
  input?: Value;
}

/** A block's `return`: its value, and where it was returned (a wrong return type is reported there). */
type Flow = { readonly returned: DValue; readonly span: Span } | undefined;

export class Elaborator {
  private depth = 0;
  /** Block calls, statements and expressions being evaluated, one inside the other. */
  private nesting = 0;
  /** Statements run and repeat iterations so far. */
  private work = 0;
  /**
   * Where an unused value is reported, by its IR value id: the name it was last assigned to, else
   * the user's call of the stdlib block that returned it (not the stdlib line, once per layer).
   */
  readonly origins = new Map<number, { readonly name?: string; readonly callee?: string; readonly span: Span }>();
  constructor(readonly b: GraphBuilder) {}

  /** Run `fn` one level deeper, failing at `span` before the evaluator's stack could overflow. */
  private deeper<T>(span: Span, fn: () => T): T {
    if (++this.nesting > MAX_EVAL_NESTING) fail('dsl/nesting', `blocks and expressions nest more than ${fmtCount(MAX_EVAL_NESTING)} deep while elaborating the model`, span, 'is a block recursive?');
    try { return this.b.at(span, fn); } finally { this.nesting--; }
  }

  /** Count one unit of elaboration work (a statement or a repeat iteration). */
  private step(span: Span): void {
    if (++this.work > MAX_UNROLLED) fail('dsl/unrolled', `elaborating the model runs more than ${fmtCount(MAX_UNROLLED)} statements and repeat iterations`, span, 'is a repeat count far too large, or do repeats recurse?');
  }

  /** Call a block (or model) with named arguments; returns its result. */
  callBlock(def: BlockDef, module: Module, positional: readonly { value: DValue; span: Span }[], named: ReadonlyMap<string, { value: DValue; span: Span }>, callSpan: Span): DValue {
    return this.deeper(callSpan, () => this.callBlockInner(def, module, positional, named, callSpan));
  }

  private callBlockInner(def: BlockDef, module: Module, positional: readonly { value: DValue; span: Span }[], named: ReadonlyMap<string, { value: DValue; span: Span }>, callSpan: Span): DValue {
    if (++this.depth > MAX_DEPTH) fail('dsl/recursion', `blocks nest more than ${MAX_DEPTH} deep (is ${def.name} recursive?)`, callSpan);
    try {
      const vars = new Map<string, DValue>();
      if (positional.length > def.params.length) {
        fail('dsl/args', `${def.name} takes ${def.params.length} arguments; got ${positional.length}`, callSpan);
      }
      def.params.forEach((p, i) => {
        let v: DValue | undefined = positional[i]?.value;
        const n = named.get(p.name);
        const argSpan = n?.span ?? positional[i]?.span ?? p.default?.span ?? callSpan;
        if (n) {
          if (v !== undefined) fail('dsl/args', `${def.name}: "${p.name}" is given twice (by position and by name)`, n.span);
          v = n.value;
        }
        if (v === undefined) {
          if (!p.default) fail('dsl/args', `${def.name}: missing argument "${p.name}"${p.type ? ` (${typeName(p.type)})` : ''}`, callSpan, `declared at ${shownSpan(p.span)}`);
          v = this.expr(p.default, { module, vars: new Map(), isModel: false });
        }
        if (p.type && !fits(v, p.type)) {
          fail('dsl/type', `${def.name}: "${p.name}" must be ${typeName(p.type)}; got ${describe(v)}`, argSpan);
        }
        vars.set(p.name, coerce(v, p.type));
      });
      for (const [name, { span }] of named) {
        if (!def.params.some((p) => p.name === name)) {
          fail('dsl/args', `${def.name} has no parameter ${quote(name)}`, span, didYouMean(name, def.params.map((p) => p.name)) ?? `its parameters: ${def.params.map((p) => p.name).join(', ')}`);
        }
      }
      const frame: Frame = { module, vars, isModel: def.kind === 'model' };
      const flow = this.body(def.body, frame);
      if (!flow) fail('dsl/no-return', `${def.name} ends without returning a value`, def.body.span);
      const result = flow.returned;
      if (def.returns && !fits(result, def.returns)) fail('dsl/type', `${def.name} must return ${typeName(def.returns)}; this returns ${describe(result)}`, flow.span, `declared at ${shownSpan(def.returns.span)}`);
      if (def.kind === 'model') {
        if (!frame.input) fail('dsl/no-input', `model ${def.name} has no input statement`, def.nameSpan);
        if (result.kind !== 'tensor') fail('dsl/type', `model ${def.name} must return a tensor; it returned ${describe(result)}`, def.nameSpan);
      }
      return result;
    } finally {
      this.depth--;
    }
  }

  private body(body: Body, f: Frame): Flow {
    for (const s of body.stmts) {
      this.step(s.span);
      const flow = this.deeper(s.span, () => this.stmt(s, f));
      if (flow) return flow;
    }
    return undefined;
  }

  private stmt(s: Stmt, f: Frame): Flow {
    switch (s.kind) {
      case 'assign': {
        const v = this.expr(s.value, f);
        const bind = (t: { readonly name: string; readonly span: Span }, item: DValue) => {
          f.vars.set(t.name, item);
          if (item.kind === 'tensor') this.origins.set(item.value.id, { name: t.name, span: t.span });
        };
        if (s.targets.length === 1) { bind(s.targets[0]!, v); return undefined; }
        if (v.kind !== 'tuple' || v.items.length !== s.targets.length) {
          fail('dsl/unpack', `cannot unpack ${describe(v)} into ${s.targets.length} names`, s.value.span);
        }
        s.targets.forEach((t, i) => bind(t, v.items[i]!));
        return undefined;
      }
      case 'param': {
        const shape = this.expr(s.shape, f);
        if (shape.kind !== 'list' || !shape.items.every((i) => i.kind === 'int' && i.n >= 1)) {
          fail('dsl/param-shape', `the shape of parameter "${s.name}" must be a list of positive ints; got ${describe(shape)}`, s.shape.span);
        }
        const init = this.expr(s.init, f);
        const i = init.kind === 'init' ? init.init : isNumber(init) ? { kind: 'constant' as const, value: init.n } : fail('dsl/init', `the initializer of "${s.name}" must be normal(std), uniform(low, high), constant(v), zeros, ones or a number; got ${describe(init)}`, s.init.span);
        f.vars.set(s.name, tensorV(this.b.param(s.name, shape.items.map((d) => (d as { n: number }).n), i, s.nameSpan)));
        return undefined;
      }
      case 'input': {
        if (!f.isModel) fail('dsl/input', '`input` may only appear in a model', s.span);
        if (f.input) fail('dsl/input', 'a model has exactly one input', s.span);
        const shape = this.expr(s.shape, f);
        if (shape.kind !== 'list' || !shape.items.every((i) => (i.kind === 'int' && i.n >= 1) || i.kind === 'batch') || shape.items.filter((i) => i.kind === 'batch').length !== 1 || shape.items[0]!.kind !== 'batch') {
          fail('dsl/input', `the input shape must be a list starting with B followed by positive ints; got ${describe(shape)}`, s.shape.span);
        }
        f.input = this.b.input('input', shape.items.map((d) => (d.kind === 'batch' ? BATCH : (d as { n: number }).n)));
        f.vars.set(s.name, tensorV(f.input));
        return undefined;
      }
      case 'if': {
        const c = this.expr(s.cond, f);
        if (c.kind !== 'bool') fail('dsl/type', `an if condition must be a bool; got ${describe(c)}`, s.cond.span);
        if (c.b) return this.body(s.then, f);
        if (!s.else) return undefined;
        return 'stmts' in s.else ? this.body(s.else, f) : this.stmt(s.else, f);
      }
      case 'repeat': {
        const n = this.expr(s.count, f);
        if (n.kind !== 'int' || n.n < 0) fail('dsl/type', `repeat needs a count >= 0; got ${describe(n)}`, s.count.span);
        if (n.n > MAX_UNROLLED) fail('dsl/unrolled', `repeat ${fmtCount(n.n)} times is more than the ${fmtCount(MAX_UNROLLED)} iterations a model may unroll`, s.count.span);
        for (let i = 0; i < n.n; i++) {
          this.step(s.span);
          if (s.index) f.vars.set(s.index.name, int(i));
          const run = () => this.body(s.body, f);
          const flow = s.scope ? this.b.scoped([...s.scope.parts, String(i)].join('.'), run, s.scope.span) : run();
          if (flow) return flow;
        }
        return undefined;
      }
      case 'return': {
        const vals = s.values.map((e) => this.expr(e, f));
        return { returned: vals.length === 1 ? vals[0]! : { kind: 'tuple', items: vals }, span: s.values.length === 1 ? s.values[0]!.span : s.span };
      }
      case 'expr':
        return fail('dsl/unused', 'the value of this expression is not used; assign it to a name or return it', s.span);
    }
  }

  private lookup(name: string, span: Span, f: Frame): DValue {
    const v = f.vars.get(name) ?? BUILTIN_VALUES.get(name);
    if (v) return v;
    const blk = f.module.blocks.get(name);
    if (blk) return { kind: 'block', def: blk.def, module: blk.module };
    const fn = BUILTIN_BY_NAME.get(name);
    if (fn) return { kind: 'builtin', fn };
    return fail('dsl/unknown-name', `unknown name ${quote(name)}`, span, didYouMean(name, [...f.vars.keys(), ...BUILTIN_VALUES.keys(), ...f.module.blocks.keys(), ...BUILTIN_BY_NAME.keys()]));
  }

  expr(e: Expr, f: Frame): DValue {
    return this.deeper(e.span, () => this.exprInner(e, f));
  }

  private exprInner(e: Expr, f: Frame): DValue {
    switch (e.kind) {
      case 'num': return e.isInt ? int(e.value) : float(e.value);
      case 'str': return str(e.value);
      case 'bool': return bool(e.value);
      case 'none': return NONE;
      case 'name': return this.lookup(e.name, e.span, f);
      case 'list': return { kind: 'list', items: e.items.map((i) => this.expr(i, f)) };
      case 'cond': {
        const c = this.expr(e.cond, f);
        if (c.kind !== 'bool') fail('dsl/type', `a condition must be a bool; got ${describe(c)}`, e.cond.span);
        return this.expr(c.b ? e.then : e.else, f);
      }
      case 'unary': {
        const v = this.expr(e.arg, f);
        if (e.op === 'not') {
          if (v.kind !== 'bool') fail('dsl/type', `"not" needs a bool; got ${describe(v)}`, e.arg.span);
          return bool(!v.b);
        }
        if (v.kind === 'int') return int(-v.n);
        if (v.kind === 'float') return float(-v.n);
        if (v.kind === 'tensor') return tensorV(this.b.op('neg', [v.value], {}));
        return fail('dsl/type', `cannot negate ${describe(v)}`, e.span);
      }
      case 'binary': return this.binary(e.op, e.left, e.right, e.span, f);
      case 'call': return this.call(e, f);
      case 'index': return this.index(this.expr(e.target, f), e.subs, e.span, f);
    }
  }

  private binary(op: BinOp, le: Expr, re: Expr, span: Span, f: Frame): DValue {
    if (op === 'and' || op === 'or') {
      const l = this.expr(le, f);
      if (l.kind !== 'bool') fail('dsl/type', `"${op}" needs bools; got ${describe(l)}`, le.span);
      if (op === 'and' ? !l.b : l.b) return l;
      const r = this.expr(re, f);
      if (r.kind !== 'bool') fail('dsl/type', `"${op}" needs bools; got ${describe(r)}`, re.span);
      return r;
    }
    const l = this.expr(le, f);
    const r = this.expr(re, f);
    if (op === '==' || op === '!=') {
      const eq = equalValues(l, r);
      if (eq === undefined) fail('dsl/type', `cannot compare ${describe(l)} with ${describe(r)}`, span);
      return bool(op === '==' ? eq : !eq);
    }
    if (isNumber(l) && isNumber(r)) return arith(op, l, r, span);
    if (op === '+' && l.kind === 'list' && r.kind === 'list') return { kind: 'list', items: [...l.items, ...r.items] };
    if ((l.kind === 'tensor' || isNumber(l)) && (r.kind === 'tensor' || isNumber(r))) {
      const TOPS: Partial<Record<BinOp, 'add' | 'sub' | 'mul' | 'div'>> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' };
      const toT = (v: DValue): Value => (v.kind === 'tensor' ? v.value : this.b.scalar((v as { n: number }).n));
      if (op === '@') {
        if (l.kind !== 'tensor' || r.kind !== 'tensor') fail('dsl/type', '"@" needs two tensors', span);
        return tensorV(this.b.op('matmul', [l.value, r.value], {}));
      }
      const top = TOPS[op];
      if (!top) fail('dsl/type', `"${op}" is not defined for tensors`, span, op === '//' ? 'use / for tensors' : undefined);
      return tensorV(this.b.op(top, [toT(l), toT(r)], {}));
    }
    return fail('dsl/type', `"${op}" is not defined for ${describe(l)} and ${describe(r)}`, span);
  }

  private call(e: Extract<Expr, { kind: 'call' }>, f: Frame): DValue {
    const callee = this.lookup(e.callee, e.calleeSpan, f);
    const declared = callee.kind === 'builtin' ? callee.fn.params.map((p) => p.name) : callee.kind === 'block' ? callee.def.params.map((p) => p.name) : [];
    const positional: { value: DValue; span: Span }[] = [];
    const named = new Map<string, { value: DValue; span: Span }>();
    for (const a of e.args) {
      if (a.name === undefined && named.size) fail('dsl/args', 'positional arguments must come before named ones', a.span);
      if (a.name !== undefined && named.has(a.name)) fail('dsl/args', `argument ${quote(a.name)} is given twice`, a.span);
      // An offered argument (`name? = value`) goes only to a callee that declares it.
      if (a.offered && !declared.includes(a.name!)) continue;
      const v = this.expr(a.value, f);
      if (a.name === undefined) positional.push({ value: v, span: a.span });
      else named.set(a.name, { value: v, span: a.span });
    }
    if (callee.kind === 'builtin') {
      if (e.scope) fail('dsl/scope', `"as ${e.scope.parts.join('.')}" names the parameters of a block call; ${e.callee} is a builtin and declares none`, e.scope.span);
      return this.callBuiltin(callee.fn, positional, named, e.span);
    }
    if (callee.kind !== 'block') return fail('dsl/not-callable', `${e.callee} is ${describe(callee)}, not a block or builtin`, e.calleeSpan);
    if (callee.def.kind === 'model') fail('dsl/model-call', `model ${callee.def.name} cannot be called; only blocks can`, e.calleeSpan);
    // Arguments the spec set for this block (its hyperparameters) join the call's own.
    for (const [name, p] of callee.preset ?? []) {
      const given = named.get(name) ?? positional[declared.indexOf(name)];
      if (given) fail('dsl/args', `"${name}" of ${callee.def.name} is set in the spec, but its caller passes it too (at ${shownSpan(given.span)})`, p.span, 'remove it from the spec');
      named.set(name, p);
    }
    // A block the spec gave the model: it must fit the call, and its stdlib lines are the spec's doing.
    const bound = callee.bound;
    if (bound) checkBoundCall(callee.def, bound, e.callee, e.args, positional, named, new Set(callee.preset?.keys()));
    // A stdlib block called from the user's code: its errors are the call's.
    const fromUser = inStdlib(callee.module.absPath) && !inStdlib(f.module.absPath);
    const call = () => this.callBlock(callee.def, callee.module, positional, named, e.span);
    const run = bound ? () => anchoredAt(bound.span, call) : fromUser ? () => anchoredAt(e.span, call) : call;
    const result = e.scope ? this.b.scoped(e.scope.parts.join('.'), run, e.scope.span) : run();
    if (bound) checkBoundResult(callee.def, bound, positional[0]?.value, result);
    if (fromUser && result.kind === 'tensor') this.origins.set(result.value.id, { callee: e.callee, span: e.span });
    return result;
  }

  private callBuiltin(fn: Builtin, positional: readonly { value: DValue; span: Span }[], named: Map<string, { value: DValue; span: Span }>, span: Span): DValue {
    if (positional.length > fn.params.length) fail('dsl/args', `${fn.name} takes at most ${fn.params.length} arguments; got ${positional.length}`, span);
    const bound: Record<string, DValue> = {};
    fn.params.forEach((p, i) => {
      const n = named.get(p.name);
      let v = positional[i]?.value;
      if (n) {
        if (v !== undefined) fail('dsl/args', `${fn.name}: "${p.name}" is given twice`, n.span);
        v = n.value;
      }
      if (v === undefined) {
        if (!p.default) fail('dsl/args', `${fn.name}: missing argument "${p.name}" (${typeWords(p.type)})`, span, `${fn.name}(${fn.params.map((q) => q.name).join(', ')}): ${fn.doc}`);
        v = p.default;
      }
      if (!fitsB(v, p.type)) fail('dsl/type', `${fn.name}: "${p.name}" must be ${typeWords(p.type)}; got ${describe(v)}`, n?.span ?? positional[i]?.span ?? span);
      bound[p.name] = v;
    });
    for (const [name, { span: s }] of named) {
      if (!fn.params.some((p) => p.name === name)) fail('dsl/args', `${fn.name} has no parameter ${quote(name)}`, s, didYouMean(name, fn.params.map((p) => p.name)) ?? `${fn.name}(${fn.params.map((q) => q.name).join(', ')})`);
    }
    const result = fn.call(bound, { b: this.b, span });
    return checkedNumber(result, () => `${fn.name}(${fn.params.map((p) => { const v = bound[p.name]!; return isNumber(v) ? numText(v) : p.name; }).join(', ')})`, span);
  }

  private index(target: DValue, subs: readonly Subscript[], span: Span, f: Frame): DValue {
    const intOf = (e: Expr | undefined): number | undefined => {
      if (!e) return undefined;
      const v = this.expr(e, f);
      if (v.kind !== 'int') fail('dsl/type', `an index must be an int; got ${describe(v)}`, e.span);
      return v.n;
    };
    if (target.kind === 'list' || target.kind === 'tuple') {
      const s = subs[0]!;
      if (subs.length !== 1 || s.kind !== 'at') fail('dsl/index', 'a list takes one index', span);
      const i = intOf(s.index)!;
      const j = i < 0 ? i + target.items.length : i;
      if (j < 0 || j >= target.items.length) fail('dsl/index', `index ${i} is out of range for ${target.items.length} items`, span);
      return target.items[j]!;
    }
    if (target.kind !== 'tensor') return fail('dsl/index', `cannot index ${describe(target)}`, span);
    let x = target.value;
    const rank = x.type.shape.length;
    if (subs.length > rank) fail('dsl/index', `${subs.length} indices for a tensor of rank ${rank}`, span);
    // Apply from the last axis so earlier axis numbers stay valid when an index removes an axis.
    for (let axis = subs.length - 1; axis >= 0; axis--) {
      const s = subs[axis]!;
      const dim = x.type.shape[axis]!;
      if (s.kind === 'slice' && !s.start && !s.end) continue;
      if (dim === BATCH) fail('dsl/index', 'the batch dim cannot be indexed', span);
      const norm = (i: number) => (i < 0 ? i + (dim as number) : i);
      if (s.kind === 'at') {
        x = this.b.op('select', [x], { axis, index: norm(intOf(s.index)!) });
      } else {
        // Python's reading: negative bounds count from the end, and both stop at the dim's ends.
        const [s0, e0] = [intOf(s.start), intOf(s.end)];
        const clamp = (i: number) => Math.min(Math.max(norm(i), 0), dim as number);
        const start = clamp(s0 ?? 0), end = clamp(e0 ?? (dim as number));
        if (start >= end) {
          fail('dsl/index', `slice ${s0 ?? ''}:${e0 ?? ''} selects nothing from a dim of size ${dim}${start === s0 && end === e0 ? '' : ` (as Python reads it: ${start}:${end})`}`, span, 'a slice keeps the indices from its start up to, not including, its end');
        }
        x = this.b.op('slice', [x], { axis, start, end });
      }
    }
    return tensorV(x);
  }
}

function equalValues(a: DValue, b: DValue): boolean | undefined {
  if (a.kind === 'none' || b.kind === 'none') return a.kind === b.kind;
  if (isNumber(a) && isNumber(b)) return a.n === b.n;
  if (a.kind === 'str' && b.kind === 'str') return a.s === b.s;
  if (a.kind === 'bool' && b.kind === 'bool') return a.b === b.b;
  return undefined;
}

/**
 * `v` when it is a usable number: a finite float, or an int within ±(2^53 - 1) where ints are exact.
 * `what` says how it was computed (`2 ** 100000`, `sqrt(-1)`).
 */
export function checkedNumber(v: DValue, what: () => string, span: Span): DValue {
  if (v.kind === 'int' && !Number.isSafeInteger(v.n)) {
    fail('dsl/overflow', `${what()} ${Number.isFinite(v.n) ? `is ${v.n}, beyond` : 'overflows'} the exact int range (±${Number.MAX_SAFE_INTEGER})`, span);
  }
  if (v.kind === 'float' && !Number.isFinite(v.n)) fail('dsl/non-finite', `${what()} is ${v.n}, not a finite number`, span);
  return v;
}

const numText = (v: { n: number }) => String(v.n);

function arith(op: BinOp, l: Extract<DValue, { kind: 'int' | 'float' }>, r: Extract<DValue, { kind: 'int' | 'float' }>, span: Span): DValue {
  const bothInt = l.kind === 'int' && r.kind === 'int';
  const num = (n: number) => checkedNumber(bothInt ? int(n) : float(n), () => `${numText(l)} ${op} ${numText(r)}`, span);
  switch (op) {
    case '+': return num(l.n + r.n);
    case '-': return num(l.n - r.n);
    case '*': return num(l.n * r.n);
    case '/':
      if (r.n === 0) fail('dsl/div-zero', 'division by zero', span);
      return checkedNumber(float(l.n / r.n), () => `${numText(l)} / ${numText(r)}`, span);
    case '//':
      if (r.n === 0) fail('dsl/div-zero', 'division by zero', span);
      return num(Math.floor(l.n / r.n));
    case '**': return checkedNumber(bothInt && r.n >= 0 ? int(l.n ** r.n) : float(l.n ** r.n), () => `${numText(l)} ** ${numText(r)}`, span);
    case '<': return bool(l.n < r.n);
    case '>': return bool(l.n > r.n);
    case '<=': return bool(l.n <= r.n);
    case '>=': return bool(l.n >= r.n);
    default: return fail('dsl/type', `"${op}" is not defined for numbers`, span);
  }
}

