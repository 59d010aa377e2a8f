// Helpers shared by commands.
import { extname } from 'node:path';
import { fail, fileSpan } from '../../diag/diagnostic.js';
import { DUMP_POINTS } from '../../passes/pipeline.js';
import { didYouMean } from '../../util/suggest.js';
import { allTargetOptions } from '../../backends/registry.js';
import { PRECISIONS, type Precision } from '../../backends/backend.js';
import { str, type OptionSpec, type Parsed } from '../args.js';
import { quote } from '../../diag/quote.js';

/** parseArgs specs for every target's own options (each command that builds accepts them all; compile() checks the target). */
export function targetOptionSpecs(): Record<string, OptionSpec> {
  return Object.fromEntries([...allTargetOptions()].map(([flag, { option }]) => [flag, { type: option.type }]));
}

/**
 * Refuses the target options that shape only a build directory's files (`layoutOnly`), for a command
 * whose build directory nobody sees: `why` says so ("vitc run builds into a temporary directory").
 */
export function refuseLayoutOptions(p: Parsed, why: string): void {
  for (const [flag, { option, targets }] of allTargetOptions()) {
    if (!option.layoutOnly || p.values[flag] === undefined) continue;
    const value = option.type === 'string' ? ` ${String(p.values[flag])}` : '';
    fail('cli/option', `--${flag} shapes only the files of a build directory, and ${why}`, undefined,
      `for those files: vitc build SPEC --target ${targets.join('|')} --${flag}${value} -o DIR`);
  }
}

/** The target options given on the command line, as raw text by flag. */
export function targetArgs(p: Parsed): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const flag of allTargetOptions().keys()) {
    const v = p.values[flag];
    if (typeof v === 'string' || v === true) out[flag] = v;
  }
  return out;
}

/** --precision, checked against the precisions any target has (compile() checks the chosen target). */
export function precisionOption(p: Parsed): Precision {
  const v = str(p, 'precision') ?? 'fp32';
  if (!(PRECISIONS as readonly string[]).includes(v)) fail('cli/precision', `--precision must be one of ${PRECISIONS.join(', ')}; got ${quote(v)}`, undefined, didYouMean(v, PRECISIONS));
  return v as Precision;
}

export function checkDumpName(name: string): void {
  if (!DUMP_POINTS.includes(name)) {
    fail('cli/dump-ir', `unknown pass ${quote(name)} for --dump-ir`, undefined, didYouMean(name, DUMP_POINTS) ?? `passes: ${DUMP_POINTS.join(', ')}`);
  }
}

export function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 tensor", "2 tensors", "1,024 tensors". */
export function counted(n: number, noun: string): string {
  return `${fmtInt(n)} ${noun}${n === 1 ? '' : 's'}`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** GMACs with two decimals (17.56), or three significant digits for small models. */
export function fmtGmacs(macs: number): string {
  const g = macs / 1e9;
  return g >= 0.1 ? g.toFixed(2) : g.toPrecision(3);
}

/** "1 tensor is" / "3 tensors are" not used by MODEL (how): the first four names (quoted short). */
export function unusedTensors(unused: readonly string[], model: string, how = ''): string {
  const names = unused.slice(0, 4).map((n) => quote(n)).join(', ');
  return `${fmtInt(unused.length)} ${unused.length === 1 ? 'tensor is' : 'tensors are'} not used by ${model}${how ? ` (${how})` : ''}: ${names}${unused.length > 4 ? ', ...' : ''}`;
}

/** A file format a command writes, for naming its output file. */
interface OutFormat { readonly ext: string; readonly name: string; readonly reader: string }
const SAFETENSORS: OutFormat = { ext: '.safetensors', name: 'safetensors', reader: 'torch.load cannot read safetensors, safetensors.torch.load_file can' };
const NPY: OutFormat = { ext: '.npy', name: 'NumPy .npy', reader: 'numpy.load reads it' };

/**
 * An output file must be named for the format written into it: under a .pth name a safetensors file
 * looks like a checkpoint that torch.load then cannot read, and logits under .txt look like text.
 * Checked before any work; nothing written.
 */
function checkOutName(out: string, format: OutFormat, command: string, option: string): void {
  if (out.toLowerCase().endsWith(format.ext)) return;
  const ext = extname(out);
  const suggested = `${ext && ext !== out ? out.slice(0, -ext.length) : out}${format.ext}`;
  fail('io/out-file', `vitc ${command} writes ${format.name}, so ${option} must end in ${format.ext}${ext ? `, not ${ext}` : ''}`, fileSpan(out),
    `${option} ${suggested}; ${format.reader}`);
}

/** The -o of convert and weights, which write safetensors. */
export const checkSafetensorsOut = (out: string, command: string): void => checkOutName(out, SAFETENSORS, command, '-o');
/** run's --output, which writes the logits as .npy. */
export const checkNpyOut = (out: string): void => checkOutName(out, NPY, 'run', '--output');
