// The ONNX target: goldens through ONNX Runtime (the runner behind `vitc run --target onnx`), fp16
// within a stated bound, dynamic batch, external data, determinism, graph structure, snapshots.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, goldenNames, loadGolden, type Golden } from './golden.js';
import { vitc, tempDir } from './helpers.js';
import { openSession, prepare } from '../src/runner.js';
import { onnx, DT } from '../src/backends/onnx/graph.js';
import { dumpOnnx } from '../src/backends/onnx/dump.js';
import type { BuildOptions } from '../src/backends/backend.js';

/** fp32: the same bound as every target. */
const FP32_TOLERANCE = 1e-4;
/**
 * fp16 weights and compute (LayerNorm and softmax statistics in fp32): the measured worst case over
 * the fixtures is 1.5e-3 x max|ref| (tiny-noqkvbias); the bound leaves 3x margin.
 */
const FP16_TOLERANCE = 5e-3;

async function runGolden(g: Golden, options: Partial<BuildOptions>, batches: number[] = [3]): Promise<Float32Array[]> {
  const p = await prepare(g.spec, 'onnx', { precision: 'fp32', seed: 0, weights: { bytes: g.weights, file: 'weights.safetensors' }, ...options });
  try {
    const s = await openSession(p, g.weights);
    const per = g.input.data.length / g.input.shape[0]!;
    const outs = [];
    for (const b of batches) outs.push(await s.forward(g.input.data.slice(0, b * per), b));
    await s.close();
    return outs;
  } finally {
    p.cleanup();
  }
}

describe.each(goldenNames())('onnx target matches PyTorch: %s', (name) => {
  it(`fp32 within ${FP32_TOLERANCE}, fp16 within ${FP16_TOLERANCE} (x max|ref|)`, async () => {
    const g = loadGolden(name);
    const [y32] = await runGolden(g, {});
    expect(compare(y32!, g.logits.data).rel).toBeLessThanOrEqual(FP32_TOLERANCE);
    const [y16] = await runGolden(g, { precision: 'fp16' });
    expect(compare(y16!, g.logits.data).rel).toBeLessThanOrEqual(FP16_TOLERANCE);
  });
});

describe('onnx target', () => {
  it('runs batch 1 and 3 from one file (symbolic batch)', async () => {
    const g = loadGolden('tiny-distilled');
    const [one, three] = await runGolden(g, {}, [1, 3]);
    expect(compare(one!, three!.slice(0, 10)).rel).toBeLessThan(1e-6);
    expect(compare(three!, g.logits.data).rel).toBeLessThanOrEqual(FP32_TOLERANCE);
  });

  it('opset 20 uses the Gelu operator and gives the same logits', async () => {
    for (const name of ['tiny-base', 'tiny-qkscale', 'tiny-gap']) {
      const g = loadGolden(name);
      const [y] = await runGolden(g, { opset: 20 });
      expect(compare(y!, g.logits.data).rel, name).toBeLessThanOrEqual(FP32_TOLERANCE);
    }
    const dir = tempDir();
    await vitc('build', 'spec/tiny/tiny-qkscale.yaml', '--target', 'onnx', '--opset', '20', '-o', join(dir, 'o'));
    const ops = onnx.ModelProto.decode(readFileSync(join(dir, 'o', 'model.onnx'))).graph!.node!.map((n) => n.opType);
    expect(ops).toContain('Gelu');
    expect(ops).not.toContain('Erf');
  });

  it('writes external data past the threshold, and it loads back the same', async () => {
    const g = loadGolden('tiny-base');
    const dir = tempDir();
    await vitc('build', g.spec, '--target', 'onnx', '-o', join(dir, 'inline'));
    const r = await vitc('build', g.spec, '--target', 'onnx', '-o', join(dir, 'ext'), '--external-data-threshold', '100000');
    expect(r.code).toBe(0);
    expect(readdirSync(join(dir, 'ext')).sort()).toEqual(['manifest.json', 'model.onnx', 'model.onnx.data']);
    expect(readdirSync(join(dir, 'inline')).sort()).toEqual(['manifest.json', 'model.onnx']);
    expect(statSync(join(dir, 'ext', 'model.onnx')).size).toBeLessThan(40_000);
    const m = onnx.ModelProto.decode(readFileSync(join(dir, 'ext', 'model.onnx')));
    const qkv = m.graph!.initializer!.find((t) => t.name === 'blocks.0.attn.qkv.weight')!;
    expect(qkv.dataLocation).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
    const [y] = await runGolden(g, { externalDataThreshold: 100000 });
    expect(compare(y!, g.logits.data).rel).toBeLessThanOrEqual(FP32_TOLERANCE);
    const run = await vitc('run', join(dir, 'ext'), '--top', '1');
    expect(run.code).toBe(0);
  });

  it('is deterministic (fp32, fp16, external data)', async () => {
    const dir = tempDir();
    for (const [tag, extra] of [['a', []], ['f', ['--precision', 'fp16']], ['x', ['--external-data-threshold', '1000']]] as const) {
      for (const i of [1, 2]) expect((await vitc('build', 'spec/tiny/tiny-sincos.yaml', '--target', 'onnx', '-o', join(dir, `${tag}${i}`), ...extra)).code).toBe(0);
      for (const f of readdirSync(join(dir, `${tag}1`))) expect(readFileSync(join(dir, `${tag}2`, f)).equals(readFileSync(join(dir, `${tag}1`, f))), `${tag}/${f}`).toBe(true);
    }
  });
});

