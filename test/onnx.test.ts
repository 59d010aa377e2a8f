// The ONNX target, end to end (its goldens are rows of test/golden.test.ts): one file
// for any batch size, external data, byte-identical rebuilds, the graph's structure, the text
// dump against a reviewed snapshot, and one-line errors.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, goldenNames, goldenPaths, loadGolden, type Golden } from './golden.js';
import { PY, pythonHas, runAsync, tempDir, vitc } from './helpers.js';
import { openSession, prepare } from '../src/runner.js';
import type { BuildOptions } from '../src/backends/backend.js';
import { DT, onnx, type P } from '../src/backends/onnx/proto.js';
import { dumpOnnx } from '../src/backends/onnx/dump.js';

/** fp32: the bound every target meets (max|err| <= 1e-4 * max|ref|). */
const FP32_TOLERANCE = 1e-4;


/** Build the fixture's spec for onnx with its weights and run batches of its input. */
async function runGolden(g: Golden, options: Partial<BuildOptions>, batches: readonly number[] = [g.input.shape[0]!]): Promise<Float32Array[]> {
  const p = await prepare(g.spec, 'onnx', { precision: 'fp32', seed: 0, weights: { bytes: g.weights, file: 'weights.safetensors' }, ...options });
  try {
    const s = await openSession(p, g.weights);
    const per = g.input.data.length / g.input.shape[0]!;
    const outs: Float32Array[] = [];
    for (const b of batches) outs.push(await s.forward(g.input.data.slice(0, b * per), b));
    await s.close();
    return outs;
  } finally {
    p.cleanup();
  }
}

async function build(spec: string, ...extra: string[]): Promise<{ dir: string; model: P.ModelProto; manifest: { weights: { name: string }[] } }> {
  const dir = join(tempDir(), 'o');
  const r = await vitc('build', spec, '--target', 'onnx', '-o', dir, ...extra);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  return { dir, model: onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx'))), manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) };
}

const int64s = (t: P.ITensorProto) => { const b = Buffer.from(t.rawData!); return Array.from({ length: b.length / 8 }, (_, i) => Number(b.readBigInt64LE(8 * i))); };

describe('onnx target', () => {
  it('runs batch 1 and 3 from one file (symbolic batch)', async () => {
    const g = loadGolden('tiny-distilled');
    const [one, three] = await runGolden(g, {}, [1, 3]);
    expect(compare(three!, g.logits.data).rel).toBeLessThanOrEqual(FP32_TOLERANCE);
    expect(compare(one!, three!.slice(0, one!.length)).rel).toBeLessThan(1e-6);
  });

  it('writes the Gelu operator from opset 20, with the same logits', async () => {
    for (const name of ['tiny-base', 'tiny-gap']) {
      const g = loadGolden(name);
      const [y] = await runGolden(g, { targetArgs: { opset: '20' } });
      expect(compare(y!, g.logits.data).rel, name).toBeLessThanOrEqual(FP32_TOLERANCE);
    }
    const ops = (await build('spec/tiny/tiny-base.yaml', '--opset', '20')).model.graph!.node!.map((n) => n.opType);
    expect(ops).toContain('Gelu');
    expect(ops).not.toContain('Erf');
  });

  it('moves weights to model.onnx.data past the threshold, aligned, and loads them back', async () => {
    const g = loadGolden('tiny-base');
    const inline = await build(g.spec);
    const ext = await build(g.spec, '--external-data-threshold', '100000');
    expect(readdirSync(inline.dir).sort()).toEqual(['manifest.json', 'model.onnx']);
    expect(readdirSync(ext.dir).sort()).toEqual(['manifest.json', 'model.onnx', 'model.onnx.data']);
    expect(statSync(join(ext.dir, 'model.onnx')).size).toBeLessThan(30_000);
    const data = statSync(join(ext.dir, 'model.onnx.data')).size;
    const moved = ext.model.graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    expect(moved.map((t) => t.name)).toContain('blocks.0.attn.qkv.weight');
    for (const t of moved) {
      const kv = Object.fromEntries(t.externalData!.map((e) => [e.key, e.value]));
      expect(kv.location).toBe('model.onnx.data');
      expect(Number(kv.offset) % 4096).toBe(0);
      expect(Number(kv.offset) + Number(kv.length)).toBeLessThanOrEqual(data);
      expect(t.rawData?.length ?? 0).toBe(0);
    }
    // Same names, types and shapes as the inline build; only where the bytes live differs.
    const sig = (m: P.ModelProto) => m.graph!.initializer!.map((t) => `${t.name}:${t.dataType}:${t.dims!.join(',')}`);
    expect(sig(ext.model)).toEqual(sig(inline.model));
    const [y] = await runGolden(g, { targetArgs: { 'external-data-threshold': '100000' } });
    expect(compare(y!, g.logits.data).rel).toBeLessThanOrEqual(FP32_TOLERANCE);
    const run = await vitc('run', ext.dir, '--top', '1');
    expect(run.code).toBe(0);
  });

  it('rebuilds byte for byte (fp32, fp16, external data)', async () => {
    for (const extra of [[], ['--precision', 'fp16'], ['--external-data-threshold', '1000'], ['--onnx-ops', 'ort', '--opset', '23']]) {
      const a = await build('spec/tiny/tiny-sincos.yaml', ...extra);
      const b = await build('spec/tiny/tiny-sincos.yaml', ...extra);
      const files = readdirSync(a.dir).sort();
      expect(readdirSync(b.dir).sort()).toEqual(files);
      for (const f of files) expect(readFileSync(join(b.dir, f)).equals(readFileSync(join(a.dir, f))), `${extra.join(' ')} ${f}`).toBe(true);
    }
  });

  it('vitc run --target onnx runs a spec with the fixture weights', async () => {
    const dir = tempDir();
    const r = await vitc('run', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--weights', 'test/golden/tiny-base/weights.safetensors', '--input', 'test/golden/tiny-base/input.npy', '--output', join(dir, 'y.npy'), '--top', '0');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const y = readFileSync(join(dir, 'y.npy'));
    const ref = readFileSync('test/golden/tiny-base/logits.npy');
    const f32 = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset + 10 + b.readUInt16LE(8), b.byteOffset + b.length));
    expect(compare(f32(y), f32(ref)).rel).toBeLessThanOrEqual(FP32_TOLERANCE);
  });
});

