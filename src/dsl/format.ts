// `vitc fmt`: the canonical text of a model-language file. Comments and blank lines are kept;
// layout, spacing and redundant parentheses are normalized. Formatting is idempotent.
import { BLANK_LINE, type Arg, type BlockDef, type Body, type Expr, type FileAst, type ParamDef, type Stmt, type Subscript, type Trivia, type TypeRef } from './ast.js';

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

export function formatExpr(e: Expr, min = 0): string {
  const s = exprText(e);
  return prec(e) < min ? `(${s})` : s;
}

function exprText(e: Expr): string {
  switch (e.kind) {
    case 'num': return e.text;
    case 'str': return JSON.stringify(e.value);
    case 'bool': return e.value ? 'true' : 'false';
    case 'none': return 'none';
    case 'name': return e.name;
    case 'list': return `[${e.items.map((i) => formatExpr(i)).join(', ')}]`;
    case 'unary': return e.op === 'not' ? `not ${formatExpr(e.arg, 3)}` : `-${formatExpr(e.arg, 7)}`;
    case 'binary': {
      const p = PREC[e.op]!;
      if (e.op === '**') return `${formatExpr(e.left, 9)} ** ${formatExpr(e.right, 7)}`;
      if (p === 4) return `${formatExpr(e.left, 5)} ${e.op} ${formatExpr(e.right, 5)}`;
      return `${formatExpr(e.left, p)} ${e.op} ${formatExpr(e.right, p + 1)}`;
    }
    case 'cond': return `${formatExpr(e.then, 1)} if ${formatExpr(e.cond, 1)} else ${formatExpr(e.else, 0)}`;
    case 'call': {
      const call = `${e.callee}(${e.args.map(argText).join(', ')})`;
      return e.scope ? `${call} as ${e.scope.parts.join('.')}` : call;
    }
    case 'index': return `${formatExpr(e.target, 9)}[${e.subs.map(subText).join(', ')}]`;
  }
}

function argText(a: Arg): string {
  return a.name ? `${a.name}${a.offered ? '?' : ''} = ${formatExpr(a.value)}` : formatExpr(a.value);
}

function subText(s: Subscript): string {
  if (s.kind === 'at') return formatExpr(s.index);
  return `${s.start ? formatExpr(s.start) : ''}:${s.end ? formatExpr(s.end) : ''}`;
}

function typeText(t: TypeRef): string {
  return `${t.base}${t.list ? '[]' : ''}${t.optional ? '?' : ''}`;
}

function paramText(p: ParamDef): string {
  return `${p.name}${p.type ? `: ${typeText(p.type)}` : ''}${p.default ? ` = ${formatExpr(p.default)}` : ''}`;
}

class Printer {
  readonly lines: string[] = [];

  leading(t: Trivia, indent: string, first: boolean, forceBlank = false): void {
    if ((t.blankBefore || forceBlank) && !first) this.lines.push('');
    for (const c of t.comments) this.lines.push(c === BLANK_LINE ? '' : `${indent}#${c}`);
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
    for (const c of b.dangling) this.lines.push(c === BLANK_LINE ? '' : `${indent}${INDENT}#${c}`);
    this.lines.push(`${indent}}`);
  }

  stmt(s: Stmt, indent: string, first: boolean): void {
    this.leading(s.trivia, indent, first);
    switch (s.kind) {
      case 'assign': this.lines.push(`${indent}${s.targets.map((t) => t.name).join(', ')} = ${formatExpr(s.value)}`); break;
      case 'param': this.lines.push(`${indent}param ${s.name}: ${formatExpr(s.shape)} = ${formatExpr(s.init)}`); break;
      case 'input': this.lines.push(`${indent}input ${s.name}: ${formatExpr(s.shape)}`); break;
      case 'return': this.lines.push(`${indent}return ${s.values.map((v) => formatExpr(v)).join(', ')}`); break;
      case 'expr': this.lines.push(`${indent}${formatExpr(s.expr)}`); break;
      case 'repeat': this.body(s.body, indent, `${indent}repeat ${formatExpr(s.count)}${s.scope ? ` as ${s.scope.parts.join('.')}` : ''}${s.index ? `, ${s.index.name}` : ''}`); break;
      case 'if': this.ifChain(s, indent, `${indent}if`); break;
    }
    this.trailing(s.trivia);
  }

  ifChain(s: Extract<Stmt, { kind: 'if' }>, indent: string, head: string): void {
    this.body(s.then, indent, `${head} ${formatExpr(s.cond)}`);
    if (!s.else) return;
    const closing = this.lines.pop()!;
    if ('stmts' in s.else) this.body(s.else, indent, `${closing} else`);
    else this.ifChain(s.else, indent, `${closing} else if`);
  }

  item(b: BlockDef, first: boolean): void {
    this.leading(b.trivia, '', first, true);
    const ret = b.returns ? ` -> ${typeText(b.returns)}` : '';
    let head = `${b.kind} ${b.name}(${b.params.map(paramText).join(', ')})${ret}`;
    if (head.length + 2 > MAX_LINE && b.params.length > 0) {
      head = `${b.kind} ${b.name}(\n${b.params.map((p) => `${INDENT}${INDENT}${paramText(p)}`).join(',\n')}\n)${ret}`;
    }
    this.body(b.body, '', head);
    this.trailing(b.trivia);
  }
}

export function formatFile(ast: FileAst): string {
  const p = new Printer();
  const entries = [
    ...ast.imports.map((i) => ({ line: i.span.line, print: (first: boolean) => { p.leading(i.trivia, '', first); p.lines.push(`import ${JSON.stringify(i.path)}`); p.trailing(i.trivia); } })),
    ...ast.items.map((b) => ({ line: b.span.line, print: (first: boolean) => p.item(b, first) })),
  ].sort((a, b) => a.line - b.line);
  entries.forEach((e, i) => e.print(i === 0));
  for (const c of ast.dangling) p.lines.push(c === BLANK_LINE ? '' : `#${c}`);
  return p.lines.join('\n') + '\n';
}
