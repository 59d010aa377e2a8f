// `vitc fmt`: the canonical text of a model-language file. Comments and blank lines are kept;
// layout, spacing and redundant parentheses are normalized. Formatting is idempotent.
import { BLANK_LINE, newInnerTrivia, type Arg, type BlockDef, type Body, type Expr, type FileAst, type IfStmt, type InnerTrivia, type ParamDef, type Stmt, type Subscript, type Trivia, type TypeRef } from './ast.js';

const INDENT = '  ';
const MAX_LINE = 100;

const PREC: Record<string, number> = { or: 1, and: 2, '==': 4, '!=': 4, '<': 4, '>': 4, '<=': 4, '>=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '//': 6, '@': 6, '**': 8 };

function prec(e: Expr): number {
  switch (e.kind) {
    case 'cond': return 0;
    case 'binary': return PREC[e.op]!;
    case 'unary': return e.op === 'not' ? 3 : 7;
    default: return 9;
  }
}

/** An expression on one line (comments inside it are not printed). */
export function formatExpr(e: Expr, min = 0): string {
  return new ExprPrinter(newInnerTrivia()).expr(e, '', min);
}

/**
 * Expressions with the comments inside their bracketed lists: a list that has any is printed one
 * element per line, each comment where it was; `indent` is that of the line the expression starts on.
 */
class ExprPrinter {
  constructor(private readonly inner: InnerTrivia) {}

  expr(e: Expr, indent: string, min = 0): string {
    const s = this.text(e, indent);
    return prec(e) < min ? `(${s})` : s;
  }

  private text(e: Expr, indent: string): string {
    const x = (sub: Expr, min = 0) => this.expr(sub, indent, min);
    switch (e.kind) {
      case 'num': return e.text;
      case 'str': return JSON.stringify(e.value);
      case 'bool': return e.value ? 'true' : 'false';
      case 'none': return 'none';
      case 'name': return e.name;
      case 'list': return this.list('[', e.items.map((i) => ({ key: i, text: (ind: string) => this.expr(i, ind) })), ']', e, indent);
      case 'unary':
        if (e.op === 'not') return `not ${x(e.arg, 3)}`;
        // `--a` would read as a decrement.
        return e.arg.kind === 'unary' && e.arg.op === '-' ? `-(${x(e.arg)})` : `-${x(e.arg, 7)}`;
      case 'binary': {
        const p = PREC[e.op]!;
        if (e.op === '**') return `${x(e.left, 9)} ** ${x(e.right, 7)}`;
        if (p === 4) return `${x(e.left, 5)} ${e.op} ${x(e.right, 5)}`;
        return `${x(e.left, p)} ${e.op} ${x(e.right, p + 1)}`;
      }
      case 'cond': return `${x(e.then, 1)} if ${x(e.cond, 1)} else ${x(e.else, 0)}`;
      case 'call': {
        const call = `${e.callee}${this.list('(', e.args.map((a) => ({ key: a, text: (ind: string) => this.arg(a, ind) })), ')', e, indent)}`;
        return e.scope ? `${call} as ${e.scope.parts.join('.')}` : call;
      }
      case 'index': return `${x(e.target, 9)}[${e.subs.map((s) => this.sub(s, indent)).join(', ')}]`;
    }
  }

  private arg(a: Arg, indent: string): string {
    const v = this.expr(a.value, indent);
    return a.name ? `${a.name}${a.offered ? '?' : ''} = ${v}` : v;
  }

  private sub(s: Subscript, indent: string): string {
    if (s.kind === 'at') return this.expr(s.index, indent);
    return `${s.start ? this.expr(s.start, indent) : ''}:${s.end ? this.expr(s.end, indent) : ''}`;
  }

  param(p: ParamDef, indent: string): string {
    return `${p.name}${p.type ? `: ${typeText(p.type)}` : ''}${p.default ? ` = ${this.expr(p.default, indent)}` : ''}`;
  }

  /** Does this bracketed list carry comments? Then it is printed one element per line. */
  hasComments(keys: readonly object[], container: object): boolean {
    return keys.some((k) => this.inner.elements.has(k)) || this.inner.closing.has(container);
  }

  /**
   * `open a, b close`, or (with comments, or when `broken`) one element per line at `inner`, the
   * closing bracket on a line of its own at `indent`.
   */
  list(open: string, items: readonly { key: object; text: (indent: string) => string }[], close: string, container: object, indent: string, broken = false, inner = indent + INDENT): string {
    if (!broken && !this.hasComments(items.map((i) => i.key), container)) return `${open}${items.map((i) => i.text(indent)).join(', ')}${close}`;
    const lines: string[] = [];
    items.forEach((item, i) => {
      const note = this.inner.elements.get(item.key);
      for (const c of note?.comments ?? []) lines.push(comment(c, inner));
      const comma = i < items.length - 1 ? ',' : '';
      lines.push(`${inner}${item.text(inner)}${comma}${note?.trailing !== undefined ? ` #${note.trailing}` : ''}`);
    });
    for (const c of this.inner.closing.get(container) ?? []) lines.push(comment(c, inner));
    return `${open}\n${lines.join('\n')}\n${indent}${close}`;
  }
}

const comment = (c: string, indent: string) => (c === BLANK_LINE ? '' : `${indent}#${c}`);

function typeText(t: TypeRef): string {
  return `${t.base}${t.list ? '[]' : ''}${t.optional ? '?' : ''}`;
}

class Printer {
  readonly lines: string[] = [];
  private readonly x: ExprPrinter;

  constructor(private readonly inner: InnerTrivia) {
    this.x = new ExprPrinter(inner);
  }

  leading(t: Trivia, indent: string, first: boolean, forceBlank = false): void {
    if ((t.blankBefore || forceBlank) && !first) this.lines.push('');
    for (const c of t.comments) this.lines.push(comment(c, indent));
  }

  trailing(t: Trivia): void {
    if (t.trailing !== undefined) this.lines[this.lines.length - 1] += ` #${t.trailing}`;
  }

  body(b: Body, indent: string, head: string): void {
    if (b.stmts.length === 0 && b.dangling.length === 0) {
      this.lines.push(`${head} {}`);
      return;
    }
    this.lines.push(`${head} {`);
    b.stmts.forEach((s, i) => this.stmt(s, indent + INDENT, i === 0));
    for (const c of b.dangling) this.lines.push(comment(c, indent + INDENT));
    this.lines.push(`${indent}}`);
  }

  stmt(s: Stmt, indent: string, first: boolean): void {
    this.leading(s.trivia, indent, first);
    const x = (e: Expr) => this.x.expr(e, indent);
    switch (s.kind) {
      case 'assign': this.lines.push(`${indent}${s.targets.map((t) => t.name).join(', ')} = ${x(s.value)}`); break;
      case 'param': this.lines.push(`${indent}param ${s.name}: ${x(s.shape)} = ${x(s.init)}`); break;
      case 'input': this.lines.push(`${indent}input ${s.name}: ${x(s.shape)}`); break;
      case 'return': this.lines.push(`${indent}return ${s.values.map(x).join(', ')}`); break;
      case 'expr': this.lines.push(`${indent}${x(s.expr)}`); break;
      case 'repeat': this.body(s.body, indent, `${indent}repeat ${x(s.count)}${s.scope ? ` as ${s.scope.parts.join('.')}` : ''}${s.index ? `, ${s.index.name}` : ''}`); break;
      case 'if': this.ifChain(s, indent, `${indent}if`); break;
    }
    this.trailing(s.trivia);
  }

  ifChain(s: IfStmt, indent: string, head: string): void {
    this.body(s.then, indent, `${head} ${this.x.expr(s.cond, indent)}`);
    if (!s.else) return;
    // `} else {`, unless comments sit between them: then they stay there, and so does `else`.
    const between = this.inner.beforeElse.get(s.then);
    let elseHead: string;
    if (between) {
      this.trailing(between);
      for (const c of between.comments) this.lines.push(comment(c, indent));
      elseHead = `${indent}else`;
    } else {
      elseHead = `${this.lines.pop()!} else`;
    }
    if ('stmts' in s.else) this.body(s.else, indent, elseHead);
    else this.ifChain(s.else, indent, `${elseHead} if`);
  }

  item(b: BlockDef, first: boolean): void {
    this.leading(b.trivia, '', first, true);
    const ret = b.returns ? ` -> ${typeText(b.returns)}` : '';
    const params = b.params.map((p) => ({ key: p, text: (indent: string) => this.x.param(p, indent) }));
    // A long signature, or one with comments (in a default value too), takes a line per parameter.
    const flat = `${b.kind} ${b.name}(${params.map((p) => p.text('')).join(', ')})${ret}`;
    const broken = (flat.length + 2 > MAX_LINE && b.params.length > 0) || flat.includes('\n') || this.x.hasComments(b.params, b);
    const head = broken ? `${b.kind} ${b.name}${this.x.list('(', params, ')', b, '', true, INDENT + INDENT)}${ret}` : flat;
    this.body(b.body, '', head);
    this.trailing(b.trivia);
  }
}

export function formatFile(ast: FileAst): string {
  const p = new Printer(ast.inner);
  const entries = [
    ...ast.imports.map((i) => ({ line: i.span.line, print: (first: boolean) => { p.leading(i.trivia, '', first); p.lines.push(`import ${JSON.stringify(i.path)}`); p.trailing(i.trivia); } })),
    ...ast.items.map((b) => ({ line: b.span.line, print: (first: boolean) => p.item(b, first) })),
  ].sort((a, b) => a.line - b.line);
  entries.forEach((e, i) => e.print(i === 0));
  for (const c of ast.dangling) p.lines.push(comment(c, ''));
  return p.lines.join('\n') + '\n';
}
