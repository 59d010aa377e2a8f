import { describe, expect, it } from 'vitest';
import { DiagnosticError, formatDiagnostic } from '../diag/diagnostic.js';
import { loadSpec } from '../spec/load.js';
import { explainMismatch } from './explain.js';
import { expectedFromSpec, type ExpectedModel } from './model.js';

const vitB16 = expectedFromSpec(loadSpec('spec/vit-b16.yaml'));

function message(model: ExpectedModel, edit: (s: Map<string, readonly number[]>) => void): string | undefined {
  const have = new Map(model.weights.map((w) => [w.name, w.shape]));
  edit(have);
  try {
    explainMismatch('model-9.pth', have, model);
    return undefined;
  } catch (e) {
    return formatDiagnostic((e as DiagnosticError).diagnostics[0]!);
  }
}

describe('explainMismatch', () => {
  it('names num_classes for a fine-tuned head, at the spec line that sets it', () => {
    expect(message(vitB16, (s) => { s.set('head.weight', [5, 768]); s.set('head.bias', [5]); }))
      .toBe('spec/vit-b16.yaml:9:14: error: weights have head.weight [5, 768]; the spec says num_classes: 1000 — set num_classes: 5 (the weights are model-9.pth)');
  });
  it('names depth and the pre-logits layer, several keys in one line', () => {
    expect(message(vitB16, (s) => {
      for (const k of [...s.keys()]) if (/^blocks\.(6|7|8|9|10|11)\./.test(k)) s.delete(k);
      s.set('pre_logits.fc.weight', [768, 768]);
    })).toBe('spec/vit-b16.yaml:7:8: error: weights have 6 blocks (blocks.0 to blocks.5), pre_logits.fc.weight [768, 768]; the spec says depth: 12, representation_size: null — set depth: 6, representation_size: 768 (the weights are model-9.pth)');
  });
  it('cites a tensor two keys are read off once (embed_dim and patch_size off the patch embedding)', () => {
    expect(message(vitB16, (s) => s.set('patch_embed.proj.weight', [768, 3, 32, 32])))
      .toBe('spec/vit-b16.yaml:5:13: error: weights have patch_embed.proj.weight [768, 3, 32, 32]; the spec says patch_size: 16 — set patch_size: 32 (the weights are model-9.pth)');
    expect(message(vitB16, (s) => s.set('patch_embed.proj.weight', [384, 3, 32, 32]))).toMatch(/weights have patch_embed\.proj\.weight \[384, 3, 32, 32\]; the spec says embed_dim: 768, patch_size: 16 /);
  });
  it('says nothing when no key explains the difference (a transposed head is not a class count)', () => {
    expect(message(vitB16, (s) => s.set('head.weight', [768, 1000]))).toBeUndefined();
    expect(message(vitB16, (s) => s.delete('blocks.3.norm1.bias'))).toBeUndefined();
  });
  it('with a block of the spec\'s own, reads no hyperparameter off its tensors: names the tensor that differs instead', () => {
    // parallel_block's MLP at 192 hidden units where the weights have 256: a GLU's packed fc1 looks
    // like this too, and mlp_ratio: 5.333333 would be a wrong guess.
    const parallel = expectedFromSpec(loadSpec('spec/tiny/tiny-parallel.yaml'));
    expect(message(parallel, (s) => { for (let i = 0; i < 2; i++) { s.set(`blocks.${i}.mlp.fc1.weight`, [256, 48]); s.set(`blocks.${i}.mlp.fc1.bias`, [256]); s.set(`blocks.${i}.mlp.fc2.weight`, [48, 256]); } }))
      .toBe('spec/tiny/tiny-parallel.yaml:5:8: error: weights have blocks.0.mlp.fc1.weight [256, 48]; the spec\'s encoder block makes it [192, 48], and 5 more tensors differ (the weights are model-9.pth; were they saved from another block or other hyperparameters?)');
    // A rule about what the block does not build (the model's head) still names its key.
    expect(message(parallel, (s) => { s.set('head.weight', [5, 48]); s.set('head.bias', [5]); }))
      .toBe('spec/tiny/_tiny.yaml:6:14: error: weights have head.weight [5, 48]; the spec says num_classes: 10 — set num_classes: 5 (the weights are model-9.pth; extended from spec/tiny/tiny-parallel.yaml:4:10)');
  });
  it('asks for a rebuild when only a build directory is at hand', () => {
    const dir: ExpectedModel = { ...vitB16, spanOf: undefined };
    expect(message(dir, (s) => s.set('patch_embed.proj.weight', [768, 3, 32, 32])))
      .toBe('model-9.pth: error: weights have patch_embed.proj.weight [768, 3, 32, 32]; the build of vit-b16 says patch_size: 16 — set patch_size: 32 (in the spec, then rebuild)');
  });
});
