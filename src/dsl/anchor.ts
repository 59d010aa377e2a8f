// Errors raised inside vitc's own stdlib blocks (a parameter too large in Linear, a shape that does
// not fit in Attention) are the caller's doing: they are reported at the user's call, or at the spec,
// with the stdlib line kept in the hint.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { DiagnosticError, formatSpan, type Span } from '../diag/diagnostic.js';
import { stdlibDir } from '../paths.js';

/** Is this path (absolute, or as shown in messages: relative to the working directory) in vitc's stdlib? */
export function inStdlib(file: string): boolean {
  const rel = relative(stdlibDir, resolve(file));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** A stdlib file as `stdlib/nn.vit`, wherever vitc is installed. */
function stdlibName(file: string): string {
  return `stdlib/${relative(stdlibDir, resolve(file)).split(sep).join('/')}`;
}

/** A span as hints quote it: `file:line:col`, a stdlib file as `stdlib/nn.vit`. */
export function shownSpan(span: Span): string {
  return formatSpan(inStdlib(span.file) ? { ...span, file: stdlibName(span.file) } : span);
}

/** Run `fn`; diagnostics it raises at stdlib lines are moved to `at`. */
export function anchoredAt<T>(at: Span, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof DiagnosticError) || !e.diagnostics.some((d) => d.span && inStdlib(d.span.file))) throw e;
    throw new DiagnosticError(e.diagnostics.map((d) => (d.span && inStdlib(d.span.file)
      ? { ...d, span: at, hint: `${d.hint ? `${d.hint}; ` : ''}raised in vitc's ${shownSpan(d.span)}` }
      : d)));
  }
}
