// What a CLI command is: a name, its help text, its options and what it does.
import type { OptionSpec, Parsed } from './args.js';

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full --help text (usage, description, options, examples). */
  readonly help: string;
  readonly options: Record<string, OptionSpec>;
  run(p: Parsed, io: Io): Promise<number>;
}

export interface Io {
  out(s: string): void;
  err(s: string): void;
}
