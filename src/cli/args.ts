// Command-line options via node:util parseArgs, with vitc's error messages (exit 1, did-you-mean).
import { parseArgs } from 'node:util';
import { fail } from '../diag/diagnostic.js';
import { didYouMean } from '../util/suggest.js';
import { quote } from '../diag/quote.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
}

export interface Parsed {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

export function parseCommandArgs(command: string, argv: readonly string[], options: Record<string, OptionSpec>): Parsed {
  const all: Record<string, OptionSpec> = { ...options, help: { type: 'boolean', short: 'h' } };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: all, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    // Node quotes the option as given ('--foo') or, for a missing value, as declared ('-t, --target <value>').
    const m = /'(?:-\w, )?(-{1,2}[^' ,]+)/.exec(err.message);
    const flag = m?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const names = Object.keys(options).map((o) => `--${o}`).concat('--help');
      const word = flag.split('=')[0]!;
      // An option with a word more or less (--batch-size for run's --batch) before edit distance,
      // which would pick a longer name that shares more letters (--max-batch-size).
      const parts = names.filter((n) => word.startsWith(`${n}-`) || n.startsWith(`${word}-`));
      const part = parts.length === 1 ? parts[0] : undefined;
      fail('cli/unknown-option', `vitc ${command}: unknown option ${flag}`, undefined, (part ? `did you mean ${quote(part)}?` : didYouMean(word, names)) ?? `see vitc ${command} --help`);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /ambiguous/.test(err.message)) ambiguousValue(command, argv, all, flag);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      fail('cli/option-value', `vitc ${command}: ${flag ? `option ${flag} ` : ''}${/argument missing/.test(err.message) ? 'needs a value' : 'does not take a value'}`, undefined, `see vitc ${command} --help`);
    }
    fail('cli/args', `vitc ${command}: ${err.message.split('\n')[0]}`, undefined, `see vitc ${command} --help`);
  }
  refuseRepeats(command, parsed.tokens, all);
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
}

/**
 * A string option given twice: parseArgs keeps the last value, so `--target js --target onnx` would build
 * onnx without a word. Options declared `multiple` may repeat; a repeated boolean says the same thing twice.
 */
function refuseRepeats(command: string, tokens: readonly { kind: string; name?: string; value?: string | undefined }[], all: Record<string, OptionSpec>): void {
  const seen = new Map<string, string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name === undefined) continue;
    const spec = all[t.name];
    if (!spec || spec.type !== 'string' || spec.multiple) continue;
    const value = t.value ?? '';
    const first = seen.get(t.name);
    if (first !== undefined) {
      fail('cli/repeated-option', `vitc ${command}: option --${t.name} is given twice (${quote(first)}, then ${quote(value)})`, undefined, `give it once; see vitc ${command} --help`);
    }
    seen.set(t.name, value);
  }
}

/**
 * A string option followed by something that starts with a dash (`--seed -1`, `-t -o out`): a long or
 * known short option means the value was forgotten; anything else (`-1`) is a value that needs `--opt=-1`.
 */
function ambiguousValue(command: string, argv: readonly string[], all: Record<string, OptionSpec>, flag: string): never {
  const long = (f: string) => (f.startsWith('--') ? f.slice(2).split('=')[0]! : Object.keys(all).find((o) => all[o]!.short === f.slice(1, 2)));
  const name = long(flag) ?? flag.replace(/^-+/, '');
  const next = argv[argv.findIndex((a) => a === flag) + 1] ?? '';
  const nextName = long(next);
  if (next.startsWith('--') || (nextName !== undefined && nextName in all)) {
    fail('cli/option-value', `vitc ${command}: option --${name} needs a value`, undefined, `see vitc ${command} --help`);
  }
  fail('cli/option-value', `vitc ${command}: option --${name} is followed by ${quote(next)}, which starts with a dash`, undefined, `for a value that starts with a dash, write --${name}=${next}`);
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

/** The most a seed may be: the random generator takes 32 bits, and a larger seed would silently repeat a smaller one's weights. */
export const MAX_SEED = 2 ** 32 - 1;

/** An integer option from `min` to `max` (`why` says where the maximum comes from). */
export function intOption(command: string, p: Parsed, name: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER, why?: string): number {
  const v = str(p, name);
  if (v === undefined) return dflt;
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}${why ? ` (${why})` : ''}`;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) fail('cli/option-value', `vitc ${command}: --${name} must be an integer ${range}; got ${quote(v, 24)}`);
  return Number(v);
}

/** Exactly `n` positionals, else a usage error. */
export function positionals(command: string, p: Parsed, names: readonly string[]): string[] {
  if (p.positionals.length < names.length) fail('cli/usage', `vitc ${command}: missing ${names.slice(p.positionals.length).join(' ')}`, undefined, `usage: vitc ${command} ${names.join(' ')} [options]; see vitc ${command} --help`);
  if (p.positionals.length > names.length) fail('cli/usage', `vitc ${command}: unexpected argument ${quote(p.positionals[names.length]!)}`, undefined, `see vitc ${command} --help`);
  return p.positionals;
}
