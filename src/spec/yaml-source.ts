// Parse one YAML file into a tree that remembers where every key and value came from,
// so that errors found after `extends` merging and schema validation still point at the user's text.
import { LineCounter, parseDocument, visit, isAlias, isMap, isSeq, isScalar, isPair, type Node as YamlNode } from 'yaml';
import { error, DiagnosticError, type Diagnostic, type Span } from '../diag/diagnostic.js';
import { readTextFile } from '../io/files.js';
import { quote } from '../diag/quote.js';

/** A value plus the span of its text; mappings keep their keys' spans too. */
export type SourcedNode =
  | { readonly kind: 'map'; readonly span: Span; readonly entries: ReadonlyMap<string, SourcedEntry> }
  | { readonly kind: 'leaf'; readonly span: Span; readonly value: unknown; readonly inner: ReadonlyMap<string, Span> };

export interface SourcedEntry {
  readonly keySpan: Span;
  readonly node: SourcedNode;
  /** Absolute path of the file that wrote this entry (relative paths in values resolve against it). */
  readonly origin: string;
}

export interface SourceFile {
  readonly displayName: string;
  readonly absPath: string;
  readonly text: string;
}

/** Read a spec or model-language file (a regular text file); `what` names it in messages. */
export function readSource(absPath: string, displayName: string, referencedFrom?: Span, what = 'spec'): SourceFile {
  return { absPath, displayName, text: readTextFile(absPath, what, { display: displayName, referencedFrom }) };
}

function spanAt(file: string, lc: LineCounter, offset: number, end?: number): Span {
  const p = lc.linePos(offset);
  if (end === undefined) return { file, line: p.line, col: p.col };
  const e = lc.linePos(end);
  return { file, line: p.line, col: p.col, endLine: e.line, endCol: e.col };
}

/** How many times aliases may repeat what they stand for (the yaml package's default, made explicit). */
const MAX_ALIAS_COUNT = 100;

