// Finding the state dict in what a training script saved: the dict itself, or a wrapper such as
// {'model': state_dict, 'epoch': 9, 'optimizer': ...} (chosen by name, or by --key), and names
// prefixed by the wrappers around the model (DataParallel's `module.`, torch.compile's `_orig_mod.`).
import { fail, fileSpan } from '../diag/diagnostic.js';
import { quote } from '../diag/quote.js';
import { PyDict, describe, type PyValue } from './pickle.js';

/** Keys that checkpoints commonly keep the model's state dict under, most specific first. */
const PREFERRED_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'net', 'network', 'weights', 'params'];

/** Prefixes that wrappers add to every name. */
const WRAPPER_PREFIXES = ['module.', '_orig_mod.'];

export interface Found<T> {
  readonly entries: [string, T][];
  /** How the dict was found, for a note (undefined when the file is the state dict itself). */
  readonly note?: string;
  /** What was left out of a dict of tensors mixed with other values, for a note. */
  readonly left?: string;
}

function tensorDict<T extends PyValue>(v: PyValue | undefined, isTensor: (v: PyValue) => v is T): [string, T][] | undefined {
  if (!(v instanceof PyDict) || v.entries.length === 0) return undefined;
  const out: [string, T][] = [];
  for (const [k, x] of v.entries) {
    if (typeof k !== 'string' || !isTensor(x)) return undefined;
    out.push([k, x]);
  }
  return out;
}

export function findStateDict<T extends PyValue>(file: string, root: PyValue, isTensor: (v: PyValue) => v is T, key?: string): Found<T> {
  const span = fileSpan(file);
  const keysOf = (d: PyDict) => d.entries.map(([k]) => (typeof k === 'string' ? k : describe(k)));
  // A state dict has hundreds of names: messages show a few.
  const some = (names: string[], n = 8) => (names.length > n ? `${names.slice(0, n).join(', ')} and ${names.length - n} more` : names.join(', '));
  if (key !== undefined) {
    if (!(root instanceof PyDict)) return fail('weights/key', `--key ${key}: the checkpoint is ${describe(root)}, not a dict`, span);
    const hit = lookup(root, key);
    if (!hit) {
      const near = nearest(root, key);
      const where = near.path.length ? `${entryName(near.path)} has` : 'the checkpoint has';
      return fail('weights/key', `--key ${key}: ${where} no key "${near.rest}"`, span, `its keys: ${some(keysOf(near.dict))}`);
    }
    const found = tensorDict(hit.value, isTensor);
    if (!found) {
      const inside = hit.value instanceof PyDict ? nestedStateDicts(hit.value, isTensor, 0) : [];
      return fail('weights/key', `--key ${key}: ${entryName(hit.path)} is ${describe(hit.value)}, not a dict of tensors`, span,
        inside.length ? `a state dict is nested in it: --key ${key}.${inside[0]}` : undefined);
    }
    return { entries: found, note: `using ${entryName(hit.path)}` };
  }
  const direct = tensorDict(root, isTensor);
  if (direct) return { entries: direct };
  if (!(root instanceof PyDict)) return fail('weights/no-state-dict', `the checkpoint holds ${describe(root)}, not a dict of tensors`, span, 'save model.state_dict()');
  const candidates = root.entries.filter(([k, v]) => typeof k === 'string' && tensorDict(v, isTensor)).map(([k]) => k as string);
  if (candidates.length === 0) {
    if (root.entries.some(([k, v]) => typeof k === 'string' && isTensor(v))) {
      // A state dict with a few other values mixed in ({**model.state_dict(), 'epoch': 9}), which
      // its user may not be able to save again: its tensors, and a note naming everything else.
      const entries = root.entries.filter((e): e is [string, T] => typeof e[0] === 'string' && isTensor(e[1]));
      const others = root.entries.filter(([k, v]) => typeof k !== 'string' || !isTensor(v)).map(([k, v]) => `${typeof k === 'string' ? quote(k) : describe(k)}: ${typeof v === 'string' ? quote(v, 24) : describe(v)}`);
      return { entries, left: `left out ${others.length} entr${others.length === 1 ? 'y that is not a tensor' : 'ies that are not tensors'} (${some(others)})` };
    }
    const nested = nestedStateDicts(root, isTensor);
    return fail('weights/no-state-dict', `no state dict found: the checkpoint is a dict of ${some(keysOf(root))}, and none of them is a dict of tensors`, span,
      nested.length ? `${nested.length === 1 ? 'one is' : 'some are'} nested deeper: name ${nested.length === 1 ? 'it' : 'one'} with --key ${nested[0]}` : 'save model.state_dict(), or name the entry with --key (a path of keys such as ckpt.model)');
  }
  const chosen = candidates.length === 1 ? candidates[0]! : PREFERRED_KEYS.find((k) => candidates.includes(k));
  if (chosen === undefined) {
    return fail('weights/ambiguous-state-dict', `the checkpoint holds several state dicts (${candidates.join(', ')})`, span, `choose one with --key, e.g. --key ${candidates[0]}`);
  }
  const others = keysOf(root).filter((k) => k !== chosen);
  const alt = candidates.filter((k) => k !== chosen);
  return {
    entries: tensorDict(root.get(chosen), isTensor)!,
    note: `using checkpoint["${chosen}"]${others.length ? ` (the file also holds ${others.join(', ')}${alt.length ? `; --key ${alt[0]} picks another state dict` : ''})` : ''}`,
  };
}

