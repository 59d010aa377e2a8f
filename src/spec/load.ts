// Load a spec file: read YAML with source positions, follow `extends`, validate against the
// JSON Schema, resolve defaults and constraints. Every problem becomes a Diagnostic at the user's text.
import { createHash } from 'node:crypto';
import { basename, dirname, extname, relative, resolve, isAbsolute } from 'node:path';
import { realpathSync } from 'node:fs';
import { DiagnosticError, error, formatSpan, type Diagnostic, type Span } from '../diag/diagnostic.js';
import { mergeSourced, parseYamlSource, readSource, toPlain, SpanIndex, type SourcedNode } from './yaml-source.js';
import { validateSpecData } from './schema.js';
import { resolveConfig, type ModelConfig } from './config.js';
import { MAX_CHAIN } from '../limits.js';
import { directoryAsSpec, readAsSpec } from './not-a-spec.js';
import { hyperSections, type Hyper } from './hyper.js';

export interface Spec {
  readonly config: ModelConfig;
  /** The spec file as the user named it. */
  readonly file: string;
  /** sha256 of the merged spec data in canonical JSON: the identity of what is compiled. */
  readonly hash: string;
  /** Canonical merged spec data (after `extends`). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly spans: SpanIndex;
  /** The directory of the spec file (absolute): model-language sources are named relative to it. */
  readonly dir: string;
  /** Parameters of the blocks and model the spec names, under each one's name (`qknorm_block: {qk_norm: true}`). */
  readonly hyper: Hyper;
  /** Notes (not errors), e.g. keys with no effect at inference. */
  readonly notes: readonly Diagnostic[];
  /** For each base file (as displayed), the `extends:` value that named it. */
  readonly origins: ReadonlyMap<string, Span>;
}

/**
 * Run `fn`; its diagnostics at a base file's lines also say which file extended it, as those found
 * while loading do (for problems found later: in the model the spec drives, in the weights it is
 * given).
 */
export function withSpecOrigins<T>(spec: Spec, fn: () => T): T {
  return annotated(spec.origins, fn);
}

/** How a path appears in messages: relative to the working directory when inside it. */
export function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** For each base file (as displayed), the `extends:` value that named it. */
type ExtendedFrom = ReadonlyMap<string, Span>;

/**
 * Problems found in a base file also say which file extended it (`extended from e.yaml:2:10`): the
 * user may not know the base they pulled in, nor which of their files did.
 */
function withOrigins(ds: readonly Diagnostic[], origins: ExtendedFrom): Diagnostic[] {
  return ds.map((d) => {
    const from = d.span && origins.get(d.span.file);
    return from ? { ...d, hint: `${d.hint ? `${d.hint}; ` : ''}extended from ${formatSpan(from)}` } : d;
  });
}

function annotated<T>(origins: ExtendedFrom, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DiagnosticError) throw new DiagnosticError(withOrigins(e.diagnostics, origins));
    throw e;
  }
}

function loadChain(absPath: string, chain: string[], origins: Map<string, Span>, referencedFrom?: Span): SourcedNode {
  const src = readSource(absPath, displayPath(absPath), referencedFrom);
  const real = safeRealpath(absPath);
  const tree = readAsSpec(src, referencedFrom, () => parseYamlSource(src));
  if (tree.kind !== 'map') {
    throw new DiagnosticError([error('spec/not-mapping', 'a spec must be a YAML mapping of keys to values', tree.span)]);
  }
  const ext = tree.entries.get('extends');
  let merged: SourcedNode = tree;
  if (ext) {
    if (ext.node.kind !== 'leaf' || typeof ext.node.value !== 'string') {
      throw new DiagnosticError([error('spec/type', '"extends" must be a string path', ext.node.span)]);
    }
    if (chain.length + 1 >= MAX_CHAIN) {
      throw new DiagnosticError([error('spec/extends-depth', `the extends chain is more than ${MAX_CHAIN} files long`, ext.node.span, 'merge some of the files')]);
    }
    const target = resolve(dirname(absPath), ext.node.value);
    const targetReal = safeRealpath(target);
    const seen = [...chain, real];
    if (seen.includes(targetReal)) {
      const cycle = [...seen.slice(seen.indexOf(targetReal)), targetReal].map((p) => basename(p)).join(' -> ');
      throw new DiagnosticError([error('spec/extends-cycle', `extends cycle: ${cycle}`, ext.node.span)]);
    }
    origins.set(displayPath(target), ext.node.span);
    const base = loadChain(target, seen, origins, ext.node.span);
    // name, description and extends belong to the file that states them; they are not inherited.
    const inheritable: SourcedNode = base.kind === 'map'
      ? { ...base, entries: new Map([...base.entries].filter(([k]) => k !== 'name' && k !== 'description' && k !== 'extends')) }
      : base;
    merged = mergeSourced(inheritable, tree);
  }
  return merged;
}

function safeRealpath(p: string): string {
  try { return realpathSync(p); } catch { return resolve(p); }
}

/** JSON with sorted keys: the same data always gives the same text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Files whose name starts with "_" are partial specs: shared keys for others to extend. */
export function isPartialSpec(path: string): boolean {
  return basename(path).startsWith('_');
}

/** Read a spec file and what it extends, merged and schema-validated (no model constraints yet). */
export function loadSpecData(path: string): { file: string; abs: string; data: Record<string, unknown>; spans: SpanIndex; hyper: Hyper; origins: ExtendedFrom } {
  const abs = resolve(path);
  const file = displayPath(abs);
  directoryAsSpec(abs, file);
  const origins = new Map<string, Span>();
  const tree = annotated(origins, () => loadChain(abs, [], origins));
  const spans = new SpanIndex(tree, { file, line: 0, col: 0 });
  const raw = toPlain(tree) as Record<string, unknown>;
  const data = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'extends'));
  // The sections named after a referenced block or model are that block's parameters, checked
  // against its declaration when the model is bound; the schema checks the rest.
  const { hyper, rest, names, diagnostics } = hyperSections(data, spans);
  const schemaDiags = [...diagnostics, ...validateSpecData(rest, spans, names)];
  if (schemaDiags.length) throw new DiagnosticError(withOrigins(schemaDiags, origins));
  return { file, abs, data, spans, hyper, origins };
}

export function loadSpec(path: string): Spec {
  const { file, abs, data, spans, hyper, origins } = loadSpecData(path);
  const stem = basename(abs, extname(abs));
  const resolved = resolveConfig(data, spans, file, stem);
  const diagnostics = withOrigins(resolved.diagnostics, origins);
  if (!resolved.config) throw new DiagnosticError(diagnostics.filter((d) => d.severity === 'error'));
  const hash = createHash('sha256').update(canonicalJson(data)).digest('hex');
  return { config: resolved.config, file, hash, data, spans, dir: dirname(abs), hyper, notes: diagnostics, origins };
}
