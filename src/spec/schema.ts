// The JSON Schema of spec files (schema/vitc-spec.schema.json), compiled once with ajv,
// and the translation of ajv's errors into one-line diagnostics at the offending YAML text.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { error, type Diagnostic } from '../diag/diagnostic.js';
import { didYouMean } from '../util/suggest.js';
import { quote } from '../diag/quote.js';
import { schemaPath } from '../paths.js';
import { escapePointer, unescapePointer, type SpanIndex } from './yaml-source.js';

interface SchemaNode {
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  type?: string | string[];
  enum?: unknown[];
}

export const specSchema = JSON.parse(readFileSync(schemaPath, 'utf8')) as SchemaNode;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateFn = ajv.compile(specSchema);

/** The schema node describing the value at a JSON pointer, if any. */
function schemaAt(ptr: string): SchemaNode | undefined {
  let s: SchemaNode | undefined = specSchema;
  for (const part of ptr.split('/').slice(1)) {
    if (!s) return undefined;
    s = /^\d+$/.test(part) && s.items ? s.items : s.properties && Object.hasOwn(s.properties, part) ? s.properties[part] : undefined;
  }
  return s;
}

/**
 * Human name of the key at a pointer: `preprocess.mean[1]`. A part is a list index only where `data`
 * has a list: a mapping key may be a number too (`3: 4` is the key "3", not "[3]").
 */
export function keyName(ptr: string, data: unknown): string {
  let v = data;
  let name = '';
  for (const part of ptr.split('/').slice(1)) {
    const key = unescapePointer(part);
    name = Array.isArray(v) ? `${name}[${key}]` : name ? `${name}.${key}` : key;
    v = v !== null && typeof v === 'object' && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
  }
  return name;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `a string (${quote(v)})`;
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
  return `${typeof v} ${String(v)}`;
}

const typeWords: Record<string, string> = { integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', null: 'null', array: 'a list', object: 'a mapping' };

function valueAt(data: unknown, ptr: string): unknown {
  let v: unknown = data;
  for (const part of ptr.split('/').slice(1)) {
    const key = unescapePointer(part);
    v = v !== null && typeof v === 'object' && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/**
 * Validate merged spec data; returns diagnostics (empty when valid). `sections` are the names of the
 * blocks and model the spec references: a top-level key close to one of them is a misspelled section.
 */
export function validateSpecData(data: unknown, spans: SpanIndex, sections: readonly string[] = []): Diagnostic[] {
  if (validateFn(data)) return [];
  const errs = validateFn.errors ?? [];
  // One diagnostic per location: prefer the deepest, most specific error.
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errs) {
    const p = e.keyword === 'additionalProperties' ? `${e.instancePath}/${escapePointer((e.params as { additionalProperty: string }).additionalProperty)}` : e.instancePath;
    byPath.set(p, [...(byPath.get(p) ?? []), e]);
  }
  const out: Diagnostic[] = [];
  for (const [ptr, list] of byPath) {
    // A oneOf failure whose branches produced deeper errors is reported through those.
    if (list.every((e) => e.keyword === 'oneOf' || e.keyword === 'type') && [...byPath.keys()].some((p) => p.startsWith(ptr + '/'))) continue;
    const name = keyName(ptr, data);
    const first = list.find((e) => e.keyword !== 'oneOf' && e.keyword !== 'type') ?? list[0]!;
    const v = valueAt(data, ptr);
    switch (first.keyword) {
      case 'additionalProperties': {
        const parentPtr = first.instancePath;
        const props = [...Object.keys(schemaAt(parentPtr)?.properties ?? {}), ...(parentPtr === '' ? sections : [])];
        const key = (first.params as { additionalProperty: string }).additionalProperty;
        // A short list of keys is the best hint; the ~30 top-level keys are for the docs to list.
        // (Suggestions for the first hundred only: a file of 100k unknown keys shows ten of them.)
        const hint = (out.length < 100 ? didYouMean(key, props) : undefined) ?? (props.length <= 8 ? `known keys: ${props.join(', ')}` : 'see docs/spec-format.md, or schema/vitc-spec.schema.json, for the keys');
        out.push(error('spec/unknown-key', `unknown key ${quote(keyName(ptr, data))}`, spans.key(ptr), hint));
        break;
      }
      case 'type':
      case 'oneOf': {
        // YAML's .inf and .nan are numbers to JavaScript but not to the schema.
        if (typeof v === 'number' && !Number.isFinite(v)) {
          out.push(error('spec/type', `"${name}" must be a finite number; got ${v === v ? (v > 0 ? '.inf' : '-.inf') : '.nan'}`, spans.value(ptr)));
          break;
        }
        const s = schemaAt(ptr);
        const types = list.filter((e) => e.keyword === 'type').flatMap((e) => String((e.params as { type: string }).type).split(','));
        const expected = first.keyword === 'oneOf' || types.length > 1
          ? (s?.description ? s.description.replace(/\.$/, '').replace(/^Input image size: /, '') : types.map((t) => typeWords[t] ?? t).join(' or '))
          : typeWords[types[0]!] ?? types[0]!;
        out.push(error('spec/type', `"${name}" must be ${expected}; got ${describeValue(v)}`, spans.value(ptr)));
        break;
      }
      case 'enum': {
        const allowed = (first.params as { allowedValues: unknown[] }).allowedValues;
        out.push(error('spec/enum', `"${name}" must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${typeof v === 'string' ? quote(v) : describeValue(v)}`, spans.value(ptr),
          typeof v === 'string' ? didYouMean(v, allowed.map(String)) : undefined));
        break;
      }
      case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum': {
        const { comparison, limit } = first.params as { comparison: string; limit: number };
        out.push(error('spec/range', `"${name}" must be ${comparison} ${limit}; got ${typeof v === 'number' ? v : describeValue(v)}`, spans.value(ptr)));
        break;
      }
      case 'minItems': case 'maxItems': {
        out.push(error('spec/length', `"${name}" ${first.message ?? 'has the wrong length'}; got ${Array.isArray(v) ? v.length : 0}`, spans.value(ptr)));
        break;
      }
      case 'pattern':
        out.push(error('spec/pattern', `"${name}" must match ${(first.params as { pattern: string }).pattern}; got ${typeof v === 'string' ? quote(v) : describeValue(v)}`, spans.value(ptr)));
        break;
      default:
        out.push(error('spec/schema', `"${name}" ${first.message ?? 'is invalid'}`, spans.value(ptr)));
    }
  }
  return out;
}
