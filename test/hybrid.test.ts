// The hybrid R50+ViT-B/16 (spec/vit-b16-r50*.yaml, stdlib/resnetv2.vit): its figures against the
// PyTorch reference's count, the StdConv fold as the manifest records it, the backbone's diagnostics,
// and weight transforms applied alike by a target that embeds weights and one that loads them.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PY, pythonHas, runAsync, tempDir, vitc } from './helpers.js';
import { compare, loadGolden } from './golden.js';
import { openSession, prepare, randomWeightsFor, sampleInput } from '../src/runner.js';

/**
 * Parameters and multiply-accumulates per image, counted by the PyTorch reference
 * (tools/golden/vit_ref.py: count_params over its state dict, count_macs by hooks on every
 * convolution, linear layer and attention matmul; checked below when torch is installed). timm lists
 * vit_base_r50_s16_384 at 98.95M parameters and vit_base_r50_s16_224 (no head) at 97.89M, which is
 * 115,277,971 less the in21k pre-logits (590,592) and 21843-class head (16,797,267). timm's benchmark
 * table gives 67.43 and 21.66 GMACs; its counter (fvcore-style) also counts a little more than the
 * matmuls and convolutions counted here.
 */
const REFERENCE = {
  'vit-b16-r50': { parameters: 115_277_971, macs: 21_551_956_224 },
  'vit-b16-r50-384': { parameters: 98_950_952, macs: 67_155_787_776 },
} as const;

