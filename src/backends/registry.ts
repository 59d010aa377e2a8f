// `--target` looks a backend up here; target options are collected and checked here too.
import { fail } from '../diag/diagnostic.js';
import { didYouMean } from '../util/suggest.js';
import type { Backend, TargetOption } from './backend.js';
import { jsBackend } from './js/emit.js';
import { onnxBackend } from './onnx/index.js';
import { cudaBackend } from './cuda/index.js';
import { wgslBackend } from './wgsl/index.js';
import { quote } from '../diag/quote.js';

const TABLE: ReadonlyMap<string, Backend> = new Map([jsBackend, onnxBackend, cudaBackend, wgslBackend].map((b) => [b.name, b]));

/** Every backend, in --help order. */
export const BACKENDS: readonly Backend[] = [...TABLE.values()];

/** The targets that output the features (the `features` build option; vitc finetune's backbones). */
export function featureTargets(): string[] {
  return BACKENDS.filter((b) => b.capabilities.features).map((b) => b.name);
}

/** The backend named `name`, if there is one. */
export function findBackend(name: string): Backend | undefined {
  return TABLE.get(name);
}

export function getBackend(name: string): Backend {
  const b = TABLE.get(name);
  if (!b) fail('cli/target', `unknown target ${quote(name)}`, undefined, didYouMean(name, [...TABLE.keys()]) ?? `targets: ${[...TABLE.keys()].join(', ')}`);
  return b;
}

/** Every target option of every backend, by flag, with the targets that declare it (for the CLI parser and help). */
export function allTargetOptions(): ReadonlyMap<string, { readonly option: TargetOption; readonly targets: readonly string[] }> {
  const out = new Map<string, { option: TargetOption; targets: string[] }>();
  for (const b of BACKENDS) for (const o of b.options) {
    const seen = out.get(o.flag);
    if (seen && seen.option.type !== o.type) throw new Error(`target option --${o.flag} is declared as ${seen.option.type} and ${o.type}`);
    if (seen) seen.targets.push(b.name);
    else out.set(o.flag, { option: o, targets: [b.name] });
  }
  return out;
}

/**
 * The target-options section of a command's --help: its text starts at `column` (the command's own
 * options' column) and wraps before `width`; `layout: false` leaves out the options that shape only a
 * build directory (for commands that keep none), `only` those of targets the command does not take.
 */
export function targetOptionsHelp(column: number, { layout = true, width = 104, only }: { readonly layout?: boolean; readonly width?: number; readonly only?: readonly string[] } = {}): string {
  const options = [...allTargetOptions()]
    .map(([flag, o]) => [flag, { ...o, targets: o.targets.filter((t) => !only || only.includes(t)) }] as const)
    .filter(([, { option, targets }]) => targets.length > 0 && (layout || !option.layoutOnly));
  return options.map(([flag, { option, targets }]) => {
    const head = `  --${flag}${option.type === 'string' ? ` ${option.value ?? 'VALUE'}` : ''}`;
    const lines: string[] = [];
    for (const word of `${targets.join(', ')}: ${option.help}`.split(' ')) {
      const last = lines.length - 1;
      if (last >= 0 && column + lines[last]!.length + 1 + word.length <= width) lines[last] += ` ${word}`;
      else lines.push(word);
    }
    const indent = ' '.repeat(column);
    const text = lines.join(`\n${indent}`);
    return head.length < column ? `${head.padEnd(column)}${text}` : `${head}\n${indent}${text}`;
  }).join('\n');
}

/** Parse the target options given for `backend`; one given for another target is an error that names its target. */
export function parseTargetOptions(backend: Backend, args: Readonly<Record<string, string | true>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const all = allTargetOptions();
  for (const flag of Object.keys(args).sort()) {
    const own = backend.options.find((o) => o.flag === flag);
    if (!own) {
      const of = all.get(flag)?.targets;
      fail('cli/option', `--${flag} does not apply to the ${backend.name} target${of ? ` (it is an option of ${of.join(', ')})` : ''}`);
    }
    out[flag] = own.parse(args[flag]!);
  }
  return out;
}
