// Text -> syntax tree, with lexer and parser errors as diagnostics, and comments and blank lines
// attached to the statements around them (for the formatter).
import type { IToken } from 'chevrotain';
import { error, type Diagnostic, type Span } from '../diag/diagnostic.js';
import { quote } from '../diag/quote.js';
import { lexer, significantTokens } from './tokens.js';
import { VitParser } from './parser.js';
import { checkNesting } from './nesting.js';
import { BLANK_LINE, newInnerTrivia, newTrivia, type BlockDef, type Body, type Expr, type FileAst, type Stmt, type Trivia } from './ast.js';

let parser: VitParser | undefined;
let fallbacks = 0;

/** How often a parser action failed after a syntax error and the errors alone were reported (tests keep it 0). */
export function parserFallbacks(): number {
  return fallbacks;
}

export interface ParseResult {
  readonly ast: FileAst;
  readonly diagnostics: readonly Diagnostic[];
}

export function parseVit(file: string, text: string): ParseResult {
  const lexed = lexer.tokenize(text);
  const diagnostics: Diagnostic[] = lexed.errors.map((e) => {
    const c = String.fromCodePoint(text.codePointAt(e.offset) ?? 0xfffd);
    // A quote that starts no string token is one whose string has no closing quote on its line.
    if (c === '"') return error('dsl/lex', 'this string has no closing " on its line', { file, line: e.line ?? 0, col: e.column ?? 0 }, 'a string ends on the line it starts');
    return error('dsl/lex', `unexpected character ${quote(c)}`, { file, line: e.line ?? 0, col: e.column ?? 0 }, /\p{L}/u.test(c) ? 'names are ASCII letters, digits and _' : undefined);
  });
  const empty: FileAst = { file, imports: [], items: [], dangling: [], inner: newInnerTrivia() };
  // Parse errors after a bad character are mostly its echoes: report the characters alone.
  if (diagnostics.length) return { ast: empty, diagnostics };
  const tokens = significantTokens(lexed.tokens);
  const tooDeep = checkNesting(file, tokens);
  if (tooDeep) return { ast: empty, diagnostics: [tooDeep] };
  const p = (parser ??= new VitParser());
  p.file = file;
  p.misreads = [];
  p.input = tokens;
  let parsed: ReturnType<VitParser['fileRule']>;
  try {
    parsed = p.fileRule();
  } catch (e) {
    // Recovery values keep the actions safe; should one still fail after a syntax error was
    // recorded, that error is what the user needs to see. Its state unknown, the parser is replaced.
    parser = undefined;
    if (p.errors.length === 0 && diagnostics.length === 0) throw e;
    fallbacks++;
    parsed = { imports: [], items: [] };
  }
  for (const m of p.misreads) diagnostics.push(error('dsl/syntax', m.message, { ...m.span, file }, m.hint));
  for (const e of p.errors) {
    const t = e.token;
    const at = Number.isFinite(t.startLine) ? { line: t.startLine!, col: t.startColumn! } : lastPosition(lexed.tokens, text);
    diagnostics.push(error('dsl/syntax', e.message, { file, ...at }));
  }
  const ast: FileAst = { file, imports: parsed.imports.filter(Boolean), items: parsed.items.filter(Boolean), dangling: [], inner: newInnerTrivia() };
  if (diagnostics.length === 0) attachTrivia(ast, lexed.groups.comments ?? [], text);
  return { ast, diagnostics: dedupe(diagnostics) };
}

function lastPosition(tokens: readonly IToken[], text: string): { line: number; col: number } {
  const lines = text.split(/\r?\n|\r/);
  const t = tokens[tokens.length - 1];
  return t ? { line: t.endLine ?? lines.length, col: (t.endColumn ?? 0) + 1 } : { line: lines.length, col: 1 };
}

/** Recovery can report the same place twice; keep the first message per position. */
function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.span?.line}:${d.span?.col}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

interface Pos { readonly line: number; readonly col: number }
const startOf = (s: Span): Pos => ({ line: s.line, col: s.col });
/** Just after the span's last character. */
const endOf = (s: Span): Pos => ({ line: s.endLine ?? s.line, col: s.endCol ?? s.col + 1 });
const lt = (a: Pos, b: Pos) => a.line < b.line || (a.line === b.line && a.col < b.col);

interface Sibling { readonly start: Pos; readonly line: number; readonly endLine: number; readonly trivia: Trivia; readonly bodies: readonly Body[]; readonly seqs: () => Seq[]; readonly gaps: () => Gap[] }

/** A bracketed list (a signature's parameters, a call's arguments, a list literal) whose brackets lie between start and end. */
interface Seq { readonly start: Pos; readonly end: Pos; readonly container: object; readonly elements: readonly { readonly key: object; readonly span: Span }[] }