describe('vitc inspect of the R50+ViT-B/16 hybrid', () => {
  it('shows the backbone per stage, and totals equal to the reference\'s count', async () => {
    const r = await vitc('inspect', 'spec/vit-b16-r50.yaml');
    expect(r.code).toBe(0);
    const row = (layer: string) => r.stdout.split('\n').find((l) => l.startsWith(`${layer} `))?.split(/\s{2,}/);
    expect(row('patch_embed.backbone.stem')).toEqual(['patch_embed.backbone.stem', '[B,64,56,56]', '9,536', '118.0']);
    expect(row('patch_embed.backbone.stages.0')?.slice(1, 3)).toEqual(['[B,256,56,56]', '215,808']);
    expect(row('patch_embed.backbone.stages.1')?.slice(1, 3)).toEqual(['[B,512,28,28]', '1,219,584']);
    expect(row('patch_embed.backbone.stages.2')?.slice(1, 3)).toEqual(['[B,1024,14,14]', '10,449,920']);
    expect(row('patch_embed.proj')?.slice(1, 3)).toEqual(['[B,196,768]', '787,200']);
    expect(r.stdout).toContain('backbone: ResNet-v2, stages of [3, 4, 9] bottleneck units (stem 64, channels 256, 512, 1024) -> a 14x14 feature map of 1024; patches 1x1');
    expect(r.stdout).toContain('parameters:        115,277,971');
    expect(r.stdout).toContain('GMACs per image:   21.55');
  });

  it.each(Object.entries(REFERENCE))('%s: --json parameters and MACs are the reference\'s', async (name, ref) => {
    const r = await vitc('inspect', `spec/${name}.yaml`, '--json');
    const j = JSON.parse(r.stdout);
    expect({ parameters: j.parameters, macs: j.macs_per_image }).toEqual(ref);
    expect(j.backbone.feature_map).toEqual(name.endsWith('384') ? [24, 24] : [14, 14]);
    expect(j.tokens).toBe(name.endsWith('384') ? 577 : 197);
  });

  const hasTorch = pythonHas('torch, yaml', 'the check of the reference\'s counts');
  it.skipIf(!hasTorch)('the reference counts exactly those figures', async () => {
    const script = `import json, sys; sys.path.insert(0, 'tools/golden')
from spec import load_spec
from vit_ref import count_macs, count_params
print(json.dumps({n: {'parameters': count_params(load_spec('spec/%s.yaml' % n)), 'macs': count_macs(load_spec('spec/%s.yaml' % n))} for n in ${JSON.stringify(Object.keys(REFERENCE))}}))`;
    const r = await runAsync(PY, ['-c', script]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(REFERENCE);
  });
});

describe('weight standardization is folded into the weights', () => {
  it('the manifest lists every backbone convolution, with the spec\'s eps; no standardize op is left', async () => {
    for (const [name, eps] of [['tiny-r50', 1e-8], ['tiny-r50-odd', 1e-6]] as const) {
      const dir = join(tempDir(), 'out');
      const r = await vitc('build', `spec/tiny/${name}.yaml`, '--target', 'js', '-o', dir, '--dump-ir=lower-composites');
      expect(r.code).toBe(0);
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      const convs = m.weights.map((w: { name: string }) => w.name).filter((n: string) => /^patch_embed\.backbone\..*conv\d?\.weight$/.test(n));
      // tiny-r50: the stem, three per unit (16 units) and one shortcut per stage; tiny-r50-odd: 1 + 3*3 + 3.
      expect(convs).toHaveLength(name === 'tiny-r50' ? 1 + 16 * 3 + 3 : 1 + 3 * 3 + 3);
      expect(m.weight_transforms).toEqual(convs.map((n: string) => ({ name: n, op: 'standardize', eps })));
      expect(r.stdout).not.toMatch(/= standardize\(/);
      expect(r.stdout).toContain(`%1 = param "patch_embed.backbone.stem.conv.weight" init=normal(0.02) transforms=[standardize(eps=${eps})] : f32[8,3,7,7]`);
      expect(readFileSync(join(dir, 'model.mjs'), 'utf8')).toContain(`["patch_embed.backbone.stem.conv.weight", [8, 3, 7, 7], [{"op":"standardize","eps":${eps}}]],`);
    }
    const plain = join(tempDir(), 'out');
    await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', plain);
    expect(JSON.parse(readFileSync(join(plain, 'manifest.json'), 'utf8')).weight_transforms).toEqual([]);
  });

  it('seeded random weights: ONNX (transforms applied when embedding) and JS (applied by the loader) agree', async () => {
    const outs: Float32Array[] = [];
    for (const target of ['onnx', 'js']) {
      const p = await prepare('spec/tiny/tiny-r50-short.yaml', target, { precision: 'fp32', seed: 7 });
      const s = await openSession(p, randomWeightsFor(p.manifest, 7));
      outs.push(await s.forward(sampleInput(p.manifest, 2), 2));
      await s.close();
      p.cleanup();
    }
    expect(compare(outs[0]!, outs[1]!).rel).toBeLessThan(1e-5);
  });

  it('onnx fp32 meets the issue\'s 1e-5 on the deepest hybrid too (the matrix row allows 1e-4)', async () => {
    const g = loadGolden('tiny-r50');
    const p = await prepare(g.spec, 'onnx', { precision: 'fp32', seed: 0, weights: { bytes: g.weights, file: 'weights.safetensors' } });
    const s = await openSession(p, g.weights);
    expect(compare(await s.forward(g.input.data, 3), g.logits.data).rel).toBeLessThan(1e-5);
    await s.close();
    p.cleanup();
  });
});

describe('backbone diagnostics', () => {
  const fx = (f: string) => `test/fixtures/hybrid/${f}`;
  it.each([
    ['bad_groups.yaml', 'test/fixtures/hybrid/groups.vit:7:7: error: conv2d: groups 5 does not divide the 48 input channels (try groups 4 or 6)'],
    ['zero_groups.yaml', 'test/fixtures/hybrid/zero_groups.vit:6:7: error: conv2d: groups must be a positive integer; got 0'],
    ['bad_gn.yaml', 'test/fixtures/hybrid/groups.vit:13:10: error: groupnorm: groups 7 does not divide the 48 channels (try groups 6 or 8)'],
    ['bad-backbone.yaml', 'test/fixtures/hybrid/bad-backbone.yaml:3:14: error: backbone.gn_groups 3 does not divide stem_width 8 (GroupNorm needs whole groups; try gn_groups 2 or 4)'],
    ['bad-patch.yaml', 'test/fixtures/hybrid/bad-patch.yaml:2:13: error: the backbone\'s feature map for img_size 48x48 is 3x3, which patches of 2 do not tile (hybrid models usually cut patches of 1 from the feature map)'],
  ])('vitc check %s: one line at the call or key, exit 1', async (file, line) => {
    const r = await vitc('check', fx(file));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(line);
  });
});
