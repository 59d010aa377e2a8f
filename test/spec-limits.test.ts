// Specs and command lines on hostile input: Object.prototype names, huge and duplicate keys, absurd
// sizes, long or unprintable user text, errors deep in an extends chain, and CLI numbers out of range.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vitc, tempDir } from './helpers.js';
import { closest, divisorsNear } from '../src/util/suggest.js';
import { MAX_DIAGNOSTICS_PER_FILE } from '../src/cli/main.js';
import { parseSafetensors, writeSafetensorsRaw } from '../src/weights/safetensors.js';

const BASE = 'img_size: 32\npatch_size: 8\nnum_classes: 10\nembed_dim: 48\ndepth: 2\nnum_heads: 4\n';

/** `vitc check` on a spec with this text; stderr lines with the temp dir written as "D". */
async function check(text: string | Buffer, files: Record<string, string> = {}): Promise<{ code: number; lines: string[] }> {
  const dir = tempDir();
  writeFileSync(join(dir, 's.yaml'), text);
  for (const [f, t] of Object.entries(files)) writeFileSync(join(dir, f), t);
  const r = await vitc('check', join(dir, 's.yaml'));
  return { code: r.code, lines: r.stderr.split('\n').map((l) => l.replaceAll(dir, 'D')) };
}

describe('names from user input are names, not Object.prototype members', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('--target %s is an unknown target', async (t) => {
    const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', t);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: unknown target "${t}" \\(targets: js, onnx`));
  });
  it('reports a spec key __proto__ instead of dropping it (or letting it set defaults)', async () => {
    expect(await check(`${BASE}__proto__: {mlp_ratio: 8}\n`)).toEqual({ code: 1, lines: ['D/s.yaml:7:1: error: unknown key "__proto__" (see docs/spec-format.md, or schema/vitc-spec.schema.json, for the keys)'] });
    expect(await check(`${BASE}preprocess:\n  __proto__: 1\n  constructor: 2\n`)).toEqual({ code: 1, lines: [
      'D/s.yaml:8:3: error: unknown key "preprocess.__proto__" (known keys: resize, crop, interpolation, mean, std)',
      'D/s.yaml:9:3: error: unknown key "preprocess.constructor" (known keys: resize, crop, interpolation, mean, std)',
    ] });
  });
});

describe('a weights tensor named __proto__ is a tensor', () => {
  const SPEC = 'spec/tiny/tiny-base.yaml';
  it('is reported unused by run, convert and an onnx build, not dropped', async () => {
    const dir = tempDir();
    const w = join(dir, 'w.safetensors');
    expect((await vitc('weights', SPEC, '-o', w)).code).toBe(0);
    const tensors = Object.entries(parseSafetensors(readFileSync(w))).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, bytes: t.bytes }));
    writeFileSync(w, writeSafetensorsRaw([...tensors, { name: '__proto__', dtype: 'F32', shape: [1], bytes: new Uint8Array(4) }]));
    const note = (how: string) => `${w}: note: 1 tensor is not used by tiny-base${how}: "__proto__"`;
    const run = await vitc('run', SPEC, '--weights', w);
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n')).toContain(note(''));
    const convert = await vitc('convert', w, '--spec', SPEC, '-o', join(dir, 'c.safetensors'));
    expect(convert.code).toBe(0);
    expect(convert.stderr.split('\n')).toContain(note(' (kept in the output)'));
    const build = await vitc('build', SPEC, '--target', 'onnx', '--weights', w, '-o', join(dir, 'b'));
    expect(build.code).toBe(0);
    expect(build.stderr.split('\n')).toContain(note(' (left out of the build)'));
  });
});