/**
 * What every build must be: topological, nothing dead or duplicated, unique names, a full value_info
 * for every node output, no literal batch size, state-dict weights and shared constants, metadata.
 * Returns the graph's initializers and value types for further checks.
 */
function wellFormed(model: P.ModelProto, manifest: { weights: { name: string }[] }, name: string): { inits: Map<string, P.ITensorProto>; weights: string[] } {
  const g = model.graph!;
  expect(model.producerName).toBe('vitc');

  // Topological, every input produced; nothing dead, no unused initializer.
  const produced = new Set([...g.input!.map((v) => v.name!), ...g.initializer!.map((t) => t.name!)]);
  const consumed = new Set(g.output!.map((v) => v.name!));
  const nodeKeys = new Set<string>();
  for (const n of g.node!) {
    for (const i of n.input!.filter(Boolean)) {
      expect(produced.has(i), `${n.name} reads ${i} before anything produces it`).toBe(true);
      consumed.add(i);
    }
    for (const o of n.output!.filter(Boolean)) {
      expect(produced.has(o), `${o} is produced twice`).toBe(false);
      produced.add(o);
    }
    const key = `${n.opType}(${n.input!.join(',')})${JSON.stringify(n.attribute)}`;
    expect(nodeKeys.has(key), `${n.name} duplicates another node`).toBe(false);
    nodeKeys.add(key);
  }
  expect(new Set(g.node!.map((n) => n.name)).size).toBe(g.node!.length);
  for (const n of g.node!) for (const o of n.output!.filter(Boolean)) expect(consumed.has(o), `${n.name} is dead`).toBe(true);
  for (const t of g.initializer!) expect(consumed.has(t.name!), `initializer ${t.name} is unused`).toBe(true);

  // Weights: state-dict names in manifest order, the rest are deduplicated constants.
  const weights = manifest.weights.map((w) => w.name);
  expect(g.initializer!.map((t) => t.name!).filter((n) => !n.startsWith('const/'))).toEqual(weights);
  const constBytes = g.initializer!.filter((t) => t.name!.startsWith('const/')).map((t) => `${t.dataType}|${t.dims!.join(',')}|${Buffer.from(t.rawData!).toString('hex')}`);
  expect(new Set(constBytes).size).toBe(constBytes.length);

  // Every node output (omitted optional ones have empty names) has a value_info (or is a graph output) with a full shape.
  const types = new Map([...g.valueInfo!, ...g.output!].map((v) => [v.name!, v.type!.tensorType!]));
  for (const n of g.node!) {
    for (const o of n.output!.filter(Boolean)) {
      const t = types.get(o);
      expect(t, `no value_info for ${o}`).toBeDefined();
      expect(t!.shape!.dim!.every((d) => d.dimParam || Number(d.dimValue) > 0), `${o} has an unknown dim`).toBe(true);
    }
  }
  for (const v of [...g.input!, ...g.output!]) expect(v.type!.tensorType!.shape!.dim![0]!.dimParam).toBe('batch');

  // No Reshape holds a batch size: wherever the result has a symbolic dim, the target says 0 or -1.
  const inits = new Map(g.initializer!.map((t) => [t.name!, t]));
  const reshapes = g.node!.filter((n) => n.opType === 'Reshape');
  expect(reshapes.length).toBeGreaterThan(0);
  for (const n of reshapes) {
    const target = int64s(inits.get(n.input![1]!)!);
    types.get(n.output![0]!)!.shape!.dim!.forEach((d, i) => {
      if (d.dimParam) expect([0, -1], `${n.name} dim ${i}`).toContain(target[i]);
      else expect(target[i], `${n.name} dim ${i}`).toBe(Number(d.dimValue));
    });
  }

  const meta = Object.fromEntries(model.metadataProps!.map((p) => [p.key, p.value]));
  expect(meta['vitc.spec.name']).toBe(name);
  expect(meta['vitc.spec.sha256']).toMatch(/^[0-9a-f]{64}$/);
  expect(meta['vitc.version']).toBe(model.producerVersion);
  expect(JSON.parse(meta['vitc.spec']!).name).toBe(name);
  expect(meta['vitc.precision']).toBe('fp32');
  return { inits, weights };
}


