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
    const v = root.get(key);
    if (v === undefined) return fail('weights/key', `--key ${key}: the checkpoint has no key "${key}"`, span, `its keys: ${some(keysOf(root))}`);
    const found = tensorDict(v, isTensor);
    if (!found) return fail('weights/key', `--key ${key}: checkpoint["${key}"] is ${describe(v)}, not a dict of tensors`, span);
    return { entries: found, note: `using checkpoint["${key}"]` };
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
    return fail('weights/no-state-dict', `no state dict found: the checkpoint is a dict of ${some(keysOf(root))}, and none of them is a dict of tensors`, span, 'save model.state_dict(), or name the entry with --key');
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