/** Parse YAML text into a SourcedNode tree; YAML syntax errors become diagnostics (all of them). */
export function parseYamlSource(src: SourceFile): SourcedNode {
  const lc = new LineCounter();
  // Duplicate keys are found below in one pass; the yaml package's own check compares every pair.
  const doc = parseDocument(src.text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const file = src.displayName;
  const spanOf = (n: YamlNode): Span => {
    const r = n.range ?? [0, 0, 0];
    return spanAt(file, lc, r[0], r[1]);
  };
  if (doc.errors.length > 0) {
    // A line indented under a key's plain value (`name: x` then `  depth: 3`) continues that value, so
    // the parser sees a key of two lines and says so twice at the value; it is one mistake, at the line.
    const overIndented = new Map<number, number>();
    for (const e of doc.errors) {
      const key = src.text.slice(e.pos[0], e.pos[1]);
      if (e.code === 'MULTILINE_IMPLICIT_KEY' && /^[^"'[{]/.test(key) && key.includes('\n')) {
        const line = e.pos[0] + key.lastIndexOf('\n') + 1;
        overIndented.set(e.pos[0], line + /^[ \t]*/.exec(src.text.slice(line))![0].length);
      }
    }
    throw new DiagnosticError(doc.errors.flatMap((e) => {
      const at = overIndented.get(e.pos[0]);
      if (at !== undefined) {
        return e.code === 'MULTILINE_IMPLICIT_KEY' ? [error('spec/yaml-syntax', 'this line is indented more than the key above it, so YAML reads it as part of that key\'s value', spanAt(file, lc, at), 'keys of one mapping start in the same column; a nested mapping starts on the line after its key')] : [];
      }
      // The yaml package's own words for this one name its API (parseAllDocuments), not the fix.
      if (e.code === 'MULTIPLE_DOCS') return [error('spec/yaml-syntax', 'a spec is one YAML document, but another starts here', spanAt(file, lc, e.pos[0]), 'remove this "---" and what follows it, or put that in a file of its own')];
      const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return [error('spec/yaml-syntax', `YAML syntax error: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`, spanAt(file, lc, e.pos[0]))];
    }));
  }
  // The yaml package reads a value under a tag it cannot resolve as plain text and only warns
  // (`depth: !foo 2` would be the string "2"); a spec's values are plain YAML, so that is an error.
  const tags = doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED').map((w) => {
    const tag = src.text.slice(w.pos[0], w.pos[1]);
    const at = spanAt(file, lc, w.pos[0], w.pos[1]);
    return /^!!(str|int|float|bool|null|map|seq)$/.test(tag)
      ? error('spec/yaml-tag', `YAML tag ${quote(tag)} does not fit the value it tags`, at, 'remove the tag, or write a value of that type')
      : error('spec/yaml-tag', `unknown YAML tag ${quote(tag)}`, at, 'a spec\'s values are plain YAML; remove the tag');
  });
  if (tags.length > 0) throw new DiagnosticError(tags);
  const root = doc.contents as YamlNode | null;
  if (root === null) return { kind: 'map', span: { file, line: 1, col: 1 }, entries: new Map() };
  // Aliases (`*name`) stand for the node their anchor (`&name`) labels. Expanding them once here, with
  // the yaml package's bound on how much aliases may multiply the document, bounds the walk below too.
  const unresolved: Diagnostic[] = [];
  visit(doc, {
    // A plain `<<` key is YAML 1.1's merge key, which YAML 1.2 (what this parser reads) dropped.
    Pair: (_, p) => {
      if (isScalar(p.key) && p.key.value === '<<' && p.key.type === 'PLAIN') {
        unresolved.push(error('spec/yaml-merge', 'YAML merge keys ("<<") are not supported', spanOf(p.key), 'vitc shares keys with `extends:` instead, which merges deeply: put them in a spec of their own and extend it'));
      }
    },
    Alias: (_, n, path) => {
      const target = n.resolve(doc);
      if (target === undefined) {
        unresolved.push(error('spec/yaml-syntax', `YAML alias ${quote(`*${n.source}`)} names no anchor`, spanOf(n), `an alias repeats a value labelled earlier in the file with &${n.source}`));
      } else if (path.includes(target)) {
        unresolved.push(error('spec/yaml-syntax', `YAML alias ${quote(`*${n.source}`)} is inside the value it stands for`, spanOf(n), 'a value cannot contain itself'));
      }
    },
  });
  if (unresolved.length > 0) throw new DiagnosticError(unresolved);
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    throw new DiagnosticError([error('spec/yaml-syntax', `YAML aliases expand too far: they repeat values more than ${MAX_ALIAS_COUNT} times`, { file, line: 1, col: 1 })]);
  }
  const resolve = (n: YamlNode): YamlNode => (isAlias(n) ? (n.resolve(doc) as YamlNode) : n);

  const leafInner = (n: YamlNode, prefix: string, out: Map<string, Span>): void => {
    if (isSeq(n)) n.items.forEach((it, i) => { if (it && typeof it === 'object' && 'range' in it) { out.set(`${prefix}/${i}`, spanOf(it as YamlNode)); leafInner(resolve(it as YamlNode), `${prefix}/${i}`, out); } });
    else if (isMap(n)) {
      const seen = new Set<string>();
      for (const p of n.items) {
        if (!isScalar(p.key)) continue;
        const key = String(p.key.value);
        if (seen.has(key)) throw new DiagnosticError([error('spec/duplicate-key', `the key ${quote(key)} appears twice in this mapping`, spanOf(p.key))]);
        seen.add(key);
        if (p.value && typeof p.value === 'object') { const k = `${prefix}/${key}`; out.set(k, spanOf(p.value as YamlNode)); leafInner(resolve(p.value as YamlNode), k, out); }
      }
    }
  };
  // An alias is reported at its own text (`*name`); a mapping it stands for keeps its keys' spans.
  const convert = (at: YamlNode): SourcedNode => {
    const n = resolve(at);
    if (isMap(n)) {
      const entries = new Map<string, SourcedEntry>();
      for (const pair of n.items) {
        if (!isPair(pair) || !isScalar(pair.key)) throw new DiagnosticError([error('spec/bad-key', 'mapping keys must be plain strings', spanOf(pair.key as YamlNode))]);
        const key = String(pair.key.value);
        const keySpan = spanOf(pair.key);
        const first = entries.get(key);
        if (first) throw new DiagnosticError([error('spec/duplicate-key', `the key ${quote(key)} appears twice in this mapping`, keySpan, `the first is at line ${first.keySpan.line}`)]);
        const valueNode = pair.value as YamlNode | null;
        const node: SourcedNode = valueNode === null
          ? { kind: 'leaf', span: keySpan, value: null, inner: new Map() }
          : convert(valueNode);
        entries.set(key, { keySpan, node, origin: src.absPath });
      }
      return { kind: 'map', span: spanOf(at), entries };
    }
    const inner = new Map<string, Span>();
    leafInner(n, '', inner);
    return { kind: 'leaf', span: spanOf(at), value: n.toJS(doc), inner };
  };
  return convert(root);
}

