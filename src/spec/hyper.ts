// A spec's sections for the blocks and model it names: `block: FILE#qknorm_block` lets the spec set
// that block's own parameters under `qknorm_block:` (likewise for `model:` and a `global_pool:` block).
// Here they are only separated from the spec's keys; models/presets.ts checks them against the
// block's declaration once the block is loaded.
import { error, type Diagnostic } from '../diag/diagnostic.js';
import { specSchema } from './schema.js';
import type { SpanIndex } from './yaml-source.js';

/** Section name -> the parameter values set there (JSON pointer of a value: `/NAME/KEY`). */
export type Hyper = ReadonlyMap<string, Readonly<Record<string, unknown>>>;

/** The keys whose FILE#NAME value names a block or model, in the order they are bound. */
export const REF_KEYS = ['model', 'block', 'global_pool'] as const;

/** NAME of a FILE#NAME reference, if `v` is one. */
export function refName(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const at = v.lastIndexOf('#');
  return at > 0 && at < v.length - 1 ? v.slice(at + 1) : undefined;
}

/**
 * Split merged spec data into the sections named after a referenced block or model, and the rest (for
 * the schema). `names` are the referenced names, offered as suggestions for a misspelled section.
 */
export function hyperSections(data: Readonly<Record<string, unknown>>, spans: SpanIndex): { hyper: Hyper; rest: Record<string, unknown>; names: string[]; diagnostics: Diagnostic[] } {
  const known = new Set(Object.keys(specSchema.properties ?? {}));
  const names = [...new Set(REF_KEYS.map((k) => refName(data[k])).filter((n): n is string => n !== undefined && !known.has(n)))];
  const hyper = new Map<string, Record<string, unknown>>();
  // Object.fromEntries defines own keys, so a key "__proto__" stays a key (for the schema to report).
  const rest: Record<string, unknown> = Object.fromEntries(Object.entries(data).filter(([k]) => !names.includes(k)));
  const diagnostics: Diagnostic[] = [];
  for (const [k, v] of Object.entries(data)) {
    if (!names.includes(k)) continue;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      diagnostics.push(error('spec/type', `"${k}" must be a mapping of ${k}'s parameters to values, e.g. ${k}: { name: value }`, spans.value(`/${k}`)));
      continue;
    }
    hyper.set(k, v as Record<string, unknown>);
  }
  return { hyper, rest, names, diagnostics };
}
