import { checkOutputFile, writeFileAtomic } from '../../io/files.js';
import { loadSpec } from '../../spec/load.js';
import { buildGraph } from '../../compile.js';
import { params } from '../../ir/graph.js';
import { randomWeights } from '../../weights/random.js';
import { writeSafetensors } from '../../weights/safetensors.js';
import { intOption, MAX_SEED, positionals, str, type Parsed } from '../args.js';
import type { Command, Io } from '../command.js';
import { checkSafetensorsOut, counted, fmtBytes, fmtInt } from './shared.js';
import { fail } from '../../diag/diagnostic.js';

export const weightsCmd: Command = {
  name: 'weights',
  summary: 'write seeded random weights for a spec (safetensors, timm names)',
  help: `usage: vitc weights SPEC -o W.safetensors [--seed N]

Writes a safetensors file with every parameter of SPEC under its timm state-dict name, filled from
a seeded generator (timm-like initialization: normal(0.02) weights, zero biases, unit LayerNorm
scales). The same seed gives the same bytes. Useful to test a pipeline without a checkpoint.

options:
  -o, --out FILE   the safetensors file to write, named .safetensors (required)
  --seed N         seed (default 0)
  -h, --help       this help`,
  options: { out: { type: 'string', short: 'o' }, seed: { type: 'string' } },
  async run(p: Parsed, io: Io) {
    const [file] = positionals('weights', p, ['SPEC']);
    const out = str(p, 'out');
    if (!out) return fail('cli/usage', 'vitc weights: missing -o W.safetensors', undefined, 'see vitc weights --help');
    checkOutputFile(out, '-o');
    checkSafetensorsOut(out, 'weights');
    const seed = intOption('weights', p, 'seed', 0, 0, MAX_SEED);
    const g = buildGraph(loadSpec(file!));
    const ps = params(g).map((n) => ({ name: n.attrs.name, shape: n.attrs.shape as number[], init: n.attrs.init }));
    const bytes = writeSafetensors(randomWeights(ps, seed));
    writeFileAtomic(out, bytes, '-o');
    io.out(`${out}: ${counted(ps.length, 'tensor')}, ${fmtInt(ps.reduce((s, q) => s + q.shape.reduce((a, b) => a * b, 1), 0))} parameters, ${fmtBytes(bytes.length)} (seed ${seed})`);
    return 0;
  },
};