const opCounts = (m: P.ModelProto) => {
  const c: Record<string, number> = {};
  for (const n of m.graph!.node!) c[n.domain ? `${n.domain}.${n.opType}` : n.opType!] = (c[n.domain ? `${n.domain}.${n.opType}` : n.opType!] ?? 0) + 1;
  return c;
};

describe('onnx graph structure', () => {
  it.each(['tiny-base', 'tiny-distilled', 'tiny-gap', 'tiny-sincos', 'tiny-layerscale', 'tiny-parallel'])('%s: well formed, nothing dead or duplicated, typed, no literal batch', async (name) => {
    const { model, manifest } = await build(`spec/tiny/${name}.yaml`);
    const g = model.graph!;
    expect(model.opsetImport!.map((o) => `${o.domain}:${o.version}`)).toEqual([':17']);
    expect(Number(model.irVersion)).toBe(8);
    const { inits, weights } = wellFormed(model, manifest, name);

    // Idiomatic ops: Gemm with the weight as stored, LayerNormalization, Softmax, exact GELU via Erf.
    const ops = new Set(g.node!.map((n) => n.opType));
    for (const op of ['Gemm', 'LayerNormalization', 'Softmax', 'Erf', 'MatMul', 'Conv']) expect(ops.has(op), op).toBe(true);
    for (const n of g.node!.filter((x) => x.opType === 'Gemm')) {
      expect(n.attribute!.map((a) => `${a.name}=${a.i}`)).toEqual(['transB=1']);
      expect(weights).toContain(n.input![1]);
    }
    expect(g.node!.filter((n) => n.opType === 'Transpose').every((n) => !inits.has(n.input![0]!))).toBe(true);

    const meta = Object.fromEntries(model.metadataProps!.map((p) => [p.key, p.value]));
    expect(meta['vitc.onnx_ops']).toBe('standard');
    expect(meta['vitc.requires']).toBeUndefined();
  });

  it('opset 23: the Attention operator on [batch, T, heads*d] matrices, so no head transposes', async () => {
    const { model, manifest } = await build('spec/tiny/tiny-base.yaml', '--opset', '23');
    expect(model.opsetImport!.map((o) => `${o.domain}:${o.version}`)).toEqual([':23']);
    expect(Number(model.irVersion)).toBe(11);
    wellFormed(model, manifest, 'tiny-base');
    const ops = opCounts(model);
    expect(ops.Attention).toBe(2);
    expect([ops.Softmax, ops.MatMul, ops.Erf]).toEqual([undefined, undefined, undefined]);
    expect(ops.Transpose).toBe(1); // the patch embedding's [B, D, N] -> [B, N, D] only
    const types = new Map(model.graph!.valueInfo!.map((v) => [v.name!, v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))]));
    // The last block computes the class token's query only (narrow-rows): its q and output are one row.
    const rows = [[17, 17, 17, 17], [1, 17, 17, 1]];
    for (const [i, n] of model.graph!.node!.filter((x) => x.opType === 'Attention').entries()) {
      expect([...n.input!, ...n.output!].map((v) => types.get(v))).toEqual(rows[i]!.map((t) => ['batch', t, 48]));
      expect(Object.fromEntries(n.attribute!.map((a) => [a.name, a.type === onnx.AttributeProto.AttributeType.INT ? Number(a.i) : a.f]))).toMatchObject({ q_num_heads: 4, kv_num_heads: 4 });
    }
  });

  it.each(['tiny-base', 'tiny-parallel', 'tiny-postnorm', 'tiny-layerscale', 'tiny-noqkvbias', 'tiny-gap'])('%s --onnx-ops ort: well formed, onnxruntime operators where they apply, and it says so', async (name) => {
    const { model, manifest } = await build(`spec/tiny/${name}.yaml`, '--onnx-ops', 'ort');
    expect(model.opsetImport!.map((o) => `${o.domain}:${o.version}`)).toEqual([':17', 'com.microsoft:1']);
    wellFormed(model, manifest, name);
    const meta = Object.fromEntries(model.metadataProps!.map((p) => [p.key, p.value]));
    expect(meta['vitc.onnx_ops']).toBe('ort');
    const ops = opCounts(model);
    const contrib = Object.keys(ops).filter((k) => k.startsWith('com.microsoft.')).map((k) => k.slice('com.microsoft.'.length)).sort();
    expect(meta['vitc.requires']).toBe(`onnxruntime: com.microsoft operators ${contrib.join(', ')}`);
    // Every block fuses its qkv projection and attention, except a last block narrowed to the
    // class token (narrow-rows), whose queries are one row: it keeps the standard form.
    expect(contrib).toEqual(['Attention']);
    expect(ops['com.microsoft.Attention']).toBe(name === 'tiny-gap' ? 2 : 1);
    expect(ops.Softmax ?? 0).toBe(name === 'tiny-gap' ? 0 : 1);
    const nodes = model.graph!.node!;
    const producer = new Map(nodes.flatMap((n) => n.output!.map((o) => [o, n] as const)));
    for (const a of nodes.filter((n) => n.domain === 'com.microsoft')) {
      const block = a.name!.split('/')[0]!.replace(/\.attn$/, '');
      // input [batch, T, D]; weights: the state-dict qkv weight [3D, D] transposed to [D, 3D] (folded at load).
      const w = producer.get(a.input![1]!)!;
      expect(w.opType).toBe('Transpose');
      expect(w.input).toEqual([`${block}.attn.qkv.weight`]);
      expect(a.input!.slice(2)).toEqual([name === 'tiny-noqkvbias' ? 'const/zeros' : `${block}.attn.qkv.bias`]);
      // The projection and head split it computes are not written.
      expect(nodes.some((n) => n.input!.includes(`${block}.attn.qkv.weight`) && n !== w)).toBe(false);
    }
  });

  it('fp16: half initializers and activations, float32 input and output, softmax and LayerNorm statistics in fp32', async () => {
    const { model } = await build('spec/tiny/tiny-base.yaml', '--precision', 'fp16');
    const g = model.graph!;
    for (const v of [...g.input!, ...g.output!]) expect(v.type!.tensorType!.elemType).toBe(DT.FLOAT);
    for (const t of g.initializer!) expect([DT.FLOAT16, DT.INT64]).toContain(t.dataType);
    const softmax = g.node!.filter((n) => n.opType === 'Softmax');
    const types = new Map(g.valueInfo!.map((v) => [v.name!, v.type!.tensorType!.elemType]));
    for (const s of softmax) expect(types.get(s.output![0]!)).toBe(DT.FLOAT);
    for (const n of g.node!.filter((x) => x.opType === 'LayerNormalization')) expect(Number(n.attribute!.find((a) => a.name === 'stash_type')!.i)).toBe(1);
    expect(g.node![0]!.opType).toBe('Cast');
    expect(g.node!.at(-1)!.opType).toBe('Cast');
  });

  const hasOnnx = pythonHas('onnx', 'the onnx checker');
  it.skipIf(!hasOnnx)('passes the onnx checker and strict shape inference, which agrees with every value_info', async () => {
    const dirs = [];
    for (const name of goldenNames()) dirs.push((await build(goldenPaths(name).spec)).dir);
    dirs.push((await build('spec/tiny/tiny-gap.yaml', '--precision', 'fp16')).dir);
    dirs.push((await build('spec/tiny/tiny-base.yaml', '--external-data-threshold', '1000')).dir);
    const r = await runAsync(PY, ['tools/onnx_check.py', ...dirs.map((d) => join(d, 'model.onnx'))]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(dirs.length);
  });
});

