// User text inside messages: quoted, cut to a readable length, and with every character that could
// break the one-line format or hide text (control characters, line and paragraph separators, bidi
// overrides, lone surrogates) written as an escape.

/** Characters a terminal line must not carry raw: C0/C1 controls, U+2028/9, bidi and zero-width marks, BOM, lone surrogates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` with unsafe characters escaped (`\n`, `\u2028`); everything else unchanged. */
export function escapeText(s: string): string {
  return s.replace(UNSAFE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Longest user text shown in a message, in characters. */
export const MAX_QUOTED = 64;

/** The first `max` code points of `s`, and whether anything was cut. */
export function truncate(s: string, max = MAX_QUOTED): { readonly text: string; readonly cut: boolean } {
  for (let i = 0, n = 0; i < s.length; n++) {
    if (n === max) return { text: s.slice(0, i), cut: true };
    i += s.codePointAt(i)! > 0xffff ? 2 : 1;
  }
  return { text: s, cut: false };
}

/** User text as a double-quoted string for a message: cut to `max` characters ("..." after the quote when cut), escaped. */
export function quote(s: string, max = MAX_QUOTED): string {
  const { text, cut } = truncate(s, max);
  return `"${escapeText(text.replace(/[\\"]/g, (c) => `\\${c}`))}"${cut ? '...' : ''}`;
}
