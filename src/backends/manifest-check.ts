// Checking a build directory's manifest.json before `vitc run` loads anything from it: the schema
// (schema/vitc-build.schema.json), then what a schema cannot say: the target and its precisions,
// files that stay inside the directory and have the sizes the build wrote, and sizes within limits.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { DiagnosticError, error, fileSpan, type Diagnostic } from '../diag/diagnostic.js';
import { quote } from '../diag/quote.js';
import { packageRoot } from '../paths.js';
import { checkSize, MAX_PARAMETERS, MAX_TENSOR_ELEMENTS } from '../limits.js';
import { findBackend } from './registry.js';
import type { Manifest } from './manifest.js';

const schema = JSON.parse(readFileSync(join(packageRoot, 'schema', 'vitc-build.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: true, strictTuples: false, allowUnionTypes: true }).compile(schema);

const TYPE_WORDS: Readonly<Record<string, string>> = { integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', array: 'a list', object: 'a JSON object' };

/** One ajv error in words: `"entry" must match ...; got "../x"`. */
function describe(e: ErrorObject, data: unknown): string {
  const path = e.instancePath.split('/').slice(1).reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
  const value = e.instancePath.split('/').slice(1).reduce<unknown>((v, p) => (v !== null && typeof v === 'object' && Object.hasOwn(v, p) ? (v as Record<string, unknown>)[p] : undefined), data);
  const got = value === undefined ? '' : `; got ${typeof value === 'string' ? quote(value) : Array.isArray(value) ? 'a list' : value !== null && typeof value === 'object' ? 'a mapping' : String(value)}`;
  switch (e.keyword) {
    case 'required': return `${path ? `"${path}" is missing` : 'missing'} "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'additionalProperties': return `"${path}" has an unknown key ${quote((e.params as { additionalProperty: string }).additionalProperty)}`;
    case 'type': return `"${path || 'manifest'}" must be ${TYPE_WORDS[String((e.params as { type: string }).type)] ?? (e.params as { type: string }).type}${got}`;
    case 'const': return `"${path}" must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}${got}`;
    case 'pattern': return path.endsWith('path') || path === 'entry' ? `"${path}" must be a file inside the build directory (relative, no ".." parts)${got}` : `"${path}" is malformed${got}`;
    default: return `"${path || 'manifest'}" ${e.message ?? 'is invalid'}${got}`;
  }
}

/**
 * The manifest of build directory `dir` (`raw`: its parsed JSON), checked; problems are errors at
 * `dir/manifest.json` (at most a few: the first of each kind).
 */
export function checkManifest(dir: string, raw: unknown): Manifest {
  const file = join(dir, 'manifest.json');
  const at = fileSpan(file);
  const bad = (ds: readonly Diagnostic[]): never => { throw new DiagnosticError(ds); };
  if (!validate(raw)) {
    const errs = (validate.errors ?? []).filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
    const seen = new Set<string>();
    bad(errs.filter((e) => !seen.has(e.instancePath) && seen.add(e.instancePath)).slice(0, 5).map((e) => error('build/manifest', describe(e, raw), at, 'rebuild it with vitc build')));
  }
  const m = raw as Manifest;
  const backend = findBackend(m.target);
  if (!backend) return bad([error('build/manifest', `"target" ${quote(m.target)} is not a target of this vitc`, at, 'rebuild it with vitc build')]);
  if (!(backend.precisions as readonly string[]).includes(m.precision)) {
    bad([error('build/manifest', `"precision" ${quote(m.precision)} is not one of the ${backend.name} target's: ${backend.precisions.join(', ')}`, at, 'rebuild it with vitc build')]);
  }
  const [, C, H, W, ...more] = m.inputs[0]!.shape as number[];
  if (C === undefined || H === undefined || W === undefined || more.length) bad([error('build/manifest', `"inputs[0].shape" must be [B, C, H, W]; got [${m.inputs[0]!.shape.join(', ')}]`, at)]);
  checkSize(`the input [B,${C},${H},${W}]`, C * H * W, MAX_TENSOR_ELEMENTS, 'elements per image', 4, at);
  if (m.outputs[0]!.shape.length !== 2) bad([error('build/manifest', `"outputs[0].shape" must be [B, classes]; got [${m.outputs[0]!.shape.join(', ')}]`, at)]);
  if (m.labels && m.labels.length !== m.outputs[0]!.shape[1]) bad([error('build/manifest', `"labels" has ${m.labels.length} names for ${m.outputs[0]!.shape[1]} classes`, at, 'rebuild it with vitc build')]);
  for (const k of ['mean', 'std'] as const) {
    const v = m.preprocess[k];
    if (v && v.length !== C) bad([error('build/manifest', `"preprocess.${k}" has ${v.length} values for ${C} input channels`, at)]);
  }
  const names = new Set<string>();
  let total = 0;
  for (const w of m.weights) {
    if (names.has(w.name)) bad([error('build/manifest', `weight ${quote(w.name)} is listed twice`, at)]);
    names.add(w.name);
    const n = w.shape.reduce((a, b) => a * b, 1);
    checkSize(`weight ${quote(w.name)}`, n, MAX_TENSOR_ELEMENTS, 'elements', 4, at);
    total += n;
  }
  checkSize('the model', total, MAX_PARAMETERS, 'parameters', 4, at);
  checkFiles(dir, m);
  return m;
}

/** Every listed file exists inside `dir` (symbolic links included) with the size the build wrote; the entry is one of them. */
function checkFiles(dir: string, m: Manifest): void {
  const root = realpathSync(dir);
  if (!m.files.some((f) => f.path === m.entry)) {
    throw new DiagnosticError([error('build/manifest', `"entry" ${quote(m.entry)} is not one of the build's files`, fileSpan(join(dir, 'manifest.json')), 'rebuild it with vitc build')]);
  }
  for (const f of m.files) {
    const p = join(dir, f.path);
    const problem = (msg: string) => new DiagnosticError([error('build/file', msg, fileSpan(p), 'the build directory is damaged; rebuild it with vitc build')]);
    let real: string;
    try { real = realpathSync(p); } catch { throw problem('missing: manifest.json lists it'); }
    if (!real.startsWith(root + sep)) throw problem('it leads outside the build directory');
    const st = statSync(real);
    if (!st.isFile()) throw problem('not a regular file');
    if (st.size !== f.bytes) throw problem(`the file has ${st.size} bytes but the build wrote ${f.bytes} (truncated or changed since)`);
  }
}
