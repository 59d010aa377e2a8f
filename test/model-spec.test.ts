// Specs that reach beyond the stdlib model: `model:` (a whole model in the model language), a block's
// own parameters under its name, register tokens and pooling blocks, and files that are not specs.
// Every mistake is one line at the user's text, exit 1.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, vitc } from './helpers.js';

const fx = (f: string) => `test/fixtures/model/${f}`;

async function expectOneError(argv: string[], line: string) {
  const r = await vitc(...argv);
  expect(r.stderr).toBe(line);
  expect(r.code).toBe(1);
}

async function inspectJson(spec: string): Promise<{ parameters: number; tokens: number; prefix_tokens?: unknown; layers: { layer: string; params: number }[] }> {
  const r = await vitc('inspect', spec, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe('model: a whole model in the model language', () => {
  it('binds the keys it declares, its block, and the parameters under its name and its block\'s', async () => {
    const j = await inspectJson(fx('own.yaml'));
    // width_mult 2 under small_vit doubles the width; gate_dim 8 under scaled_block widens each MLP by 8.
    const patch = j.layers.find((l) => l.layer === 'patch_embed')!;
    expect(patch.params).toBe(96 * 3 * 8 * 8 + 96);
    const block = j.layers.find((l) => l.layer === 'blocks.0')!;
    const mlp = 2 * (96 * (96 + 8)) + (96 + 8) + 96;
    expect(block.params).toBe(4 * 96 + (96 * 288 + 288) + (96 * 96 + 96) + mlp);
    expect(j.tokens).toBe(16);
    expect(j.prefix_tokens).toBeUndefined();
  });
  it('works through extends', async () => {
    expect((await inspectJson(fx('own-extends.yaml'))).parameters).toBe((await inspectJson(fx('own.yaml'))).parameters);
  });
  it('refuses a key the model does not declare, listing what it does', () => expectOneError(['check', fx('own-unused.yaml')],
    'test/fixtures/model/own-unused.yaml:3:1: error: "qk_scale" is not a parameter of model small_vit (model small_vit declares: img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads, norm_eps, width_mult, encoder; set its own parameters under "small_vit:")'));
  it('says which key a model needs that nothing sets', () => expectOneError(['check', fx('own-missing.yaml')],
    'test/fixtures/model/own-missing.yaml:1:8: error: missing key "embed_dim": model small_vit declares it without a default'));
  it('block: naming a model says to use model:', () => expectOneError(['check', fx('block-is-model.yaml')],
    'test/fixtures/model/block-is-model.yaml:2:8: error: small_vit in test/fixtures/model/blocks.vit is a model, not a block (a model, which has an input statement, is named by "model: blocks.vit#small_vit")'));
  it('model: naming a block says to use block: or global_pool:', () => expectOneError(['check', fx('model-is-block.yaml')],
    'test/fixtures/model/model-is-block.yaml:2:8: error: scaled_block in test/fixtures/model/blocks.vit is a block, not a model (name it with "block: blocks.vit#scaled_block" to make it the encoder block, or "global_pool: blocks.vit#scaled_block" to pool with it; a model is what has an input statement)'));
});

describe('a block\'s own parameters, under its name', () => {
  it('are bound: gate_dim widens every MLP, decay scales by the layer index', async () => {
    const base = await inspectJson('spec/tiny/tiny-base.yaml');
    const j = await inspectJson(fx('hyper.yaml'));
    // mlp_hidden + gate_dim: 8 more hidden units per block (fc1 rows, fc1 bias, fc2 columns)
    expect(j.parameters - base.parameters).toBe(2 * 8 * (48 + 1 + 48));
  });
  it('a misspelled parameter gets a did-you-mean at its key', () => expectOneError(['check', fx('hyper-typo.yaml')],
    'test/fixtures/model/hyper-typo.yaml:4:3: error: block scaled_block has no parameter "gate_dm" (did you mean "gate_dim"?)'));
  it('a misspelled section is an unknown key with a did-you-mean', () => expectOneError(['check', fx('hyper-section-typo.yaml')],
    'test/fixtures/model/hyper-section-typo.yaml:3:1: error: unknown key "scaled_blok" (did you mean "scaled_block"?)'));
  it('a value of the wrong type names the declared type', () => expectOneError(['check', fx('hyper-type.yaml')],
    'test/fixtures/model/hyper-type.yaml:4:13: error: "gate_dim" of scaled_block must be int; got float 2.5 (declared at test/fixtures/model/blocks.vit:14:5)'));
  it('a tensor parameter cannot be set from a spec', () => expectOneError(['check', fx('hyper-tensor.yaml')],
    'test/fixtures/model/hyper-tensor.yaml:4:3: error: "x" of scaled_block is a tensor; a spec sets only numbers, bools, strings and lists'));
  it('nor one its caller passes (here the layer index vit offers)', async () => {
    const r = await vitc('check', fx('hyper-caller.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^test\/fixtures\/model\/hyper-caller\.yaml:4:10: error: "layer" of scaled_block is set in the spec, but its caller passes it too \(at stdlib\/vit\.vit:\d+:\d+\) \(remove it from the spec\)$/);
  });
  it('the section must be a mapping', () => expectOneError(['check', fx('hyper-mapping.yaml')],
    'test/fixtures/model/hyper-mapping.yaml:3:15: error: "scaled_block" must be a mapping of scaled_block\'s parameters to values, e.g. scaled_block: { name: value }'));
});

describe('tokens and pooling', () => {
  it('global_pool is token, avg or FILE#BLOCK, with a did-you-mean', () => expectOneError(['check', fx('no-pool.yaml')],
    'test/fixtures/model/no-pool.yaml:2:14: error: "global_pool" must be "token", "avg" or FILE#BLOCK (a pooling block in the model language); got "tokn" (did you mean "token"?)'));
  it('vitc inspect counts the tokens the blocks see, registers included', async () => {
    const r = await vitc('inspect', 'spec/variants/registers.yaml');
    expect(r.stdout.split('\n')[1]).toBe('input [B,3,224,224] -> logits [B,1000]; 201 tokens (1 class, 4 registers, 196 patches) of 768, 12 heads of 64, MLP 3072');
    const gap = await inspectJson('spec/tiny/tiny-registers-gap.yaml');
    expect(gap.tokens).toBe(19);
    expect(gap.prefix_tokens).toEqual({ class: 0, distillation: 0, registers: 3 });
    expect((await inspectJson('spec/deit-b16-distilled.yaml')).tokens).toBe(198);
    // A model of its own: counted from the graph, whatever it adds (rope_vit: a class token and 24 patches).
    expect((await inspectJson('spec/variants/tiny-rope.yaml')).tokens).toBe(25);
  });
});

describe('a block that does not fit the role the spec gives it: one line at the spec\'s value', () => {
  it('a pooling block that does not reduce the tokens (the head would see [B, T, D])', async () => {
    for (const cmd of ['check', 'run']) {
      await expectOneError([cmd, fx('misfit-pool-rank.yaml')],
        'test/fixtures/model/misfit-pool-rank.yaml:2:14: error: pooling block keeps_tokens returned tensor f32[B,17,48]; a pooling block must return [B, F], one feature vector per image (it is given the tokens [B,17,48]: select a token (x[:, 0]) or reduce over them (mean(x, axis = 1)); the head reads F features)');
    }
  });
  it('an encoder block that changes its input\'s shape', () => expectOneError(['check', fx('misfit-encoder-rank.yaml')],
    'test/fixtures/model/misfit-encoder-rank.yaml:2:8: error: encoder block drops_tokens returned tensor f32[B,48]; an encoder block must return the shape of its input x, [B,17,48] (model vit calls it once per layer on the tokens [B, T, D] and gives its result to the next layer)'));
  it('an encoder block that lacks a parameter the model passes', () => expectOneError(['check', fx('misfit-encoder-param.yaml')],
    'test/fixtures/model/misfit-encoder-param.yaml:2:8: error: encoder block no_init has no parameter "init_values", which model vit passes to its encoder block (model vit calls it as encoder(x, num_heads, mlp_hidden, qkv_bias, scale, eps, act, init_values, layer?, depth?, num_prefix?, grid?); declare it in no_init)'));
  it('set in a base spec, it also says which file extended it', () => expectOneError(['check', fx('misfit-extends.yaml')],
    'test/fixtures/model/misfit-encoder-param.yaml:2:8: error: encoder block no_init has no parameter "init_values", which model vit passes to its encoder block (model vit calls it as encoder(x, num_heads, mlp_hidden, qkv_bias, scale, eps, act, init_values, layer?, depth?, num_prefix?, grid?); declare it in no_init; extended from test/fixtures/model/misfit-extends.yaml:1:10)'));
  it('a pooling block that needs a parameter the model does not pass', () => expectOneError(['check', fx('misfit-pool-missing.yaml')],
    'test/fixtures/model/misfit-pool-missing.yaml:2:14: error: pooling block pick needs "k" (int), which model vit does not pass to its pooling block (model vit calls it as pool(x, num_prefix?, num_heads?, mlp_hidden?, eps?); set it in the spec under "pick:", or give it a default (declared at test/fixtures/model/misfit.vit:21:23))'));
  it('a pooling block that declares an offered parameter with another type', () => expectOneError(['check', fx('misfit-pool-type.yaml')],
    'test/fixtures/model/misfit-pool-type.yaml:2:14: error: pooling block str_prefix declares "num_prefix: str", but model vit passes it int 1 (declared at test/fixtures/model/misfit.vit:26:29)'));
  it('a pooling block that names a layer as the model names its own: at the user\'s name, the one to change', async () => {
    const r = await vitc('check', fx('misfit-pool-head.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^test\/fixtures\/model\/misfit\.vit:32:33: error: the scope name "head" is also used by vitc's stdlib\/vit\.vit:\d+:\d+, so parameter "head\.weight" is declared twice \(give yours another name\)$/);
  });
});

describe('a file that is not a spec', () => {
  it('vitc build m.vit: one line with the spec line that would compile its model', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.vit'), 'import "vit.vit"\n\nmodel my_vit(num_classes: int) -> tensor {\n  input x: [B, 3, 8, 8]\n  return x\n}\n');
    const r = await vitc('build', join(dir, 'm.vit'));
    expect(r.code).toBe(1);
    expect(r.stderr.replaceAll(`${dir}/`, '')).toBe('m.vit: error: expected a spec: this is a model-language file, not YAML (write a spec that names the model, e.g. m.yaml next to it with "model: m.vit#my_vit" and the model\'s hyperparameters; see docs/spec-format.md)');
  });
  it('a file of blocks is offered as the encoder block', () => expectOneError(['inspect', 'stdlib/blocks/parallel.vit'],
    'stdlib/blocks/parallel.vit: error: expected a spec: this is a model-language file, not YAML (it defines blocks, not a model: make one the encoder block of a spec with "block: parallel.vit#parallel_block"; see docs/spec-format.md)'));
  it('extends naming a model-language file is an error at the extends', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 's.yaml'), `extends: ${join(process.cwd(), 'stdlib/vit.vit')}\n`);
    const r = await vitc('check', join(dir, 's.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/s\.yaml:1:10: error: "stdlib\/vit\.vit" is not a spec: this is a model-language file, not YAML \(write a spec that names the model, e\.g\. vit\.yaml next to it with "model: vit\.vit#vit"/);
  });
  it('a binary file, and text that is not YAML, are one line each', async () => {
    await expectOneError(['run', 'test/golden/tiny-base/weights.safetensors'],
      'test/golden/tiny-base/weights.safetensors: error: expected a spec: this is a binary file, not YAML (a spec is a YAML file of hyperparameters such as spec/vit-b16.yaml; see docs/spec-format.md)');
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'key: [unclosed\n  more: text\n');
    const r = await vitc('check', join(dir, 'notes.txt'));
    expect(r.code).toBe(1);
    expect(r.stderr.replaceAll(`${dir}/`, '')).toMatch(/^notes\.txt: error: expected a spec: this \.txt file is not YAML: \d+ YAML errors?, the first at line \d+ \(a spec is a YAML file of hyperparameters such as spec\/vit-b16\.yaml; see docs\/spec-format\.md\)$/);
  });
});