/** The lines between an if's `}` and its `else`. */
interface Gap { readonly start: Pos; readonly end: Pos; readonly then: Body }

function stmtBodies(s: Stmt): Body[] {
  if (s.kind === 'if') {
    const out = [s.then];
    if (s.else) out.push(...('stmts' in s.else ? [s.else] : stmtBodies(s.else)));
    return out;
  }
  return s.kind === 'repeat' ? [s.body] : [];
}

function exprSeqs(e: Expr, out: Seq[]): Seq[] {
  switch (e.kind) {
    case 'call':
      out.push({ start: startOf(e.span), end: endOf(e.span), container: e, elements: e.args.map((a) => ({ key: a, span: a.span })) });
      for (const a of e.args) exprSeqs(a.value, out);
      break;
    case 'list':
      out.push({ start: startOf(e.span), end: endOf(e.span), container: e, elements: e.items.map((i) => ({ key: i, span: i.span })) });
      for (const i of e.items) exprSeqs(i, out);
      break;
    case 'index':
      exprSeqs(e.target, out);
      for (const s of e.subs) for (const x of s.kind === 'at' ? [s.index] : [s.start, s.end]) if (x) exprSeqs(x, out);
      break;
    case 'unary': exprSeqs(e.arg, out); break;
    case 'binary': exprSeqs(e.left, out); exprSeqs(e.right, out); break;
    case 'cond': exprSeqs(e.then, out); exprSeqs(e.cond, out); exprSeqs(e.else, out); break;
    case 'num': case 'str': case 'bool': case 'none': case 'name': break;
  }
  return out;
}

/** The bracketed lists in a statement's own lines (not in its bodies). */
function stmtSeqs(s: Stmt): Seq[] {
  const out: Seq[] = [];
  switch (s.kind) {
    case 'assign': return exprSeqs(s.value, out);
    case 'param': exprSeqs(s.shape, out); return exprSeqs(s.init, out);
    case 'input': return exprSeqs(s.shape, out);
    case 'return': for (const v of s.values) exprSeqs(v, out); return out;
    case 'expr': return exprSeqs(s.expr, out);
    case 'repeat': return exprSeqs(s.count, out);
    case 'if': for (let l: Stmt | Body | undefined = s; l && 'kind' in l && l.kind === 'if'; l = l.else) exprSeqs(l.cond, out); return out;
  }
}

function blockSeqs(b: BlockDef): Seq[] {
  const out: Seq[] = [{ start: endOf(b.nameSpan), end: startOf(b.body.span), container: b, elements: b.params.map((p) => ({ key: p, span: p.span })) }];
  for (const p of b.params) if (p.default) exprSeqs(p.default, out);
  return out;
}

function ifGaps(s: Stmt): Gap[] {
  const out: Gap[] = [];
  for (let l: Stmt | Body | undefined = s; l && 'kind' in l && l.kind === 'if' && l.else; l = l.else) out.push({ start: endOf(l.then.span), end: startOf(l.else.span), then: l.then });
  return out;
}

function lastOf<T>(xs: readonly T[], pred: (x: T) => boolean): T | undefined {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i]!)) return xs[i];
  return undefined;
}

