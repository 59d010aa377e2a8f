// npm run bench:cuda-prep (vite-node, as the tests run TypeScript): everything bench/gpu/run.sh needs on a GPU machine that has nvcc,
// PyTorch and timm but no node, written to bench/.work/cuda/ (ignored by git; carry it):
//   builds/vit-b16-{fp16,bf16,fp32,tf32}/    ViT-B/16 build directories (run.sh runs make in each)
//   builds/vit-b16-features-{fp32,fp16}/     ViT-B/16 with --features: vitc finetune -t cuda's backbone
//                                            (run.sh's finetune step; bench/gpu/finetune.py)
//   builds/tiny-base-features-{fp32,fp16}/   tiny-base with --features, for bench/gpu/dry-run.sh
//   builds/<tiny spec>-<precision>/          every tiny golden spec in every precision
//   goldens/<tiny spec>/                      the PyTorch fixtures (weights, input, logits)
//   goldens.json                              which build checks against which fixture, and the tolerance
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Precision } from '../src/backends/backend.js';
import { compile, writeBuildDir } from '../src/compile.js';
import { GOLDEN_MATRIX } from '../test/golden.js';

const OUT = 'bench/.work/cuda';
rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, 'builds'), { recursive: true });

async function build(spec: string, precision: Precision, name: string, features = false): Promise<void> {
  const c = await compile(spec, 'cuda', { precision, seed: 0, features });
  writeBuildDir(join(OUT, 'builds', name), c.files);
  process.stderr.write(`built ${name}\n`);
}

for (const precision of ['fp16', 'bf16', 'fp32', 'tf32']) await build('spec/vit-b16.yaml', precision, `vit-b16-${precision}`);
for (const precision of ['fp32', 'fp16'] as const) {
  await build('spec/vit-b16.yaml', precision, `vit-b16-features-${precision}`, true);
  await build('spec/tiny/tiny-base.yaml', precision, `tiny-base-features-${precision}`, true);
}

const goldens: { build: string; golden: string; precision: Precision; tolerance: number; top1: boolean }[] = [];
const rows = GOLDEN_MATRIX.filter((r) => r.target === 'cuda');
const specs = readdirSync('spec/tiny').filter((f) => /^tiny-.*\.yaml$/.test(f)).sort();
for (const f of specs) {
  const name = basename(f, '.yaml');
  cpSync(join('test/golden', name), join(OUT, 'goldens', name), { recursive: true });
  for (const row of rows) {
    await build(join('spec/tiny', f), row.precision, `${name}-${row.precision}`);
    goldens.push({ build: `${name}-${row.precision}`, golden: name, precision: row.precision, tolerance: row.tolerance, top1: row.top1 === true });
  }
}
writeFileSync(join(OUT, 'goldens.json'), JSON.stringify(goldens, null, 2) + '\n');
process.stderr.write(`${OUT}: ${goldens.length} golden builds, 4 ViT-B/16 builds and 2 with --features; on the GPU machine run bench/gpu/run.sh\n`);