/** Deep merge: `over` wins; mappings merge recursively, everything else is replaced. */
export function mergeSourced(base: SourcedNode, over: SourcedNode): SourcedNode {
  if (base.kind !== 'map' || over.kind !== 'map') return over;
  const entries = new Map(base.entries);
  for (const [k, e] of over.entries) {
    const prev = entries.get(k);
    entries.set(k, prev ? { ...e, node: mergeSourced(prev.node, e.node) } : e);
  }
  return { kind: 'map', span: over.span, entries };
}

/** Plain JS value of a tree. */
export function toPlain(n: SourcedNode): unknown {
  if (n.kind === 'leaf') return n.value;
  const o: Record<string, unknown> = {};
  // defineProperty: a key named __proto__ is a key like any other (an assignment would set the prototype).
  for (const [k, e] of n.entries) Object.defineProperty(o, k, { value: toPlain(e.node), enumerable: true, writable: true, configurable: true });
  return o;
}

/** Span lookup by JSON pointer (as in ajv's instancePath), with key spans for `/a/b` keys. */
export class SpanIndex {
  private readonly values = new Map<string, Span>();
  private readonly keys = new Map<string, Span>();
  private readonly origins = new Map<string, string>();
  constructor(root: SourcedNode, private readonly fallback: Span) {
    const walk = (n: SourcedNode, ptr: string) => {
      this.values.set(ptr, n.span);
      if (n.kind === 'map') {
        for (const [k, e] of n.entries) {
          const p = `${ptr}/${escapePointer(k)}`;
          this.keys.set(p, e.keySpan);
          this.origins.set(p, e.origin);
          walk(e.node, p);
        }
      } else {
        for (const [suffix, s] of n.inner) this.values.set(ptr + suffix, s);
      }
    };
    walk(root, '');
  }
  /** The span of the value at `ptr`, or of its nearest ancestor. */
  value(ptr: string): Span {
    for (let p = ptr; ; p = p.slice(0, p.lastIndexOf('/'))) {
      const s = this.values.get(p);
      if (s && p !== '') return s;
      if (p === '') return this.fallback;
    }
  }
  /** The span of the key at `ptr` (e.g. for "unknown key"), falling back to the value. */
  key(ptr: string): Span {
    return this.keys.get(ptr) ?? this.value(ptr);
  }
  /** The absolute path of the file that wrote the key at `ptr`. */
  origin(ptr: string): string | undefined {
    return this.origins.get(ptr);
  }
  has(ptr: string): boolean {
    return this.keys.has(ptr);
  }
}

export function escapePointer(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The key a JSON-pointer part names (RFC 6901: ~1 is '/', ~0 is '~'). */
export function unescapePointer(part: string): string {
  return part.replace(/~1/g, '/').replace(/~0/g, '~');
}

export type { Diagnostic };
