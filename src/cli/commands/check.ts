import { fail, formatDiagnostic } from '../../diag/diagnostic.js';
import { resolve } from 'node:path';
import { isPartialSpec, loadSpec, loadSpecData } from '../../spec/load.js';
import { ModuleLoader } from '../../dsl/load.js';
import { buildGraph } from '../../compile.js';
import { runPipeline, DUMP_POINTS } from '../../passes/pipeline.js';
import { countParams } from '../../analysis/cost.js';
import { str, type Parsed } from '../args.js';
import type { Command, Io } from '../command.js';
import { checkDumpName } from './shared.js';

export const check: Command = {
  name: 'check',
  summary: 'validate specs: schema, extends, shapes, IR',
  help: `usage: vitc check SPEC|FILE.vit... [--dump-ir=PASS]

Loads each spec (following extends), validates it against the schema, builds the IR, infers and
checks every shape and runs the pass pipeline with the verifier between passes. Prints one line per
spec, and notes such as keys that have no effect at inference. Exit code 1 if any spec has an error.
Model-language files (.vit) are parsed and statically checked (unknown names, misplaced statements).
Files named _*.yaml are partial specs (shared keys that others extend): only their schema is checked.

options:
  --dump-ir=PASS   print the IR after PASS (${DUMP_POINTS.join(', ')})
  -h, --help       this help

example:
  vitc check spec/*.yaml`,
  options: { 'dump-ir': { type: 'string' } },
  async run(p: Parsed, io: Io) {
    if (p.positionals.length === 0) {
      io.err('error: vitc check: missing SPEC (usage: vitc check SPEC... ; see vitc check --help)');
      return 1;
    }
    const dumpAfter = str(p, 'dump-ir');
    if (dumpAfter !== undefined) checkDumpName(dumpAfter);
    if (dumpAfter !== undefined && p.positionals.every((f) => f.endsWith('.vit') || isPartialSpec(f))) {
      fail('cli/usage', '--dump-ir prints the IR a spec builds, and model-language files and partial specs build none', undefined, 'give a spec that uses them: vitc check SPEC --dump-ir=PASS');
    }
    for (const file of p.positionals) {
      if (file.endsWith('.vit')) {
        const m = new ModuleLoader().load(resolve(file));
        io.out(`${m.file}: ok: ${m.ast.items.map((d) => `${d.kind} ${d.name}`).join(', ') || 'no blocks or models'}`);
        continue;
      }
      if (isPartialSpec(file)) {
        io.out(`${loadSpecData(file).file}: ok: partial spec (keys for others to extend; schema checked)`);
        continue;
      }
      const spec = loadSpec(file);
      const { graph, dump } = runPipeline(buildGraph(spec), { nativeComposites: new Set() }, dumpAfter);
      for (const n of spec.notes) io.err(formatDiagnostic(n));
      if (dump) io.out(dump.trimEnd());
      io.out(`${spec.file}: ok: ${spec.config.name}, ${countParams(graph).toLocaleString('en-US')} parameters`);
    }
    return 0;
  },
};
