// Diagnostics are data: every user-facing error in vitc is a Diagnostic with a span, formatted in one place.
import { escapeText, truncate } from './quote.js';

/** A position in a source file (1-based line and column), optionally with an end. */
export interface Span {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly endLine?: number;
  readonly endCol?: number;
}

export type Severity = 'error' | 'warning' | 'note';

export interface Diagnostic {
  /** Stable machine-readable code, e.g. "spec/unknown-key". */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  /** Where the problem is. A file-level problem has line 0 (formatted as `file: message`). */
  readonly span?: Span;
  /** A suggestion, printed after the message. */
  readonly hint?: string;
}

/** Thrown to abort a compilation with user-facing diagnostics (exit code 1). */
export class DiagnosticError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'DiagnosticError';
    this.diagnostics = diagnostics;
  }
}

export function error(code: string, message: string, span?: Span, hint?: string): Diagnostic {
  return { code, severity: 'error', message, span, hint };
}

export function note(code: string, message: string, span?: Span, hint?: string): Diagnostic {
  return { code, severity: 'note', message, span, hint };
}

/** Throw a single error diagnostic. */
export function fail(code: string, message: string, span?: Span, hint?: string): never {
  throw new DiagnosticError([error(code, message, span, hint)]);
}

/** A span that names only a file (formatted as `file: message`). */
export function fileSpan(file: string): Span {
  return { file, line: 0, col: 0 };
}

export function formatSpan(span: Span): string {
  return span.line > 0 ? `${span.file}:${span.line}:${span.col}` : span.file;
}

/** The longest message or hint printed; user text is quoted short (diag/quote.ts), this only backs that up. */
const MAX_PART = 1000;

/** One line: `file:line:col: error: message (hint)`. Line breaks in the text become spaces, other unsafe characters escapes. */
export function formatDiagnostic(d: Diagnostic): string {
  const short = (s: string) => {
    const { text, cut } = truncate(s, MAX_PART);
    return cut ? `${text}...` : text;
  };
  const oneLine = (s: string) => short(escapeText(s.replace(/\s*\n\s*/g, ' ')));
  // A path no file can have (a 100 kB argument) is cut like the rest; a real one is at most 4096 bytes.
  const where = d.span ? `${formatSpan({ ...d.span, file: short(escapeText(d.span.file)) })}: ` : '';
  const hint = d.hint ? ` (${oneLine(d.hint)})` : '';
  return `${where}${d.severity}: ${oneLine(d.message)}${hint}`;
}

/** Order diagnostics by file, line, column so output is deterministic. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => [d.span?.file ?? '', d.span?.line ?? 0, d.span?.col ?? 0] as const;
  return [...ds].sort((a, b) => {
    const [fa, la, ca] = key(a);
    const [fb, lb, cb] = key(b);
    return fa < fb ? -1 : fa > fb ? 1 : la - lb || ca - cb;
  });
}
