// Text -> syntax tree, with lexer and parser errors as diagnostics, and comments and blank lines
// attached to the statements around them (for the formatter).
import type { IToken } from 'chevrotain';
import { error, type Diagnostic } from '../diag/diagnostic.js';
import { quote } from '../diag/quote.js';
import { lexer, significantTokens } from './tokens.js';
import { VitParser } from './parser.js';
import { checkNesting } from './nesting.js';
import { BLANK_LINE, type Body, type FileAst, type Stmt, type Trivia } from './ast.js';

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
  const empty: FileAst = { file, imports: [], items: [], dangling: [] };
  // Parse errors after a bad character are mostly its echoes: report the characters alone.
  if (diagnostics.length) return { ast: empty, diagnostics };
  const tokens = significantTokens(lexed.tokens);
  const tooDeep = checkNesting(file, tokens);
  if (tooDeep) return { ast: empty, diagnostics: [tooDeep] };
  const p = (parser ??= new VitParser());
  p.file = file;
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
  for (const e of p.errors) {
    const t = e.token;
    const at = Number.isFinite(t.startLine) ? { line: t.startLine!, col: t.startColumn! } : lastPosition(lexed.tokens, text);
    diagnostics.push(error('dsl/syntax', e.message, { file, ...at }));
  }
  const ast: FileAst = { file, imports: parsed.imports.filter(Boolean), items: parsed.items.filter(Boolean), dangling: [] };
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

interface Sibling { readonly line: number; readonly endLine: number; readonly trivia: Trivia; readonly bodies: readonly Body[] }

function stmtBodies(s: Stmt): Body[] {
  if (s.kind === 'if') {
    const out = [s.then];
    if (s.else) out.push(...('stmts' in s.else ? [s.else] : stmtBodies(s.else)));
    return out;
  }
  return s.kind === 'repeat' ? [s.body] : [];
}

function attachTrivia(ast: FileAst, comments: readonly IToken[], text: string): void {
  const lines = text.split(/\r?\n|\r/);
  const isBlank = (l: number) => (lines[l - 1] ?? '').trim() === '';
  const top: Sibling[] = [
    ...ast.imports.map((i) => ({ line: i.span.line, endLine: i.span.endLine ?? i.span.line, trivia: i.trivia, bodies: [] })),
    ...ast.items.map((b) => ({ line: b.span.line, endLine: b.span.endLine ?? b.span.line, trivia: b.trivia, bodies: [b.body] })),
  ].sort((a, b) => a.line - b.line);
  const siblingsOf = (body: Body): Sibling[] => body.stmts.map((s) => ({ line: s.span.line, endLine: s.span.endLine ?? s.span.line, trivia: s.trivia, bodies: stmtBodies(s) }));

  const lastCommentLine = new Map<string[], number>();
  for (const c of comments) {
    const line = c.startLine!;
    const textOf = c.image.slice(1).trimEnd();
    const before = (lines[line - 1] ?? '').slice(0, c.startColumn! - 1);
    // Find the innermost list of siblings whose enclosing body contains this line.
    let siblings = top;
    let dangling = ast.dangling;
    let host: Sibling | undefined;
    for (;;) {
      host = siblings.find((s) => s.line <= line && line <= s.endLine);
      const body = host?.bodies.find((b) => b.span.line < line && line < (b.span.endLine ?? b.span.line));
      if (!host || !body) break;
      siblings = siblingsOf(body);
      dangling = body.dangling;
    }
    if (host && line < host.endLine) {
      // Inside a block's or statement's own lines but in no body's interior: in a signature or a
      // header (`if c { # ...`), it opens the body that follows; within a multi-line expression, it
      // goes before the statement. Never to the next sibling, which it does not describe.
      const opened = host.bodies.find((b) => b.span.line === line && (b.span.endLine ?? b.span.line) > line) ?? host.bodies.find((b) => b.span.line > line);
      const first = opened ? siblingsOf(opened)[0] : undefined;
      const list = opened ? (first ? first.trivia.comments : opened.dangling) : host.trivia.comments;
      list.push(textOf);
      lastCommentLine.set(list, line);
      continue;
    }
    if (before.trim() !== '') {
      // A comment after code: it belongs to the statement ending on this line, else to the next one.
      const owner = siblings.find((s) => s.endLine === line);
      if (owner && owner.trivia.trailing === undefined) { owner.trivia.trailing = textOf; continue; }
    }
    const next = siblings.find((s) => s.line > line);
    const list = next ? next.trivia.comments : dangling;
    // Blank lines between groups of comments are kept as a BLANK_LINE entry.
    const prevLine = lastCommentLine.get(list);
    if (prevLine !== undefined && line - prevLine > 1 && isBlank(line - 1)) list.push(BLANK_LINE);
    list.push(textOf);
    lastCommentLine.set(list, line);
  }

  // Blank lines: before a sibling's first comment line, or before the sibling itself.
  const markBlank = (sibs: Sibling[], openLine: number) => {
    let prevEnd = openLine;
    for (const s of sibs) {
      let first = s.line;
      while (first - 1 > prevEnd && lines[first - 2]!.trim().startsWith('#')) first--;
      for (let l = prevEnd + 1; l < first; l++) if (isBlank(l)) s.trivia.blankBefore = true;
      prevEnd = s.endLine;
      for (const b of s.bodies) markBlank(siblingsOf(b), b.span.line);
    }
  };
  markBlank(top, 0);
}
