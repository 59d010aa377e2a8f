import { DiagnosticError, fail, fileSpan } from '../../diag/diagnostic.js';
import { readTextFile, writeFileAtomic } from '../../io/files.js';
import { parseVit } from '../../dsl/parse.js';
import { findVitFile } from '../../dsl/load.js';
import { formatFile } from '../../dsl/format.js';
import { displayPath, loadSpec } from '../../spec/load.js';
import type { BlockRef } from '../../spec/config.js';
import { extname, resolve } from 'node:path';
import { flag, type Parsed } from '../args.js';
import type { Command, Io } from '../command.js';

/** The canonical text of a model-language file (parse errors are diagnostics). */
export function formatVitText(file: string, text: string): string {
  const { ast, diagnostics } = parseVit(file, text);
  if (diagnostics.length) throw new DiagnosticError(diagnostics);
  return formatFile(ast);
}

const SPEC_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * A spec given to fmt (the converse of spec/not-a-spec.ts): one line that says so and names the
 * model-language file the spec uses, when it names one, instead of a syntax error about YAML.
 */
function specGiven(f: string, name: string): void {
  if (!SPEC_EXTENSIONS.has(extname(f).toLowerCase())) return;
  let ref: BlockRef | undefined;
  try { const c = loadSpec(f).config; ref = c.block ?? c.model ?? undefined; } catch { /* the hint without its file */ }
  const found = ref ? findVitFile(ref.file, ref.baseDir) : undefined;
  const hint = !ref ? 'vitc fmt formats model-language files (*.vit); vitc check checks a spec'
    : found ? `its "${ref.key}:" is in ${displayPath(found)}: vitc fmt ${displayPath(found)}`
    : `vitc fmt formats model-language files (*.vit), such as the ${ref.file} its "${ref.key}:" names`;
  fail('cli/usage', 'vitc fmt: this is a spec, not a model-language file', fileSpan(name), hint);
}

export const fmtCmd: Command = {
  name: 'fmt',
  summary: 'print model-language files in canonical form',
  help: `usage: vitc fmt FILE.vit [--write | --check] [FILE.vit ...]

Prints the canonical form of a model-language file: two-space indentation, one statement per line,
spaces around operators, no redundant parentheses, long block signatures one parameter per line.
Comments and single blank lines are kept; a signature, call or list with comments inside is
printed one element per line, each comment beside its element. Formatting is idempotent.

options:
  -w, --write   rewrite the files in place instead of printing
  --check       print nothing; exit 1 listing the files that are not in canonical form
  -h, --help    this help`,
  options: { write: { type: 'boolean', short: 'w' }, check: { type: 'boolean' } },
  async run(p: Parsed, io: Io) {
    const files = p.positionals;
    if (files.length === 0) fail('cli/usage', 'vitc fmt: missing FILE', undefined, 'see vitc fmt --help');
    const write = flag(p, 'write'), check = flag(p, 'check');
    if (write && check) fail('cli/usage', 'vitc fmt: --write and --check exclude each other');
    if (!write && !check && files.length > 1) fail('cli/usage', 'vitc fmt: printing takes one file; use --write or --check for several');
    for (const f of files) specGiven(f, displayPath(resolve(f)));
    let unformatted = 0;
    for (const f of files) {
      const name = displayPath(resolve(f));
      const text = readTextFile(f, 'model-language file', { display: name });
      const out = formatVitText(name, text);
      if (check) {
        if (out !== text) { unformatted++; io.err(`${name}: not in canonical form (vitc fmt --write ${f})`); }
      } else if (write) {
        if (out !== text) writeFileAtomic(f, out, 'model-language file');
      } else {
        io.out(out.replace(/\n$/, ''));
      }
    }
    return unformatted ? 1 : 0;
  },
};