/** How a message names an entry: checkpoint["ckpt"]["model"]. */
function entryName(path: readonly string[]): string {
  return `checkpoint${path.map((k) => `[${JSON.stringify(k)}]`).join('')}`;
}

/**
 * The value at `key` in `d`: the whole key first (keys may hold dots), else a path of nested keys
 * separated by dots (`ckpt.model`), each component again tried whole before it is split.
 */
function lookup(d: PyDict, key: string): { path: string[]; value: PyValue } | undefined {
  const v = d.get(key);
  if (v !== undefined) return { path: [key], value: v };
  for (let i = key.indexOf('.'); i >= 0; i = key.indexOf('.', i + 1)) {
    const inner = d.get(key.slice(0, i));
    const hit = inner instanceof PyDict ? lookup(inner, key.slice(i + 1)) : undefined;
    if (hit) return { path: [key.slice(0, i), ...hit.path], value: hit.value };
  }
  return undefined;
}

/** For a --key that names nothing: the deepest dict its leading components reach, and what is left. */
function nearest(d: PyDict, key: string, path: string[] = []): { path: string[]; dict: PyDict; rest: string } {
  let best = { path, dict: d, rest: key };
  for (let i = key.indexOf('.'); i >= 0; i = key.indexOf('.', i + 1)) {
    const inner = d.get(key.slice(0, i));
    if (!(inner instanceof PyDict)) continue;
    const r = nearest(inner, key.slice(i + 1), [...path, key.slice(0, i)]);
    if (r.path.length > best.path.length) best = r;
  }
  return best;
}

/** Dicts of tensors in `root`, `from` levels down or deeper (up to four), as --key paths. */
function nestedStateDicts<T extends PyValue>(root: PyDict, isTensor: (v: PyValue) => v is T, from = 1): string[] {
  const out: string[] = [];
  const seen = new Set<PyDict>([root]); // a pickle may share a dict, or hold one inside itself
  const walk = (d: PyDict, path: string[], depth: number) => {
    for (const [k, v] of d.entries) {
      if (typeof k !== 'string' || !(v instanceof PyDict) || seen.has(v)) continue;
      seen.add(v);
      if (path.length >= from && tensorDict(v, isTensor)) out.push([...path, k].join('.'));
      else if (depth < 4) walk(v, [...path, k], depth + 1);
    }
  };
  walk(root, [], 1);
  return out;
}

/** Strip wrapper prefixes that every name carries; returns the stripped prefixes. */
export function stripWrapperPrefixes<T>(entries: [string, T][]): { entries: [string, T][]; stripped: string[] } {
  const stripped: string[] = [];
  let cur = entries;
  for (;;) {
    const p = WRAPPER_PREFIXES.find((w) => cur.length > 0 && cur.every(([n]) => n.startsWith(w)));
    if (!p) return { entries: cur, stripped };
    stripped.push(p);
    cur = cur.map(([n, t]) => [n.slice(p.length), t]);
  }
}
