// Class names: the tutorial's class_indices.json ({"0": "daisy", ...}), a JSON list, or a text file
// with one name per line. The count must be the model's number of classes.
import { fail, fileSpan, type Span } from '../diag/diagnostic.js';
import { readTextFile } from '../io/files.js';

/** `referencedFrom`: the spec line that named the file, where a read error is reported. */
export function readLabels(file: string, classes: number, referencedFrom?: Span): string[] {
  const span = fileSpan(file);
  const text = readTextFile(file, 'labels', { referencedFrom });
  const labels = /\.json$/i.test(file) || /^\s*[[{]/.test(text) ? fromJson(file, text, classes) : fromLines(file, text);
  if (labels.length !== classes) {
    fail('labels/count', `${labels.length} class name${labels.length === 1 ? '' : 's'}, but the model has ${classes} classes`, span, classes > labels.length ? 'give one name per class' : 'is this the labels file of another model?');
  }
  return labels;
}

/** One name per line, in class order; blank lines may only end the file (a blank one before a name would name a class ''). */
function fromLines(file: string, text: string): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0) {
    fail('labels/blank', `a blank line: class ${blank} would have no name`, { file, line: blank + 1, col: 1 }, 'each line names one class, in class order: remove the line, or name the class');
  }
  return lines;
}

function fromJson(file: string, text: string, classes: number): string[] {
  const span = fileSpan(file);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return fail('labels/json', `not valid JSON: ${(e as Error).message}`, span);
  }
  if (Array.isArray(data)) {
    if (!data.every((x) => typeof x === 'string')) fail('labels/json', 'a JSON list of labels must hold strings', span);
    return data as string[];
  }
  if (data === null || typeof data !== 'object') return fail('labels/json', 'expected {"0": "name", ...} or a list of names', span);
  const entries = Object.entries(data as Record<string, unknown>);
  if (entries.length > classes) fail('labels/count', `${entries.length} class names, but the model has ${classes} classes`, span, 'is this the labels file of another model?');
  const out: string[] = [];
  for (const [k, v] of entries) {
    if (!/^\d+$/.test(k) || typeof v !== 'string') fail('labels/json', `entry ${JSON.stringify(k)}: expected a class index mapped to a name, as in {"0": "daisy"}`, span);
    // Checked before it is used as an index: {"999999999": ...} would make an array that large.
    const i = Number(k);
    if (i >= classes) fail('labels/count', `entry ${JSON.stringify(k)}: class ${i}, but the model has ${classes} classes (0 to ${classes - 1})`, span, 'is this the labels file of another model?');
    if (out[i] !== undefined) fail('labels/json', `entry ${JSON.stringify(k)} names class ${i} again (it is ${JSON.stringify(out[i])} already)`, span);
    out[i] = v as string;
  }
  const hole = Array.from({ length: out.length }, (_, i) => i).find((i) => out[i] === undefined);
  if (hole !== undefined) fail('labels/json', `no name for class ${hole}`, span);
  return out;
}
