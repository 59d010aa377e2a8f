import { describe, expect, it } from 'vitest';
import { detectScheme, toTimm } from './names.js';
import { fromFloat32, toFloat32, type RawTensor } from './tensor.js';

const t = (shape: number[], start = 0): RawTensor => fromFloat32(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => start + i));

describe('naming schemes', () => {
  it('detects each scheme by its telltale names', () => {
    expect(detectScheme(['vit.embeddings.patch_embeddings.projection.weight'])).toBe('huggingface');
    expect(detectScheme(['encoder.layer.0.attention.attention.query.weight'])).toBe('huggingface');
    expect(detectScheme(['Transformer/encoder_norm/scale'])).toBe('jax');
    expect(detectScheme(['conv_proj.weight'])).toBe('torchvision');
    expect(detectScheme(['blocks.0.attn.qkv.weight', 'head.weight'])).toBe('timm');
  });
  it('merges Hugging Face q, k, v into qkv in that order, for weights and biases', () => {
    const out = toTimm('huggingface', new Map([
      ['vit.encoder.layer.3.attention.attention.value.bias', t([2], 20)],
      ['vit.encoder.layer.3.attention.attention.query.bias', t([2], 0)],
      ['vit.encoder.layer.3.attention.attention.key.bias', t([2], 10)],
      ['classifier.weight', t([5, 2])],
      ['vit.pooler.dense.bias', t([2])],
    ]));
    expect([...out.keys()].sort()).toEqual(['blocks.3.attn.qkv.bias', 'head.weight', 'pre_logits.fc.bias']);
    expect([...toFloat32(out.get('blocks.3.attn.qkv.bias')!)]).toEqual([0, 1, 10, 11, 20, 21]);
  });
  it('names the missing part of a merged tensor', () => {
    expect(() => toTimm('huggingface', new Map([['vit.encoder.layer.0.attention.attention.query.weight', t([2, 2])]])))
      .toThrow('"blocks.0.attn.qkv.weight" is stored in 3 parts and part 2 is missing (found only vit.encoder.layer.0.attention.attention.query.weight)');
  });
  it('reshapes JAX kernels: Dense [in, out] -> [out, in], heads [D, H, hd] -> [H*hd, D], out [H, hd, D] -> [D, H*hd], conv HWIO -> OIHW', () => {
    const out = toTimm('jax', new Map([
      ['Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel', t([2, 3])],
      ['Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/kernel', t([2, 1, 2], 0)],
      ['Transformer/encoderblock_0/MultiHeadDotProductAttention_1/key/kernel', t([2, 1, 2], 4)],
      ['Transformer/encoderblock_0/MultiHeadDotProductAttention_1/value/kernel', t([2, 1, 2], 8)],
      ['Transformer/encoderblock_0/MultiHeadDotProductAttention_1/out/kernel', t([1, 2, 2])],
      ['embedding/kernel', t([1, 1, 2, 3])],
    ]));
    expect(out.get('blocks.0.mlp.fc1.weight')!.shape).toEqual([3, 2]);
    expect([...toFloat32(out.get('blocks.0.mlp.fc1.weight')!)]).toEqual([0, 3, 1, 4, 2, 5]);
    // q kernel [[0,1],[2,3]] as [D=2, H*hd=2] transposed is [[0,2],[1,3]]; k and v follow.
    expect([...toFloat32(out.get('blocks.0.attn.qkv.weight')!)]).toEqual([0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11]);
    expect([...toFloat32(out.get('blocks.0.attn.proj.weight')!)]).toEqual([0, 2, 1, 3]);
    expect(out.get('patch_embed.proj.weight')!.shape).toEqual([3, 2, 1, 1]);
    expect([...toFloat32(out.get('patch_embed.proj.weight')!)]).toEqual([0, 3, 1, 4, 2, 5]);
  });
  it('keeps names no rule knows, so they are reported as unused', () => {
    const out = toTimm('torchvision', new Map([['conv_proj.weight', t([1])], ['something.else', t([1])]]));
    expect([...out.keys()]).toEqual(['patch_embed.proj.weight', 'something.else']);
  });
});