function attachTrivia(ast: FileAst, comments: readonly IToken[], text: string): void {
  const lines = text.split(/\r?\n|\r/);
  const isBlank = (l: number) => l >= 1 && (lines[l - 1] ?? '').trim() === '';
  const anyBlank = (from: number, to: number) => { for (let l = from; l < to; l++) if (isBlank(l)) return true; return false; };
  const top: Sibling[] = [
    ...ast.imports.map((i) => ({ start: startOf(i.span), line: i.span.line, endLine: i.span.endLine ?? i.span.line, trivia: i.trivia, bodies: [], seqs: () => [], gaps: () => [] })),
    ...ast.items.map((b) => ({ start: startOf(b.span), line: b.span.line, endLine: b.span.endLine ?? b.span.line, trivia: b.trivia, bodies: [b.body], seqs: () => blockSeqs(b), gaps: () => [] })),
  ].sort((a, b) => a.line - b.line);
  const siblingsOf = (body: Body): Sibling[] => body.stmts.map((s) => ({ start: startOf(s.span), line: s.span.line, endLine: s.span.endLine ?? s.span.line, trivia: s.trivia, bodies: stmtBodies(s), seqs: () => stmtSeqs(s), gaps: () => ifGaps(s) }));
  const { elements, closing, beforeElse } = ast.inner;
  const noteOf = <K>(m: Map<K, Trivia>, k: K) => { let t = m.get(k); if (!t) m.set(k, (t = newTrivia())); return t; };

  const lastCommentLine = new Map<string[], number>();
  /** The lines of the first and last comment before a sibling, on lines of their own. */
  const leadingLines = new Map<Trivia, { first: number; last: number }>();
  for (const c of comments) {
    const line = c.startLine!;
    const at: Pos = { line, col: c.startColumn! };
    const textOf = c.image.slice(1).trimEnd();
    const before = (lines[line - 1] ?? '').slice(0, c.startColumn! - 1);
    // Find the innermost list of siblings whose enclosing body contains this comment.
    let siblings = top;
    let dangling = ast.dangling;
    let host: Sibling | undefined;
    for (;;) {
      host = lastOf(siblings, (s) => lt(s.start, at) && line <= s.endLine);
      const body = host?.bodies.find((b) => lt(startOf(b.span), at) && lt(at, endOf(b.span)));
      if (!host || !body) break;
      siblings = siblingsOf(body);
      dangling = body.dangling;
    }
    if (host && line < host.endLine) {
      // Inside a block's or statement's own lines but in no body: in a bracketed list, it stays
      // with the element it follows on its line, else with the next one, else before the closing
      // bracket; between `}` and `else`, it stays there.
      const seq = host.seqs().filter((s) => lt(s.start, at) && lt(at, s.end)).reduce<Seq | undefined>((a, s) => (a && !lt(a.start, s.start) ? a : s), undefined);
      if (seq) {
        const after = lastOf(seq.elements, (e) => !lt(at, endOf(e.span)));
        const inside = seq.elements.find((e) => lt(startOf(e.span), at) && lt(at, endOf(e.span)));
        if (after && after.span.endLine === line && !inside) noteOf(elements, after.key).trailing = textOf;
        else {
          const next = inside ?? seq.elements.find((e) => lt(at, startOf(e.span)));
          if (next) noteOf(elements, next.key).comments.push(textOf);
          else closing.set(seq.container, [...(closing.get(seq.container) ?? []), textOf]);
        }
        continue;
      }
      const gap = host.gaps().find((g) => lt(g.start, at) && lt(at, g.end));
      if (gap) {
        const note = noteOf(beforeElse, gap.then);
        if (gap.start.line === line) note.trailing = textOf;
        else note.comments.push(textOf);
        continue;
      }
      // Elsewhere in a header (`if (a and # ...`), it opens the body that follows; within a
      // multi-line expression, it goes before the statement. Never to the next sibling, which it
      // does not describe.
      const opened = host.bodies.find((b) => b.span.line > line);
      const first = opened ? siblingsOf(opened)[0] : undefined;
      const list = opened ? (first ? first.trivia.comments : opened.dangling) : host.trivia.comments;
      list.push(textOf);
      lastCommentLine.set(list, line);
      continue;
    }
    if (before.trim() !== '') {
      // A comment after code: it belongs to the statement ending on this line, else to the next one.
      const owner = lastOf(siblings, (s) => s.endLine === line);
      if (owner && owner.trivia.trailing === undefined) { owner.trivia.trailing = textOf; continue; }
    }
    const next = siblings.find((s) => s.line > line);
    const list = next ? next.trivia.comments : dangling;
    const prevLine = lastCommentLine.get(list);
    if (prevLine !== undefined) {
      // Blank lines between groups of comments are kept as a BLANK_LINE entry.
      if (line - prevLine > 1 && isBlank(line - 1)) list.push(BLANK_LINE);
    } else if (!next) {
      // So is one between the last sibling and the comments after it.
      const prev = lastOf(siblings, (s) => s.endLine < line);
      if (prev && anyBlank(prev.endLine + 1, line)) list.push(BLANK_LINE);
    }
    list.push(textOf);
    lastCommentLine.set(list, line);
    if (next && before.trim() === '') {
      const l = leadingLines.get(next.trivia);
      leadingLines.set(next.trivia, { first: l?.first ?? line, last: line });
    }
  }

  // Blank lines: before a sibling's first comment line, or before the sibling itself; and between its
  // comments and itself.
  const markBlank = (sibs: Sibling[], openLine: number) => {
    let prevEnd = openLine;
    for (const s of sibs) {
      const own = leadingLines.get(s.trivia);
      if (anyBlank(prevEnd + 1, own ? Math.min(own.first, s.line) : s.line)) s.trivia.blankBefore = true;
      if (own && anyBlank(own.last + 1, s.line)) s.trivia.comments.push(BLANK_LINE);
      prevEnd = s.endLine;
      for (const b of s.bodies) markBlank(siblingsOf(b), b.span.line);
    }
  };
  markBlank(top, 0);
}
