// Bad input: each gets one line `file:line:col: error: message` (or `file: error: message`) and exit 1.
import { describe, expect, it, beforeAll } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { vitc, tempDir } from './helpers.js';
import { parseCommandArgs } from '../src/cli/args.js';
import { writeSafetensors, parseSafetensors, tensorToFloat32 } from '../src/weights/safetensors.js';
import { writeNpy } from '../src/weights/npy.js';

const bad = (f: string) => `test/fixtures/bad/${f}`;

async function expectOneError(argv: string[], line: string) {
  const r = await vitc(...argv);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(line);
}

describe('spec errors', () => {
  it('YAML syntax error', () => expectOneError(['check', bad('syntax.yaml')],
    'test/fixtures/bad/syntax.yaml:4:1: error: YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]'));
  it('unknown key, with a did-you-mean', () => expectOneError(['check', bad('unknown-key.yaml')],
    'test/fixtures/bad/unknown-key.yaml:2:1: error: unknown key "embed_dimm" (did you mean "embed_dim"?)'));
  it('wrong type', () => expectOneError(['check', bad('wrong-type.yaml')],
    'test/fixtures/bad/wrong-type.yaml:2:8: error: "depth" must be an integer; got a string ("two")'));
  it('wrong type inside a list', () => expectOneError(['check', bad('img-list.yaml')],
    'test/fixtures/bad/img-list.yaml:2:16: error: "img_size[1]" must be an integer; got a string ("wide")'));
  it('enum value, with a did-you-mean', () => expectOneError(['check', bad('bad-enum.yaml')],
    'test/fixtures/bad/bad-enum.yaml:2:12: error: "act_layer" must be one of "gelu", "gelu_tanh", "relu", "silu"; got "gleu" (did you mean "gelu"?)'));
  it('embed_dim not divisible by num_heads', () => expectOneError(['check', bad('heads.yaml')],
    'test/fixtures/bad/heads.yaml:3:12: error: embed_dim 48 is not divisible by num_heads 5 (head_dim would be 9.60; try num_heads 4 or 6)'));
  it('img_size not divisible by patch_size', () => expectOneError(['check', bad('patch.yaml')],
    'test/fixtures/bad/patch.yaml:2:11: error: img_size 30 is not divisible by patch_size 8 (the nearest sizes that are: 24 or 32)'));
  // A clash of two keys points at the one the spec edited, the other coming from the base it extends.
  it('a patch_size edited against an inherited img_size', () => expectOneError(['check', bad('patch-edited.yaml')],
    'test/fixtures/bad/patch-edited.yaml:2:13: error: img_size 32 is not divisible by patch_size 7 (patch sizes that divide 32: 4 or 8)'));
  it('an embed_dim edited against inherited num_heads', () => expectOneError(['check', bad('heads-edited.yaml')],
    'test/fixtures/bad/heads-edited.yaml:2:12: error: embed_dim 50 is not divisible by num_heads 4 (head_dim would be 12.50; try embed_dim 48 or 52)'));
  it('extends cycle', () => expectOneError(['check', bad('cycle-a.yaml')],
    'test/fixtures/bad/cycle-b.yaml:1:10: error: extends cycle: cycle-a.yaml -> cycle-b.yaml -> cycle-a.yaml (extended from test/fixtures/bad/cycle-a.yaml:1:10)'));
  it('extends a missing file', () => expectOneError(['check', bad('missing-extends.yaml')],
    'test/fixtures/bad/missing-extends.yaml:2:10: error: cannot read "test/fixtures/bad/no-such-base.yaml": no such file'));
  it('a spec that does not exist', () => expectOneError(['check', 'spec/nope.yaml'], 'spec/nope.yaml: error: cannot read spec: no such file'));
  it('a missing required key in a full spec', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.yaml'), 'img_size: 32\npatch_size: 8\nnum_classes: 10\nembed_dim: 48\nnum_heads: 4\n');
    const r = await vitc('check', join(dir, 'm.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/m\.yaml: error: missing required key "depth" \(set it here or in a spec named by `extends`\)$/);
  });
});

describe('weights and input errors', () => {
  const dir = tempDir();
  const spec = 'spec/tiny/tiny-base.yaml';
  let good: Uint8Array;
  beforeAll(async () => {
    const r = await vitc('weights', spec, '-o', join(dir, 'good.safetensors'));
    expect(r.code).toBe(0);
    good = new Uint8Array(readFileSync(join(dir, 'good.safetensors')));
  });
  const rewrite = (edit: (ts: { name: string; shape: number[]; data: Float32Array }[]) => void, file: string) => {
    const parsed = parseSafetensors(good);
    const ts = Object.entries(parsed).map(([name, t]) => ({ name, shape: [...t.shape], data: tensorToFloat32(t) }));
    edit(ts);
    writeFileSync(join(dir, file), writeSafetensors(ts));
    return join(dir, file);
  };

  it('a missing tensor', async () => {
    const f = rewrite((ts) => ts.splice(ts.findIndex((t) => t.name === 'blocks.1.norm2.bias'), 1), 'missing.safetensors');
    await expectOneError(['run', spec, '--weights', f], `${f}: error: missing tensor "blocks.1.norm2.bias" (expected shape [48])`);
  });
  it('a tensor of the wrong shape', async () => {
    const f = rewrite((ts) => { const t = ts.find((x) => x.name === 'head.weight')!; t.shape = [48, 10]; }, 'shape.safetensors');
    await expectOneError(['run', spec, '--weights', f], `${f}: error: tensor "head.weight" has shape [48,10], expected [10,48]`);
  });
  it('a truncated file', async () => {
    const f = join(dir, 'truncated.safetensors');
    writeFileSync(f, good.subarray(0, good.length - 100));
    await expectOneError(['run', spec, '--weights', f], `${f}: error: truncated safetensors file: tensor "pos_embed" ends at byte 269032 of the data section but the file has only 268932`);
  });
  it('a file that is not safetensors', async () => {
    const f = join(dir, 'text.safetensors');
    writeFileSync(f, 'hello, this is not a tensor file');
    await expectOneError(['run', spec, '--weights', f], `${f}: error: not a safetensors file: no JSON header after the 8-byte size`);
  });
  it('an input of the wrong shape', async () => {
    const f = join(dir, 'shape.npy');
    writeFileSync(f, writeNpy([2, 3, 32, 31], new Float32Array(2 * 3 * 32 * 31)));
    await expectOneError(['run', spec, '--input', f], `${f}: error: input has shape (2, 3, 32, 31); tiny-base expects (N, 3, 32, 32) float32 NCHW`);
  });
  it('a photo given as --input (a tensor)', async () => {
    const f = join(dir, 'photo.npy');
    writeFileSync(f, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]));
    await expectOneError(['run', spec, '--input', f], `${f}: error: this is a JPEG image; --input takes a float32 .npy tensor (N, 3, 32, 32) (for a photo, use --image ${f})`);
  });
  it('a tensor given as --image', async () => {
    const f = join(dir, 'tensor.jpg');
    writeFileSync(f, writeNpy([1, 3, 32, 32], new Float32Array(3 * 32 * 32)));
    await expectOneError(['run', spec, '--image', f], `${f}: error: this is a NumPy .npy tensor, not an image (vitc run reads a preprocessed tensor with --input FILE)`);
  });
  it('an input of the wrong dtype', async () => {
    const f = join(dir, 'f64.npy');
    const npy = writeNpy([1, 3, 32, 32], new Float32Array(3 * 32 * 32));
    const text = Buffer.from(npy).toString('latin1').replace("'<f4'", "'<f8'");
    writeFileSync(f, Buffer.from(text, 'latin1'));
    await expectOneError(['run', spec, '--input', f], `${f}: error: dtype is float64 ('<f8'); expected float32 ('<f4'); convert with x.astype(np.float32)`);
  });
});