describe('keys', () => {
  // The yaml package's unique-key check compares every pair (24 s for these 30k keys on the loaded
  // 2-core dev machine); vitc's is one pass (100k keys in about 4 s of CPU, parsing included).
  it('checks 30k keys in one pass and prints ten of the errors and a count', async () => {
    const { code, lines } = await check(Array.from({ length: 30_000 }, (_, i) => `k${i}: 1\n`).join(''));
    expect(code).toBe(1);
    expect(lines).toHaveLength(MAX_DIAGNOSTICS_PER_FILE + 1);
    expect(lines[0]).toBe('D/s.yaml:1:1: error: unknown key "k0" (see docs/spec-format.md, or schema/vitc-spec.schema.json, for the keys)');
    expect(lines[MAX_DIAGNOSTICS_PER_FILE]).toBe('D/s.yaml: note: 29,990 more problems not shown (fix these first)');
  });
  it('reports a duplicate key at its second place', async () => {
    expect(await check(`${BASE}${Array.from({ length: 1000 }, (_, i) => `k${i}: 1\n`).join('')}depth: 3\n`)).toEqual({ code: 1, lines: ['D/s.yaml:1007:1: error: the key "depth" appears twice in this mapping (the first is at line 5)'] });
  });
  it('suggests a near key, else points to the docs rather than listing thirty keys', async () => {
    expect((await check(`${BASE}dept: 2\n`)).lines).toEqual(['D/s.yaml:7:1: error: unknown key "dept" (did you mean "depth"?)']);
    expect((await check(`${BASE}colour: red\n`)).lines).toEqual(['D/s.yaml:7:1: error: unknown key "colour" (see docs/spec-format.md, or schema/vitc-spec.schema.json, for the keys)']);
  });  it('names a numeric key as written and a key with a slash at its place; a list index stays [i]', async () => {
    expect((await check(`${BASE}3: 4\n`)).lines).toEqual(['D/s.yaml:7:1: error: unknown key "3" (see docs/spec-format.md, or schema/vitc-spec.schema.json, for the keys)']);
    expect((await check(`${BASE}preprocess:\n  1/2: 4\n  mean: [0.5, x, 0.5]\n`)).lines).toEqual([
      'D/s.yaml:8:3: error: unknown key "preprocess.1/2" (known keys: resize, crop, interpolation, mean, std)',
      'D/s.yaml:9:15: error: "preprocess.mean[1]" must be a number; got a string ("x")',
    ]);
  });
});

describe('did-you-mean', () => {
  it('offers a near name (a swapped pair is one edit) but no guess for a short word two edits away', async () => {
    expect(closest('gleu', ['gelu', 'relu', 'silu'])).toBe('gelu');
    expect(closest('jss', ['js', 'onnx'])).toBe('js');
    expect(closest('biuld', ['build', 'check'])).toBe('build');
    expect(closest('foo', ['log', 'exp', 'sqrt'])).toBeUndefined();
    expect(await check(`${BASE}block: b.vit#b\n`, { 'b.vit': 'block b(x: tensor) -> tensor {\n  return foo(x)\n}\n' })).toEqual({ code: 1, lines: ['D/b.vit:2:10: error: unknown block or function "foo"'] });
  });
});

describe('YAML documents', () => {
  it('refuses a second document in one line that says how, not with the parser API it should have called', async () => {
    expect(await check(`${BASE}---\ndepth: 3\n`)).toEqual({ code: 1, lines: [
      'D/s.yaml:7:1: error: a spec is one YAML document, but another starts here (remove this "---" and what follows it, or put that in a file of its own)',
    ] });
  });
});

describe('YAML indentation', () => {
  it('reports a line indented under a key\'s value once, at that line, not twice at the value', async () => {
    const hint = '(keys of one mapping start in the same column; a nested mapping starts on the line after its key)';
    expect(await check(`name: x\n  ${BASE}`)).toEqual({ code: 1, lines: [
      `D/s.yaml:2:3: error: this line is indented more than the key above it, so YAML reads it as part of that key's value ${hint}`,
    ] });
    expect(await check(`${BASE}preprocess:\n  resize: 36\n   crop: 32\n`)).toEqual({ code: 1, lines: [
      `D/s.yaml:9:4: error: this line is indented more than the key above it, so YAML reads it as part of that key's value ${hint}`,
    ] });
  });
});