describe('onnx text dump (test/snapshots, reviewed as text; UPDATE_SNAPSHOTS=1 rewrites them)', () => {
  const cases: Record<string, string[]> = {
    'tiny-base.onnx.txt': ['spec/tiny/tiny-base.yaml'],
    'tiny-gap.fp16.opset20.onnx.txt': ['spec/tiny/tiny-gap.yaml', '--precision', 'fp16', '--opset', '20'],
    // The hybrid's backbone: Conv with asymmetric pads and folded weight standardization, MaxPool,
    // GroupNorm as InstanceNormalization with float32 statistics.
    'tiny-r50-short.fp16.onnx.txt': ['spec/tiny/tiny-r50-short.yaml', '--precision', 'fp16'],
    'tiny-base.opset23.onnx.txt': ['spec/tiny/tiny-base.yaml', '--opset', '23'],
    'tiny-base.ort.onnx.txt': ['spec/tiny/tiny-base.yaml', '--onnx-ops', 'ort'],
  };
  it('has a case for every snapshot file', () => {
    expect(readdirSync('test/snapshots').filter((f) => f.endsWith('.onnx.txt')).sort()).toEqual(Object.keys(cases).sort());
  });
  it.each(Object.entries(cases))('%s', async (file, [spec, ...extra]) => {
    const { dir } = await build(spec!, ...extra);
    const text = dumpOnnx(readFileSync(join(dir, 'model.onnx')));
    const path = join('test/snapshots', file);
    if (process.env.UPDATE_SNAPSHOTS || !existsSync(path)) {
      if (process.env.CI) throw new Error(`snapshot ${path} is missing or out of date`);
      writeFileSync(path, text);
    }
    expect(text).toBe(readFileSync(path, 'utf8'));
    expect((await vitc('inspect', join(dir, 'model.onnx'))).stdout.trimEnd()).toBe(text.trimEnd());
  });
});

