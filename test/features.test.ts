// The `features` build option: a second graph output, the input of pre_logits.fc (or head), on every
// target that has it. The head applied to the features (in TypeScript) must give the PyTorch golden's
// logits, and the targets must agree on the features themselves. The cuda target runs model.cu under
// the CPU emulation (g++) where there is no GPU.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, loadGolden } from './golden.js';
import { tempDir, vitc } from './helpers.js';
import { openSession, prepare } from '../src/runner.js';
import { parseSafetensors, tensorToFloat32 } from '../src/runtime/safetensors.js';
import { headForward, type Head } from '../src/finetune/head.js';
import type { Precision } from '../src/backends/backend.js';

const SPECS = ['tiny-base', 'tiny-prelogits', 'tiny-gap'];

function headFrom(weights: Uint8Array, layers: readonly string[]): Head {
  const t = parseSafetensors(weights);
  return layers.map((name) => {
    const w = t[`${name}.weight`]!;
    return { name, out: w.shape[0]!, in: w.shape[1]!, weight: tensorToFloat32(w), bias: tensorToFloat32(t[`${name}.bias`]!) };
  });
}

async function outputs(name: string, target: string, precision: Precision = 'fp32'): Promise<{ logits: Float32Array; features: Float32Array; dims: number[] }> {
  const g = loadGolden(name);
  const p = await prepare(g.spec, target, { precision, seed: 0, features: true, weights: { bytes: g.weights, file: 'weights.safetensors' } });
  try {
    expect(p.manifest.outputs.map((o) => o.name)).toEqual(['logits', 'features']);
    const s = await openSession(p, g.weights);
    try {
      const [logits, features] = await s.forwardAll!(g.input.data, g.input.shape[0]!);
      return { logits: logits!, features: features!, dims: p.manifest.outputs.map((o) => o.shape[1] as number) };
    } finally {
      await s.close();
    }
  } finally {
    p.cleanup();
  }
}

describe('features output', () => {
  it.each(SPECS)('%s: head(features) gives the PyTorch logits on js, onnx and cuda, which agree on the features', async (name) => {
    const g = loadGolden(name);
    const layers = name === 'tiny-prelogits' ? ['pre_logits.fc', 'head'] : ['head'];
    const head = headFrom(g.weights, layers);
    const got: Record<string, Float32Array> = {};
    for (const target of ['js', 'onnx', 'cuda']) {
      const { logits, features, dims } = await outputs(name, target);
      const batch = g.input.shape[0]!;
      expect(features.length).toBe(batch * head[0]!.in);
      expect(dims).toEqual([head[head.length - 1]!.out, head[0]!.in]);
      expect(compare(logits, g.logits.data).rel, `${target} logits`).toBeLessThan(1e-4);
      const fromFeatures = Float32Array.from(headForward(head, features, batch).logits);
      expect(compare(fromFeatures, g.logits.data).rel, `${target} head(features)`).toBeLessThan(1e-5);
      got[target] = features;
    }
    expect(compare(got.onnx!, got.js!).rel).toBeLessThan(1e-5);
    expect(compare(got.cuda!, got.js!).rel).toBeLessThan(1e-5);
  }, 120_000);

  it('cuda fp16: the features leave the f16 arena as f32 and give the logits within the fp16 golden tolerance', async () => {
    const g = loadGolden('tiny-prelogits');
    const head = headFrom(g.weights, ['pre_logits.fc', 'head']);
    const { logits, features } = await outputs('tiny-prelogits', 'cuda', 'fp16');
    const batch = g.input.shape[0]!;
    expect(features.length).toBe(batch * 48);
    expect(compare(logits, g.logits.data).rel).toBeLessThan(1e-2);
    // The head in float64 on the f16 model's features: the logits within fp16's tolerance, and close to the model's own.
    const fromFeatures = Float32Array.from(headForward(head, features, batch).logits);
    expect(compare(fromFeatures, g.logits.data).rel).toBeLessThan(1e-2);
    expect(compare(fromFeatures, logits).rel).toBeLessThan(1e-2);
    const js = (await outputs('tiny-prelogits', 'js')).features;
    const rel = compare(features, js).rel;
    expect(rel).toBeGreaterThan(0);
    expect(rel).toBeLessThan(1e-2);
  }, 120_000);

  it('vitc build --features names the output in the manifest; a target without it says so', async () => {
    const dir = join(tempDir(), 'b');
    const r = await vitc('build', 'spec/tiny/tiny-prelogits.yaml', '--features', '-t', 'onnx', '-o', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-> logits [B,21], features [B,48]');
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { outputs: { name: string; shape: unknown[] }[] };
    expect(m.outputs).toEqual([{ name: 'logits', dtype: 'f32', shape: ['B', 21] }, { name: 'features', dtype: 'f32', shape: ['B', 48] }]);
    // vitc run reads a build with features as any other (the logits are its first output).
    const run = await vitc('run', dir, '--top', '1');
    expect(run.code).toBe(0);
    const wgsl = await vitc('build', 'spec/tiny/tiny-base.yaml', '--features', '-t', 'wgsl', '-o', join(tempDir(), 'w'));
    expect(wgsl.code).toBe(1);
    expect(wgsl.stderr).toBe('error: the wgsl target does not output the features yet (targets with features: js, onnx, cuda)');
  });
});
