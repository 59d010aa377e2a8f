// The model language on hostile input: unbounded unrolling, non-finite numbers, dead code, sizes
// that cannot be allocated, deep recursion and long file chains. Each is one positioned error, exit 1.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vitc, tempDir } from './helpers.js';
import { MAX_CHAIN } from '../src/limits.js';

const SIGNATURE = 'block b(x: tensor, num_heads: int, mlp_hidden: int, qkv_bias: bool, scale: float, eps: float, act: str, init_values: float?) -> tensor {';

/** A spec whose encoder block is `body` (plus extra top-level text), checked with `vitc check`; returns stderr lines. */
async function checkBlock(body: string, extra = ''): Promise<string[]> {
  const dir = tempDir();
  writeFileSync(join(dir, 's.yaml'), 'img_size: 32\npatch_size: 8\nnum_classes: 10\nembed_dim: 48\ndepth: 2\nnum_heads: 4\nblock: b.vit#b\n');
  writeFileSync(join(dir, 'b.vit'), `import "nn.vit"\n${SIGNATURE}\n${body}\n}\n${extra}`);
  const r = await vitc('check', join(dir, 's.yaml'));
  expect(r.code).toBe(1);
  return r.stderr.split('\n').map((l) => l.replaceAll(`${dir}/`, ''));
}

describe('unrolling is bounded', () => {
  it('refuses repeat 1000000000 at its count', async () => {
    expect(await checkBlock('  repeat 1000000000 { x = x }\n  return x')).toEqual(['b.vit:3:10: error: repeat 1,000,000,000 times is more than the 1,000,000 iterations a model may unroll']);
  });
  it('refuses repeat 2 ** 1024, which is no number at all', async () => {
    expect(await checkBlock('  repeat 2 ** 1024 { x = x }\n  return x')).toEqual(['b.vit:3:10: error: 2 ** 1024 overflows the exact int range (±9007199254740991)']);
  });
  it('stops recursion through repeats (2^40 runs) after a million steps', async () => {
    const lines = await checkBlock('  return r(x, 40)', 'block r(x: tensor, n: int) -> tensor {\n  repeat 2 {\n    if n > 0 {\n      x = r(x, n - 1)\n    }\n  }\n  return x\n}\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^b\.vit:\d+:\d+: error: elaborating the model runs more than 1,000,000 statements and repeat iterations \(is a repeat count far too large, or do repeats recurse\?\)$/);
  });
  it('stops deep recursion whose every level is a deep expression before the stack overflows', async () => {
    const terms = Array(120).fill('x').join(' + ');
    const lines = await checkBlock('  return r(x, 60)', `block r(x: tensor, n: int) -> tensor {\n  if n > 0 {\n    return r(x, n - 1) + ${terms}\n  }\n  return x\n}\n`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^b\.vit:\d+:\d+: error: blocks and expressions nest more than 300 deep while elaborating the model \(is a block recursive\?\)$/);
  });
});

describe('numbers are finite and ints exact', () => {
  it.each([
    ['sqrt(-1)', '  y = sqrt(-1)\n  return x', 'b.vit:3:7: error: sqrt(-1) is NaN, not a finite number'],
    ['log(0)', '  y = log(0)\n  return x', 'b.vit:3:7: error: log(0) is -Infinity, not a finite number'],
    ['int(1e400)', '  y = int(1e400)\n  return x', 'b.vit:3:11: error: the number "1e400" is too large (numbers are at most 1.7976931348623157e+308)'],
    ['int(1e300)', '  y = int(1e300)\n  return x', 'b.vit:3:7: error: int(1e+300) is 1e+300, beyond the exact int range (±9007199254740991)'],
    ['a [2 ** 100000] dimension', '  param w: [2 ** 100000] = zeros\n  return x * w', 'b.vit:3:13: error: 2 ** 100000 overflows the exact int range (±9007199254740991)'],
    ['an attention scale of 1e99999', '  return x * 1e99999', 'b.vit:3:14: error: the number "1e99999" is too large (numbers are at most 1.7976931348623157e+308)'],
    ['an int literal past 2^53', '  return x * 99999999999999999999', 'b.vit:3:14: error: the int "99999999999999999999" is too large (ints are exact up to 9007199254740991)'],
    ['an int product past 2^53', '  return x * (2 ** 60)', 'b.vit:3:14: error: 2 ** 60 is 1152921504606847000, beyond the exact int range (±9007199254740991)'],
  ])('%s', async (_, body, line) => {
    expect(await checkBlock(body)).toEqual([line]);
  });
});

describe('slices', () => {
  it('says a slice that selects nothing is empty, in the bounds as written', async () => {
    const hint = '(a slice keeps the indices from its start up to, not including, its end)';
    expect(await checkBlock('  return x[:, 5:2]')).toEqual([`b.vit:3:10: error: slice 5:2 selects nothing from a dim of size 17 ${hint}`]);
    expect(await checkBlock('  return x[:, 20:30]')).toEqual([`b.vit:3:10: error: slice 20:30 selects nothing from a dim of size 17 (as Python reads it: 17:17) ${hint}`]);
    expect(await checkBlock('  return x[:, -1:-3]')).toEqual([`b.vit:3:10: error: slice -1:-3 selects nothing from a dim of size 17 (as Python reads it: 16:14) ${hint}`]);
  });
  it('reads bounds past the ends as Python does', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 's.yaml'), 'img_size: 32\npatch_size: 8\nnum_classes: 10\nembed_dim: 48\ndepth: 2\nnum_heads: 4\nblock: b.vit#b\n');
    writeFileSync(join(dir, 'b.vit'), `import "nn.vit"\n${SIGNATURE}\n  return x[:, -30:40]\n}\n`);
    expect((await vitc('check', join(dir, 's.yaml'))).code).toBe(0);
  });
});