describe('YAML anchors and aliases', () => {
  it('an alias stands for the anchored value, and a problem with it is reported at the alias', async () => {
    expect((await check(`${BASE}preprocess:\n  mean: &half [0.5, 0.5, 0.5]\n  std: *half\n`)).code).toBe(0);
    expect((await check(`${BASE}in_chans: &one 1\npreprocess:\n  mean: [*one]\n  std: [*one, *one]\n`)).lines).toEqual([
      'D/s.yaml:10:8: error: preprocess.std has 2 values but in_chans is 1',
    ]);
    expect((await check(`img_size: 32\npatch_size: &p 8\nnum_classes: 10\nembed_dim: 48\ndepth: 2\nnum_heads: *p\nqkv_bias: *p\n`)).lines).toEqual([
      'D/s.yaml:7:11: error: "qkv_bias" must be true or false; got the integer 8',
    ]);
  });
  it('refuses an alias without an anchor, and aliases that multiply the file', async () => {
    expect((await check(`${BASE}norm_eps: *eps\n`)).lines).toEqual([
      'D/s.yaml:7:11: error: YAML alias "*eps" names no anchor (an alias repeats a value labelled earlier in the file with &eps)',
    ]);
    expect((await check(`${BASE}preprocess: &p\n  mean: [*p]\n`)).lines).toEqual([
      'D/s.yaml:8:10: error: YAML alias "*p" is inside the value it stands for (a value cannot contain itself)',
    ]);
    const laughs = ['a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
    expect((await check(`${laughs}\n`)).lines).toEqual(['D/s.yaml:1:1: error: YAML aliases expand too far: they repeat values more than 100 times']);
  });
});

describe('YAML tags', () => {
  it('refuses a tag YAML does not define at the tag, instead of reading its value as a string', async () => {
    expect(await check(`${BASE.replace('depth: 2', 'depth: !foo 2')}preprocess:\n  mean: !!floats [0.5, 0.5, 0.5]\n  std: !!int 0.5\n`)).toEqual({ code: 1, lines: [
      'D/s.yaml:5:8: error: unknown YAML tag "!foo" (a spec\'s values are plain YAML; remove the tag)',
      'D/s.yaml:8:9: error: unknown YAML tag "!!floats" (a spec\'s values are plain YAML; remove the tag)',
      'D/s.yaml:9:8: error: YAML tag "!!int" does not fit the value it tags (remove the tag, or write a value of that type)',
    ] });
    expect(await check(BASE.replace('depth: 2', 'depth: !!int "2"'))).toEqual({ code: 0, lines: [''] });
  });
});

describe('YAML merge keys', () => {
  it('are refused at the "<<" with a pointer to extends, not reported as an unknown key "<<"; a quoted "<<" is just a key', async () => {
    expect(await check(`${BASE}preprocess: &p {mean: [0.5, 0.5, 0.5]}\nbackbone:\n  <<: *p\n`)).toEqual({ code: 1, lines: [
      'D/s.yaml:9:3: error: YAML merge keys ("<<") are not supported (vitc shares keys with `extends:` instead, which merges deeply: put them in a spec of their own and extend it)',
    ] });
    expect(await check(`${BASE}preprocess:\n  "<<": 1\n`)).toEqual({ code: 1, lines: ['D/s.yaml:8:3: error: unknown key "preprocess.<<" (known keys: resize, crop, interpolation, mean, std)'] });
  });
});

describe('sizes', () => {
  it.each([
    ['depth 5000', BASE.replace('depth: 2', 'depth: 5000'), 'D/s.yaml:5:8: error: "depth" must be <= 1000; got 5000'],
    ['embed_dim 1e300', BASE.replace('embed_dim: 48', 'embed_dim: 1e300'), 'D/s.yaml:4:12: error: "embed_dim" must be <= 2147483647; got 1e+300'],
    ['embed_dim 2^40 with a bad num_heads', BASE.replace('embed_dim: 48', 'embed_dim: 1099511627776').replace('num_heads: 4', 'num_heads: 7'), 'D/s.yaml:4:12: error: "embed_dim" must be <= 2147483647; got 1099511627776'],
  ])('refuses %s in the schema', async (_, text, line) => {
    expect(await check(text)).toEqual({ code: 1, lines: [line] });
  });
  it.each([
    ['qk_scale .nan', 'qk_scale: .nan', 'D/s.yaml:7:11: error: "qk_scale" must be a finite number; got .nan'],
    ['qk_scale 1e999', 'qk_scale: 1e999', 'D/s.yaml:7:11: error: "qk_scale" must be a finite number; got .inf'],
    ['norm_eps -.inf', 'norm_eps: -.inf', 'D/s.yaml:7:11: error: "norm_eps" must be a finite number; got -.inf'],
  ])('refuses %s as not finite', async (_, line, msg) => {
    expect(await check(`${BASE}${line}\n`)).toEqual({ code: 1, lines: [msg] });
  });
  it('finds the divisors near num_heads in O(sqrt n), for any embed_dim', () => {
    expect(divisorsNear(2 ** 40, 7)).toBe('4 or 8');
    expect(divisorsNear(2147483647, 5)).toBe('1 or 2147483647');
    expect(divisorsNear(36, 6)).toBe('4 or 6');
  });
  it('suggests num_heads near an embed_dim that is not divisible', async () => {
    expect((await check(BASE.replace('embed_dim: 48', 'embed_dim: 2147483646').replace('num_heads: 4', 'num_heads: 5'))).lines).toEqual([
      'D/s.yaml:6:12: error: embed_dim 2147483646 is not divisible by num_heads 5 (head_dim would be 429496729.20; try num_heads 3 or 6)',
    ]);
  });
});

describe('user text in messages', () => {
  it('quotes a 1 MB string cut short, on one short line', async () => {
    const { lines } = await check(`${BASE}name: "${'x'.repeat(2 ** 20)}!"\n`);
    expect(lines).toEqual([`D/s.yaml:7:7: error: "name" must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$; got "${'x'.repeat(64)}"...`]);
  });
  it('cuts a file name no file can have (60k characters) in the position too', async () => {
    const path = 'a/'.repeat(30_000) + 's.yaml';
    const r = await vitc('check', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${path.slice(0, 1000)}...: error: cannot read spec: the name is too long`);
  });
  it('escapes control and line-separator characters in keys and values', async () => {
    const { lines } = await check(`${BASE}"a\\u2028b\\u0007": 1\nact_layer: "ge\\u2029lu\\u001b[31m"\n`);
    expect(lines).toEqual([
      'D/s.yaml:7:1: error: unknown key "a\\u2028b\\u0007" (see docs/spec-format.md, or schema/vitc-spec.schema.json, for the keys)',
      'D/s.yaml:8:12: error: "act_layer" must be one of "gelu", "gelu_tanh", "relu", "silu"; got "ge\\u2029lu\\u001b[31m"',
    ]);
  });
  it('says which file extended a base that has the error', async () => {
    expect(await check('extends: base.yaml\nnum_classes: 10\n', { 'base.yaml': 'extends: base2.yaml\ndepth: two\n', 'base2.yaml': BASE.replace('depth: 2\n', '').replace('patch_size: 8', 'patch_size: eight') })).toEqual({ code: 1, lines: [
      'D/base.yaml:2:8: error: "depth" must be an integer; got a string ("two") (extended from D/s.yaml:1:10)',
      'D/base2.yaml:2:13: error: "patch_size" must be an integer; got a string ("eight") (extended from D/base.yaml:1:10)',
    ] });
  });
});

describe('command-line numbers', () => {
  const SPEC = 'spec/tiny/tiny-base.yaml';
  it.each([
    ['--threads 100000', ['--threads', '100000'], /^error: vitc run: --threads must be an integer from 1 to \d+ \(the CPUs this machine has\); got "100000"$/],
    ['--seed 2^32', ['--seed', '4294967296'], /^error: vitc run: --seed must be an integer from 0 to 4294967295; got "4294967296"$/],
    ['--batch 1e8', ['--batch', '1e8'], /^error: vitc run: --batch must be an integer >= 1; got "1e8"$/],
    ['--batch 100000000', ['--batch', '100000000'], /^error: batch 100,000,000 of tiny-base: its largest tensor has [\d,]+ elements \([\d.]+ TiB in fp32\), [\d,]+ times the limit of 2,147,483,648 \(at most batch [\d,]+\)$/],
  ])('run %s', async (_, args, line) => {
    const r = await vitc('run', SPEC, ...args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(line);
  });
});