describe('onnx graph structure', () => {
  const built = (spec: string, ...extra: string[]) => {
    const dir = tempDir();
    spawnSync(process.execPath, ['bin/vitc.js', 'build', spec, '--target', 'onnx', '-o', join(dir, 'o'), ...extra]);
    return { model: onnx.ModelProto.decode(readFileSync(join(dir, 'o', 'model.onnx'))), manifest: JSON.parse(readFileSync(join(dir, 'o', 'manifest.json'), 'utf8')), path: join(dir, 'o', 'model.onnx') };
  };

  it.each(['tiny-distilled', 'tiny-gap', 'tiny-sincos', 'tiny-prelogits'])('%s: topological, nothing dead or duplicated, every value typed, idiomatic ops', (name) => {
    const { model, manifest } = built(`spec/tiny/${name}.yaml`);
    const g = model.graph!;
    expect(Number(model.opsetImport![0]!.version)).toBe(17);
    const produced = new Set<string>([...g.input!.map((v) => v.name!), ...g.initializer!.map((t) => t.name!)]);
    const consumed = new Set<string>(g.output!.map((v) => v.name!));
    const keys = new Set<string>();
    for (const n of g.node!) {
      for (const i of n.input!) { expect(produced.has(i), `${n.name} reads ${i} before it exists`).toBe(true); consumed.add(i); }
      for (const o of n.output!) produced.add(o);
      const key = `${n.opType}(${n.input!.join(',')})${JSON.stringify(n.attribute)}`;
      expect(keys.has(key), `duplicate node ${n.name}`).toBe(false);
      keys.add(key);
    }
    for (const n of g.node!) for (const o of n.output!) expect(consumed.has(o), `${n.name} is dead`).toBe(true);
    for (const t of g.initializer!) expect(consumed.has(t.name!), `initializer ${t.name} is unused`).toBe(true);
    const typed = new Set([...g.valueInfo!, ...g.output!].map((v) => v.name!));
    for (const n of g.node!) for (const o of n.output!) expect(typed.has(o), `no value_info for ${o}`).toBe(true);
    const weightNames = manifest.weights.map((w: { name: string }) => w.name);
    expect(g.initializer!.map((t) => t.name).filter((n) => weightNames.includes(n))).toEqual(weightNames);
    const ops = new Set(g.node!.map((n) => n.opType));
    for (const op of ['Gemm', 'LayerNormalization', 'Softmax', 'Erf', 'MatMul']) expect(ops.has(op), op).toBe(true);
    // No Reshape hard-codes the batch: its shape constant has 0 or -1 wherever the output has the batch.
    const consts = new Map(g.initializer!.filter((t) => t.dataType === DT.INT64).map((t) => [t.name!, Array.from({ length: t.rawData!.length / 8 }, (_, i) => Number(Buffer.from(t.rawData!).readBigInt64LE(8 * i)))]));
    const shapes = new Map([...g.valueInfo!, ...g.output!].map((v) => [v.name!, v.type!.tensorType!.shape!.dim!]));
    for (const n of g.node!.filter((x) => x.opType === 'Reshape')) {
      const target = consts.get(n.input![1]!)!;
      shapes.get(n.output![0]!)!.forEach((d, i) => { if (d.dimParam) expect([0, -1], n.name!).toContain(target[i]); });
    }
    const meta = Object.fromEntries(model.metadataProps!.map((p) => [p.key, p.value]));
    expect(meta['vitc.spec.name']).toBe(name);
    expect(JSON.parse(meta['vitc.spec']!).embed_dim).toBe(48);
  });

  const PY = '/usr/bin/python3';
  const hasOnnx = spawnSync(PY, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasOnnx && !process.env.CI)('passes the onnx checker and strict shape inference, which agrees with every recorded shape', () => {
    const paths = [...goldenNames().map((n) => built(`spec/tiny/${n}.yaml`).path), built('spec/tiny/tiny-gap.yaml', '--precision', 'fp16').path, built('spec/tiny/tiny-qkscale.yaml', '--precision', 'fp16').path];
    const r = spawnSync(PY, ['tools/onnx_check.py', ...paths], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(paths.length);
  });
});

describe('onnx snapshots (test/snapshots, reviewed as text; UPDATE_SNAPSHOTS=1 rewrites them)', () => {
  const cases: Record<string, string[]> = {
    'tiny-distilled.onnx.txt': ['spec/tiny/tiny-distilled.yaml'],
    'tiny-gap.fp16.opset20.onnx.txt': ['spec/tiny/tiny-gap.yaml', '--precision', 'fp16', '--opset', '20'],
  };
  it('has a test for every snapshot file', () => {
    expect(readdirSync('test/snapshots').filter((f) => f.endsWith('.onnx.txt')).sort()).toEqual(Object.keys(cases).sort());
  });
  it.each(Object.entries(cases))('%s', async (file, args) => {
    const dir = tempDir();
    expect((await vitc('build', args[0]!, '--target', 'onnx', '-o', join(dir, 'o'), ...args.slice(1))).code).toBe(0);
    const text = dumpOnnx(readFileSync(join(dir, 'o', 'model.onnx')));
    const path = join('test/snapshots', file);
    if (process.env.UPDATE_SNAPSHOTS || !existsSync(path)) {
      if (process.env.CI) throw new Error(`snapshot ${path} is missing`);
      writeFileSync(path, text);
    }
    expect(text).toBe(readFileSync(path, 'utf8'));
  });
});

describe('onnx errors', () => {
  it('reports bad weights in one line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'w.safetensors'), readFileSync('test/golden/tiny-base/weights.safetensors').subarray(0, 5000));
    const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--weights', join(dir, 'w.safetensors'), '-o', join(dir, 'o'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/w\.safetensors: error: truncated safetensors file: tensor "[^"]+" ends at byte \d+ of the data section but the file has only \d+$/);
    const wrong = await vitc('run', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--weights', 'test/golden/tiny-gap/weights.safetensors');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('test/golden/tiny-gap/weights.safetensors: error: missing tensor "cls_token" (expected shape [1,1,48]) (and 3 more problems)');
  });
  it('rejects an unsupported opset, and onnx options on other targets', async () => {
    const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--opset', '16');
    expect(r.stderr).toBe('error: --opset must be one of 17, 18, 19, 20, 21, 22; got 16');
    const js = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'js', '--opset', '17');
    expect(js.stderr).toBe('error: --opset does not apply to the js target');
  });
});