describe('onnx errors', () => {
  it('reports weights that do not fit the model in one line, exit 1', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'w.safetensors'), readFileSync('test/golden/tiny-base/weights.safetensors').subarray(0, 5000));
    const cut = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--weights', join(dir, 'w.safetensors'), '-o', join(dir, 'o'));
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/^\S*w\.safetensors: error: truncated safetensors file: tensor "[^"]+" ends at byte \d+ of the data section but the file has only \d+$/);
    expect(existsSync(join(dir, 'o'))).toBe(false);
    const other = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--weights', 'test/golden/tiny-gap/weights.safetensors', '-o', join(dir, 'o'));
    expect(other.code).toBe(1);
    expect(other.stderr).toBe('spec/tiny/tiny-base.yaml: error: weights have no cls_token, fc_norm.weight [48]; the spec says class_token: true, global_pool: token — set class_token: false, global_pool: avg (the weights are test/golden/tiny-gap/weights.safetensors)');
    const run = await vitc('run', 'spec/tiny/tiny-mlp-ratio.yaml', '--target', 'onnx', '--weights', 'test/golden/tiny-base/weights.safetensors');
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')).toHaveLength(1);
    expect(run.stderr).toBe('spec/tiny/tiny-mlp-ratio.yaml:5:12: error: weights have blocks.0.mlp.fc1.weight [192, 48]; the spec says mlp_ratio: 2.6875 — set mlp_ratio: 4 (the weights are test/golden/tiny-base/weights.safetensors)');
    const missing = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--weights', join(dir, 'nope.safetensors'));
    expect(missing.code).toBe(1);
    expect(missing.stderr.split('\n')).toHaveLength(1);
  });

  it('rejects an opset it does not write, and onnx options on other targets', async () => {
    const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--opset', '16');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: --opset must be one of 17, 18, 19, 20, 21, 22, 23; got "16"');
    const ops = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--onnx-ops', 'onnxruntime');
    expect(ops.code).toBe(1);
    expect(ops.stderr).toBe('error: --onnx-ops must be one of standard, ort; got "onnxruntime"');
    const js = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'js', '--external-data-threshold', '1000');
    expect(js.code).toBe(1);
    expect(js.stderr).toBe('error: --external-data-threshold does not apply to the js target (it is an option of onnx)');
  });
});
