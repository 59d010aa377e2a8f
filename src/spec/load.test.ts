import { describe, expect, it } from 'vitest';
import { loadSpec } from './load.js';

describe('loadSpec', () => {
  it('merges extends deeply; name and description are not inherited', () => {
    const s = loadSpec('spec/deit-b16-distilled.yaml');
    expect(s.config.name).toBe('deit-b16-distilled');
    expect(s.config.embed_dim).toBe(768);
    expect(s.config.distilled).toBe(true);
    expect(s.config.preprocess).toEqual({ resize: 256, crop: 224, interpolation: 'bicubic', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(loadSpec('spec/vit-b16-in21k.yaml').config.description).toMatch(/ImageNet-21k/);
  });
  it('applies defaults and timm semantics (fc_norm follows global_pool)', () => {
    const c = loadSpec('spec/tiny/tiny-gap.yaml').config;
    expect(c.fc_norm).toBe(true);
    expect(c.norm_eps).toBe(1e-6);
    expect(c.img_size).toEqual([32, 32]);
  });
  it('points spans of merged keys at the file that wrote them', () => {
    const s = loadSpec('spec/vit-b16-in21k.yaml');
    expect(s.spans.key('/num_classes')).toMatchObject({ file: 'spec/vit-b16-in21k.yaml', line: 5 });
    expect(s.spans.key('/embed_dim')).toMatchObject({ file: 'spec/vit-b16.yaml', line: 6 });
    expect(s.spans.key('/mlp_ratio')).toMatchObject({ file: 'spec/_base.yaml', line: 6 });
  });
  it('hashes the merged content: equal specs hash equal, different specs differ', () => {
    expect(loadSpec('spec/vit-b16.yaml').hash).toBe(loadSpec('spec/vit-b16.yaml').hash);
    expect(loadSpec('spec/vit-b16.yaml').hash).not.toBe(loadSpec('spec/vit-b32.yaml').hash);
  });
});