describe('the real binary', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['bin/vitc.js', ...args], { encoding: 'utf8' });
  it('exits 1 with one line and no stack trace for a user error', () => {
    const r = run('check', bad('unknown-key.yaml'));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
  it('exits 1 for an unknown option, suggesting the right one', () => {
    const r = run('build', 'spec/tiny/tiny-base.yaml', '--targt', 'js');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('error: vitc build: unknown option --targt (did you mean "--target"?)');
    // finetune's --batch-size given to run, whose option is --batch (not the longer --max-batch-size).
    const size = run('run', 'spec/tiny/tiny-base.yaml', '--batch-size', '2');
    expect(size.stderr.trim()).toBe('error: vitc run: unknown option --batch-size (did you mean "--batch"?)');
  });
  it('names the option that is missing its value, in its short and long form', () => {
    for (const flag of ['--target', '-t']) {
      const r = run('build', 'spec/tiny/tiny-base.yaml', flag);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe('error: vitc build: option --target needs a value (see vitc build --help)');
    }
  });
  it('refuses a single-valued option given twice instead of keeping the last value; an option meant to repeat may', async () => {
    const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target=js', '-t', 'onnx', '-o', join(tempDir(), 'out'));
    expect([r.code, r.stderr]).toEqual([1, 'error: vitc build: option --target is given twice ("js", then "onnx") (give it once; see vitc build --help)']);
    expect((await vitc('inspect', 'spec/tiny/tiny-base.yaml', '--precision', 'fp32', '--precision=fp32')).stderr).toBe('error: vitc inspect: option --precision is given twice ("fp32", then "fp32") (give it once; see vitc inspect --help)');
    const p = parseCommandArgs('x', ['--image', 'a', '--image', 'b', '--check', '--check'], { image: { type: 'string', multiple: true }, check: { type: 'boolean' } });
    expect(p.values).toEqual({ image: ['a', 'b'], check: true });
  });
  it('tells a forgotten value from a value that starts with a dash', () => {
    for (const args of [['-t', '-o', 'out'], ['--target', '--weights', 'w'], ['--target', '-h']]) {
      expect(run('build', 'spec/tiny/tiny-base.yaml', ...args).stderr.trim()).toBe('error: vitc build: option --target needs a value (see vitc build --help)');
    }
    const r = run('weights', 'spec/tiny/tiny-base.yaml', '--seed', '-1');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('error: vitc weights: option --seed is followed by "-1", which starts with a dash (for a value that starts with a dash, write --seed=-1)');
  });
  it('exits 1 for an unknown target, suggesting the right one', () => {
    const r = run('build', 'spec/tiny/tiny-base.yaml', '--target', 'jss');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('error: unknown target "jss" (did you mean "js"?)');
  });
});