describe('dead code and duplicate names', () => {
  it('refuses a statement after return', async () => {
    expect(await checkBlock('  return x\n  y = 1')).toEqual(['b.vit:4:3: error: this statement can never run: the statement before it always returns (remove it, or move the return)']);
  });
  it('refuses a statement after an if whose every branch returns', async () => {
    expect(await checkBlock('  if qkv_bias {\n    return x\n  } else {\n    return x\n  }\n  return x')).toEqual(['b.vit:8:3: error: this statement can never run: the statement before it always returns (remove it, or move the return)']);
  });
  it('refuses a block with no return at vitc check FILE.vit, at its name, not only when a spec builds it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'b.vit'), `import "nn.vit"\n${SIGNATURE}\n  y = x\n}\nblock c(x: tensor) -> tensor {\n  repeat 2 {\n    if true {\n      return x\n    }\n  }\n}\n`);
    const r = await vitc('check', join(dir, 'b.vit'));
    expect([r.code, r.stderr.replaceAll(`${dir}/`, '')]).toEqual([1, 'b.vit:2:7: error: block b never returns a value: its body has no return statement (end it with `return` and the value it computes)']);
  });
  it('says a .vit file with no blocks has none, not "ok: " with nothing after it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'e.vit'), '# nothing yet\nimport "nn.vit"\n');
    expect(await vitc('check', join(dir, 'e.vit'))).toEqual({ code: 0, stdout: `${join(dir, 'e.vit')}: ok: no blocks or models`, stderr: '' });
  });
  it('reports a scope used twice at the user\'s second "as", not inside the stdlib', async () => {
    expect(await checkBlock('  y = Linear(x, 48) as fc\n  return Linear(y, 48) as fc')).toEqual([
      'b.vit:4:27: error: the scope name "fc" is used a second time here, so parameter "blocks.0.fc.weight" is declared twice (the first is at b.vit:3:24; give each its own name)',
    ]);
  });
  it('refuses one scope name on two modules whose parameters happen not to collide', async () => {
    expect(await checkBlock('  h = LayerNorm(x, 1e-6) as norm1\n  return Attention(h, num_heads, qkv_bias, scale) as norm1')).toEqual([
      'b.vit:4:54: error: the scope name "norm1" is used a second time here, for another module (the first is at b.vit:3:29; give each its own name)',
    ]);
  });
  it('works with a 10k-part dotted scope name, on a layer and on a composite op that lowering rebuilds', async () => {
    const dir = tempDir();
    const long = Array(10000).fill('a').join('.');
    writeFileSync(join(dir, 's.yaml'), 'img_size: 32\npatch_size: 8\nnum_classes: 10\nembed_dim: 48\ndepth: 1\nnum_heads: 4\nblock: b.vit#b\n');
    writeFileSync(join(dir, 'b.vit'), `import "nn.vit"\n${SIGNATURE}\n  y = Attention(x, num_heads, qkv_bias, scale) as ${long}.attn\n  return Linear(y, 48) as ${long}\n}\n`);
    const r = await vitc('check', join(dir, 's.yaml'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('sizes are checked before anything is allocated', () => {
  it('refuses Linear(x, 1000000000) at the user\'s call, naming the parameter and how far over the limit it is', async () => {
    expect(await checkBlock('  return Linear(x, 1000000000)')).toEqual([
      'b.vit:3:10: error: parameter "blocks.0.weight" [1000000000,48] has 48,000,000,000 elements (179 GiB in fp32), 22 times the limit of 2,147,483,648 (raised in vitc\'s stdlib/nn.vit:6:9)',
    ]);
  });
  it('validates the arguments of sincos_2d', async () => {
    expect(await checkBlock('  return x + sincos_2d(-4, 1, 1)')).toEqual(['b.vit:3:14: error: sincos_2d needs a positive dim divisible by 4; got -4']);
    expect(await checkBlock('  return x + sincos_2d(48, 0, 1)')).toEqual(['b.vit:3:14: error: sincos_2d needs grid_h and grid_w >= 1 and prefix >= 0; got 0, 1 and 0']);
  });
  it('refuses embed_dim 2^20 at the spec, with the parameter count and bytes', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 's.yaml'), 'img_size: 32\npatch_size: 8\nnum_classes: 10\nembed_dim: 1048576\ndepth: 2\nnum_heads: 16\n');
    const r = await vitc('build', join(dir, 's.yaml'), '--target', 'onnx', '-o', join(dir, 'out'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${join(dir, 's.yaml')}: error: parameter "blocks.0.attn.qkv.weight" [3145728,1048576] has 3,298,534,883,328 elements (12 TiB in fp32), 1,536 times the limit of 2,147,483,648 (raised in vitc's stdlib/nn.vit:6:9)`);
  });
  it('refuses img_size 1e6 at the spec', async () => {
    // The line of the model's `input` statement, wherever stdlib edits move it.
    const inputLine = readFileSync('stdlib/vit.vit', 'utf8').split('\n').findIndex((l) => l.trim().startsWith('input x:')) + 1;
    const dir = tempDir();
    writeFileSync(join(dir, 's.yaml'), 'img_size: 1000000\npatch_size: 16\nnum_classes: 10\nembed_dim: 48\ndepth: 2\nnum_heads: 4\npos_embed: sincos\n');
    const r = await vitc('check', join(dir, 's.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${join(dir, 's.yaml')}: error: the input [B,3,1000000,1000000] has 3,000,000,000,000 elements per image (11 TiB in fp32), 1,397 times the limit of 2,147,483,648 (raised in vitc's stdlib/vit.vit:${inputLine}:3)`);
  });
});

describe('file chains are bounded', () => {
  it(`refuses a 5000-deep extends chain after ${MAX_CHAIN} files`, async () => {
    const dir = tempDir();
    for (let i = 0; i < 5000; i++) writeFileSync(join(dir, `e${i}.yaml`), i < 4999 ? `extends: e${i + 1}.yaml\n` : 'img_size: 32\n');
    const r = await vitc('check', join(dir, 'e0.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`${join(dir, `e${MAX_CHAIN - 1}.yaml`)}:1:10: error: the extends chain is more than ${MAX_CHAIN} files long (merge some of the files; extended from ${join(dir, `e${MAX_CHAIN - 2}.yaml`)}:1:10)`);
  });
  it(`refuses a 5000-deep import chain after ${MAX_CHAIN} files`, async () => {
    const dir = tempDir();
    for (let i = 0; i < 5000; i++) writeFileSync(join(dir, `i${i}.vit`), i < 4999 ? `import "i${i + 1}.vit"\n` : 'block z(x: tensor) -> tensor {\n  return x\n}\n');
    const r = await vitc('check', join(dir, 'i0.vit'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${join(dir, `i${MAX_CHAIN - 1}.vit`)}:1:1: error: imports nest more than ${MAX_CHAIN} files deep (import the files you need from one place)`);
  });
});
