import { existsSync } from 'node:fs';
import { checkBuildOptions, compile, writeBuildDir } from '../../compile.js';
import { checkBuildDir } from '../../io/build-dir.js';
import { BACKENDS, getBackend, targetOptionsHelp } from '../../backends/registry.js';
import { DUMP_POINTS } from '../../passes/pipeline.js';
import { fail, fileSpan, formatDiagnostic, note } from '../../diag/diagnostic.js';
import { checkWeights } from '../../weights/safetensors.js';
import { expectedFromSpec } from '../../import/index.js';
import { loadSpec } from '../../spec/load.js';
import { weightsHelp, WEIGHTS_OPTIONS, weightsInput } from './weights-input.js';
import { flag, intOption, MAX_SEED, positionals, str, type Parsed } from '../args.js';
import { compareBuildDir } from '../../io/compare-dir.js';
import type { OutputFile } from '../../backends/backend.js';
import type { Command, Io } from '../command.js';
import { checkDumpName, counted, fmtBytes, fmtGmacs, fmtInt, precisionOption, targetArgs, targetOptionSpecs, unusedTensors } from './shared.js';

export const buildCmd: Command = {
  name: 'build',
  summary: 'compile a spec for a target into a build directory',
  help: `usage: vitc build SPEC --target TARGET [-o DIR] [--check] [options]

Compiles SPEC and writes a build directory: the target's files plus manifest.json (spec name and
sha256, vitc version, target, precision, input/output shapes with the symbolic batch B, the expected
weight names and shapes). The same spec and options give byte-identical files. The directory is
written to a temporary sibling first and renamed into place, so a failed build leaves nothing behind.

With --check nothing is written: the exit code is 0 when DIR holds exactly the files this build
would write, byte for byte, and 1 otherwise, with one line per file that would change, be added or
be removed (for CI that commits generated code and proves it current; README.md has a recipe).

targets:
${BACKENDS.map((b) => `  ${b.name.padEnd(6)} ${b.description} (precision: ${b.precisions.join(', ')})`).join('\n')}

options:
  -t, --target TARGET      target (default js)
  -o, --out DIR            output directory (default out/<spec name>-<target>)
  --check                  write nothing; exit 1 and list the files in DIR that differ from this build
  --precision P            fp32 (default, exact on every target), tf32, fp16 or bf16 where the target has it
${weightsHelp(27, [`${BACKENDS.filter((b) => b.capabilities.embedsWeights).map((b) => b.name).join(', ')} embeds them; the other targets check them against the model`, '(they load weights at run time)'])}
  --seed N                 onnx, without --weights: seed of the random weights it embeds (default 0)
  --features               also output the pre-head features: \`features\` [B, D], the input of pre_logits.fc
                           (when the model has one) or of head, after \`logits\` (what vitc finetune trains on)
${targetOptionsHelp(27)}
  --dump-ir=PASS           also print the IR after PASS (${DUMP_POINTS.join(', ')})
  --dump-kernels           also print the planned KernelProgram (targets that render kernels)
  -h, --help               this help

example:
  vitc build spec/vit-b16.yaml --target js -o out/vit-b16
  node -e "import('./out/vit-b16/model.mjs').then(async m => { const net = await m.load('w.safetensors'); ... })"`,
  options: {
    target: { type: 'string', short: 't' },
    out: { type: 'string', short: 'o' },
    precision: { type: 'string' },
    ...WEIGHTS_OPTIONS,
    seed: { type: 'string' },
    'dump-ir': { type: 'string' },
    'dump-kernels': { type: 'boolean' },
    features: { type: 'boolean' },
    check: { type: 'boolean' },
    ...targetOptionSpecs(),
  },
  async run(p: Parsed, io: Io) {
    const [file] = positionals('build', p, ['SPEC']);
    const target = str(p, 'target') ?? 'js';
    const precision = precisionOption(p);
    const dumpAfter = str(p, 'dump-ir');
    if (dumpAfter !== undefined) checkDumpName(dumpAfter);
    const outGiven = str(p, 'out');
    const check = flag(p, 'check');
    // The output is checked before the work, so a bad -o costs nothing (--check writes nothing).
    if (outGiven !== undefined && !check) checkBuildDir(outGiven);
    const features = p.values.features === true;
    const dumpKernels = flag(p, 'dump-kernels');
    const args = targetArgs(p);
    // The target and its options are checked before the spec is compiled or weights are read.
    checkBuildOptions(target, { precision, features, targetArgs: args }, dumpKernels);
    const seed = intOption('build', p, 'seed', 0, 0, MAX_SEED);
    if (str(p, 'seed') !== undefined) {
      // The seed chooses random weights to embed; where none are embedded it would change nothing.
      if (!getBackend(target).capabilities.embedsWeights) fail('cli/option', `--seed does not apply to the ${target} target: it loads weights at run time`, undefined, `make seeded random weights with vitc weights ${file} --seed N -o W.safetensors`);
      if (p.values.weights !== undefined) fail('cli/option', '--seed applies only without --weights (it seeds the random weights embedded when none are given)');
    }
    const weights = await weightsInput(p, () => expectedFromSpec(loadSpec(file!)));
    for (const line of weights?.notes ?? []) io.err(line);
    const compiled = await compile(file!, target, {
      precision,
      weights,
      seed,
      features,
      targetArgs: args,
    }, dumpAfter, dumpKernels);
    if (weights && compiled.backend.capabilities.embedsWeights) {
      // The target checked and embedded them; what it left out is said, not silently dropped.
      const unused = checkWeights(weights.file, weights.bytes, compiled.manifest.weights.map((w) => [w.name, w.shape] as const));
      if (unused.length) io.err(formatDiagnostic(note('build/unused-weights', unusedTensors(unused, compiled.manifest.spec.name, 'left out of the build'), fileSpan(weights.file))));
    } else if (weights) {
      const unused = checkWeights(weights.file, weights.bytes, compiled.manifest.weights.map((w) => [w.name, w.shape] as const));
      io.err(formatDiagnostic(note('build/weights-checked', `${weights.file} matches the model (${counted(compiled.manifest.weights.length, 'tensor')}${unused.length ? `; ${unused.length} unused: ${unused.slice(0, 3).join(', ')}${unused.length > 3 ? ', ...' : ''}` : ''}); the ${target} target loads weights at run time${weights.rewritten ? ` from safetensors with timm names: make them with vitc convert ${weights.file} -o WEIGHTS.safetensors` : ''}`)));
    }
    for (const n of compiled.spec.notes) io.err(formatDiagnostic(n));
    if (compiled.dump) io.out(compiled.dump.trimEnd());
    const outDir = outGiven ?? `out/${compiled.spec.config.name}-${target}`;
    if (check) return checkAgainstDir(outDir, compiled.files, io);
    writeBuildDir(outDir, compiled.files);
    const m = compiled.manifest;
    io.out(`${outDir}: ${m.spec.name} for ${target} (${precision}): ${m.files.map((f) => `${f.path} ${fmtBytes(f.bytes)}`).join(', ')}, manifest.json`);
    // vitc inspect's figure first; the build's own where it computes less (narrow-rows).
    const model = fmtGmacs(compiled.modelMacs);
    const built = fmtGmacs(m.stats.macs_per_image);
    const macs = built === model ? `${model} GMACs per image` : `${model} GMACs per image (${built} as built, which computes only the rows the outputs read)`;
    io.out(`  ${fmtInt(m.stats.parameters)} parameters, ${macs}; input ${m.inputs.map((i) => `${i.name} [${i.shape.join(',')}]`).join(', ')} -> ${m.outputs.map((o) => `${o.name} [${o.shape.join(',')}]`).join(', ')}`);
    return 0;
  },
};

/** `--check`: 0 when `dir` is exactly the build; else 1, each differing file on a line (stdout) and a summary (stderr). */
function checkAgainstDir(dir: string, files: readonly OutputFile[], io: Io): number {
  const diffs = compareBuildDir(dir, files);
  if (diffs.length === 0) {
    io.out(`${dir}: up to date (${files.length} files)`);
    return 0;
  }
  const why = { changed: 'differs from the build', added: 'is missing: the build writes it', removed: 'is not part of the build' } as const;
  for (const d of diffs) io.out(`${dir}/${d.path}: ${d.change} (${why[d.change]})`);
  const n = (c: keyof typeof why) => diffs.filter((d) => d.change === c).length;
  const counts = (['changed', 'added', 'removed'] as const).filter((c) => n(c) > 0).map((c) => `${n(c)} ${c}`).join(', ');
  const update = n('removed') ? 'delete the files the build does not write, then run the same command without --check' : 'run the same command without --check to update it';
  if (!existsSync(dir)) io.err(`${dir}: no such directory: the build writes ${counted(files.length, 'file')} there (run the same command without --check to write them)`);
  else io.err(`${dir}: not what this build writes: ${counts} (${update})`);
  return 1;
}
