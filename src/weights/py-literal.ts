// The Python literals a .npy header is written in (NEP 1: "a Python literal expression of a
// dictionary"): dicts, tuples, lists, strings, ints, True, False and None, as ast.literal_eval reads
// them, minus what numpy never writes and what a header has no use for (floats, hex ints, sets, bytes).

export type PyValue =
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'int'; readonly v: bigint; readonly text: string }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'none' }
  | { readonly t: 'tuple' | 'list'; readonly items: readonly PyValue[] }
  | { readonly t: 'dict'; readonly entries: readonly (readonly [PyValue, PyValue])[] };

/** A malformed literal; `at` is the character offset. */
export class PyLiteralError extends Error {
  constructor(message: string, readonly at: number) {
    super(message);
  }
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };

/** What a value is, for messages: `the int 3`, `a tuple`. */
export function pyKind(v: PyValue): string {
  switch (v.t) {
    case 'str': return `the string ${JSON.stringify(v.v.length > 32 ? `${v.v.slice(0, 32)}...` : v.v)}`;
    case 'int': return `the int ${v.text.length > 24 ? `${v.text.slice(0, 24)}...` : v.text}`;
    case 'bool': return v.v ? 'True' : 'False';
    case 'none': return 'None';
    case 'tuple': return 'a tuple';
    case 'list': return 'a list';
    case 'dict': return 'a dict';
  }
}

/** Parse `text` as one Python literal (surrounding whitespace allowed). */
export function parsePyLiteral(text: string, opts: { readonly longSuffix?: boolean } = {}): PyValue {
  let i = 0;
  const fail = (msg: string): never => { throw new PyLiteralError(msg, i); };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++; };
  const shown = () => (i >= text.length ? 'the end of the header' : JSON.stringify(text.slice(i, i + 8)));
  const expect = (c: string) => { ws(); if (text[i] !== c) fail(`expected "${c}" but found ${shown()}`); i++; };
  // Depth is bounded by the header's length, itself bounded by the caller; guard the stack anyway.
  let depth = 0;

  const sequence = (close: string): PyValue[] => {
    const items: PyValue[] = [];
    for (;;) {
      ws();
      if (text[i] === close) { i++; return items; }
      items.push(value());
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === close) { i++; return items; }
      fail(`expected "," or "${close}" but found ${shown()}`);
    }
  };

  const value = (): PyValue => {
    if (++depth > 32) fail('the literal nests too deeply');
    try {
      ws();
      const c = text[i];
      if (c === '{') {
        i++;
        const entries: [PyValue, PyValue][] = [];
        for (;;) {
          ws();
          if (text[i] === '}') { i++; return { t: 'dict', entries }; }
          const k = value();
          expect(':');
          entries.push([k, value()]);
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === '}') { i++; return { t: 'dict', entries }; }
          fail(`expected "," or "}" but found ${shown()}`);
        }
      }
      if (c === '(') {
        i++;
        ws();
        if (text[i] === ')') { i++; return { t: 'tuple', items: [] }; }
        const first = value();
        ws();
        // (x) is x; (x,) is a tuple.
        if (text[i] === ')') { i++; return first; }
        if (text[i] !== ',') fail(`expected "," or ")" but found ${shown()}`);
        i++;
        return { t: 'tuple', items: [first, ...sequence(')')] };
      }
      if (c === '[') { i++; return { t: 'list', items: sequence(']') }; }
      if (c === "'" || c === '"') {
        i++;
        let s = '';
        for (;;) {
          if (i >= text.length || text[i] === '\n') fail('a string is not closed');
          const ch = text[i++]!;
          if (ch === c) return { t: 'str', v: s };
          if (ch !== '\\') { s += ch; continue; }
          const e = text[i++];
          if (e === undefined || !Object.hasOwn(ESCAPES, e)) fail(`unsupported escape "\\${e ?? ''}" in a string`);
          s += ESCAPES[e!];
        }
      }
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 64))?.[0];
      if (word !== undefined) {
        i += word.length;
        if (word === 'True' || word === 'False') return { t: 'bool', v: word === 'True' };
        if (word === 'None') return { t: 'none' };
        return fail(`unexpected name ${JSON.stringify(word)}`);
      }
      const num = /^[+-]?[0-9][0-9A-Za-z_.]*(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400))?.[0];
      if (num !== undefined) {
        const m = /^([+-]?)([0-9]+)(L?)$/.exec(num);
        if (!m || (m[3] && !opts.longSuffix) || (m[2]!.length > 1 && m[2]!.startsWith('0'))) {
          fail(/^[+-]?0[xXoObB]/.test(num) ? `${JSON.stringify(num)} is not written in decimal` : /[.eE]/.test(num) && !/[xX]/.test(num) ? `${JSON.stringify(num)} is not an int` : `${JSON.stringify(num)} is not a decimal int`);
        }
        i += num.length;
        return { t: 'int', v: BigInt(`${m![1]}${m![2]}`), text: `${m![1]}${m![2]}` };
      }
      return fail(`unexpected ${shown()}`);
    } finally {
      depth--;
    }
  };

  const v = value();
  ws();
  if (i < text.length) fail(`unexpected ${shown()} after the literal`);
  return v;
}
