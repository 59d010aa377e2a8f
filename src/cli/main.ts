// vitc's command line: dispatch, help, and the exit-code contract
// (0 ok; 1 a user's mistake, reported as one-line diagnostics; 2 an internal fault).
import { DiagnosticError, fileSpan, formatDiagnostic, note, sortDiagnostics, type Diagnostic } from '../diag/diagnostic.js';
import { vitcVersion } from '../paths.js';
import { didYouMean } from '../util/suggest.js';
import { parseCommandArgs } from './args.js';
import type { Command, Io } from './command.js';
import { check } from './commands/check.js';
import { inspect } from './commands/inspect.js';
import { buildCmd } from './commands/build.js';
import { runCmd } from './commands/run.js';
import { weightsCmd } from './commands/weights.js';
import { fmtCmd } from './commands/fmt.js';
import { convertCmd } from './commands/convert.js';
import { finetuneCmd } from './commands/finetune.js';
import { serveCmd } from './commands/serve.js';
import { quote } from '../diag/quote.js';

export const COMMANDS: readonly Command[] = [check, inspect, buildCmd, runCmd, finetuneCmd, serveCmd, convertCmd, weightsCmd, fmtCmd];

const stdio: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
};

function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return `vitc ${vitcVersion}: compile Vision Transformer specs into runnable inference code

usage: vitc COMMAND [options]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}

Run \`vitc COMMAND --help\` for a command's options. Specs are YAML files (see spec/ and
schema/vitc-spec.schema.json). Exit codes: 0 ok, 1 an error in your input, 2 an internal error.`;
}

/** Problems printed per file; the rest are counted in one note (a spec with 100k unknown keys gives 11 lines). */
export const MAX_DIAGNOSTICS_PER_FILE = 10;

/** The lines for a run's diagnostics: sorted, at most MAX_DIAGNOSTICS_PER_FILE per file, then how many more there are. */
export function diagnosticLines(ds: readonly Diagnostic[]): string[] {
  const lines: string[] = [];
  const shown = new Map<string, number>();
  const hidden = new Map<string, number>();
  for (const d of sortDiagnostics(ds)) {
    const file = d.span?.file ?? '';
    const n = shown.get(file) ?? 0;
    if (n < MAX_DIAGNOSTICS_PER_FILE) {
      lines.push(formatDiagnostic(d));
      shown.set(file, n + 1);
    } else {
      hidden.set(file, (hidden.get(file) ?? 0) + 1);
    }
  }
  for (const [file, n] of hidden) {
    lines.push(formatDiagnostic(note('diag/more', `${n.toLocaleString('en-US')} more problem${n > 1 ? 's' : ''} not shown`, file ? fileSpan(file) : undefined, 'fix these first')));
  }
  return lines;
}

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const which = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.out(which ? which.help : usage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(vitcVersion);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (!cmd) {
      io.err(`error: unknown command ${quote(name)} (${didYouMean(name, COMMANDS.map((c) => c.name)) ?? 'see vitc --help'})`);
      return 1;
    }
    const parsed = parseCommandArgs(cmd.name, rest, cmd.options);
    if (parsed.values.help) {
      io.out(cmd.help);
      return 0;
    }
    return await cmd.run(parsed, io);
  } catch (e) {
    if (e instanceof DiagnosticError) {
      for (const line of diagnosticLines(e.diagnostics)) io.err(line);
      return 1;
    }
    const err = e as Error;
    io.err(`vitc: internal error: ${err.message}`);
    io.err(process.env.VITC_DEBUG ? String(err.stack) : 'this is a bug in vitc; set VITC_DEBUG=1 for a stack trace and please report it');
    return 2;
  }
}
