// Files users hand to vitc and paths they ask it to write: special files, sizes, output paths that
// cannot be written, build directories whose manifest or model files are not what vitc wrote, and
// .onnx files that are not models. Each is one line on stderr and exit 1, and nothing is written.
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { vitc, tempDir } from './helpers.js';
import { writeNpy } from '../src/weights/npy.js';
import { onnx } from '../src/backends/onnx/proto.js';

const SPEC = 'spec/tiny/tiny-base.yaml';

async function oneError(argv: string[]): Promise<string> {
  const r = await vitc(...argv);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.split('\n'), r.stderr).toHaveLength(1);
  return r.stderr;
}

describe('inputs must be regular files', () => {
  const dir = tempDir();
  beforeAll(() => {
    writeFileSync(join(dir, 'ext.yaml'), 'extends: /dev/zero\n');
    writeFileSync(join(dir, 'imp.vit'), 'import "/dev/zero"\n');
    writeFileSync(join(dir, 'labels.yaml'), `extends: ${join(process.cwd(), SPEC)}\nlabels: /dev/zero\n`);
    spawnSync('mkfifo', [join(dir, 'fifo.yaml')]);
  });
  it.each([
    ['a spec', () => ['check', '/dev/zero'], '/dev/zero: error: cannot read spec: it is a character device, not a regular file'],
    ['a spec that is a named pipe', () => ['check', join(dir, 'fifo.yaml')], `${join(dir, 'fifo.yaml')}: error: cannot read spec: it is a named pipe, not a regular file`],
    ['extends', () => ['check', join(dir, 'ext.yaml')], `${join(dir, 'ext.yaml')}:1:10: error: cannot read "/dev/zero": it is a character device, not a regular file`],
    ['an import', () => ['check', join(dir, 'imp.vit')], `${join(dir, 'imp.vit')}:1:1: error: cannot read "/dev/zero": it is a character device, not a regular file`],
    ['--weights', () => ['run', SPEC, '--weights', '/dev/urandom'], '/dev/urandom: error: cannot read weights: it is a character device, not a regular file'],
    ['--weights that is a named pipe', () => ['run', SPEC, '--weights', join(dir, 'fifo.yaml')], `${join(dir, 'fifo.yaml')}: error: cannot read weights: it is a named pipe, not a regular file`],
    ['convert input', () => ['convert', '/dev/zero', '-o', join(dir, 'w.safetensors')], '/dev/zero: error: cannot read weights: it is a character device, not a regular file'],
    ['--input', () => ['run', SPEC, '--input', '/dev/zero'], '/dev/zero: error: cannot read input: it is a character device, not a regular file'],
    ['a labels file', () => ['run', join(dir, 'labels.yaml'), '--top', '1'], `${join(dir, 'labels.yaml')}:2:9: error: cannot read "/dev/zero": it is a character device, not a regular file`],
  ])('refuses a special file as %s at once', async (_, argv, line) => {
    expect(await oneError(argv())).toBe(line);
  });
  it('refuses a spec over 16 MiB without reading it', async () => {
    const f = join(dir, 'big.yaml');
    writeFileSync(f, Buffer.alloc(17 * 2 ** 20, 0x20));
    expect(await oneError(['check', f])).toBe(`${f}: error: cannot read spec: it has 17,825,792 bytes (17 MiB); spec files are at most 16 MiB`);
  });
  it.each([
    ['a spec', 'latin1.yaml', Buffer.concat([Buffer.from('name: tiny\n# caf'), Buffer.from([0xe9]), Buffer.from('\n')]), 'spec is not UTF-8: byte 16 (e9 0a) is not part of a valid UTF-8 sequence', '2:6'],
    ['a model-language file', 'bad.vit', Buffer.concat([Buffer.from('# \u00e9t\u00e9 ok\nblock B { '), Buffer.from([0xc0, 0xaf]), Buffer.from(' }\n')]), 'model-language file is not UTF-8: byte 21 (c0 af 20 7d) is not part of a valid UTF-8 sequence', '2:11'],
  ])('refuses %s that is not UTF-8 at the first bad byte', async (_, f, bytes, msg, at) => {
    writeFileSync(join(dir, f), bytes);
    expect(await oneError(['check', join(dir, f)])).toBe(`${join(dir, f)}:${at}: error: ${msg} (save the file as UTF-8)`);
  });
  it.each([
    // Sparse files: nothing is written to the disk.
    ['an --input larger than any input tensor', 'x.npy', () => ['run', SPEC, '--input', join(dir, 'x.npy')], 'cannot read input: it has 107,374,182,400 bytes (100 GiB); input files are at most 8.0 GiB'],
    ['a model larger than memory holds', 'x.onnx', () => ['inspect', join(dir, 'x.onnx')], 'cannot read model: it has 107,374,182,400 bytes (100 GiB), more than vitc can hold in memory at once'],
  ])('refuses %s (100 GiB) before allocating', async (_, f, argv, msg) => {
    writeFileSync(join(dir, f), '');
    truncateSync(join(dir, f), 100 * 2 ** 30);
    expect(await oneError(argv())).toBe(`${join(dir, f)}: error: ${msg}`);
  });
});

describe('output paths are checked before the work', () => {
  const dir = tempDir();
  beforeAll(() => writeFileSync(join(dir, 'file'), 'x'));
  const long = 'a'.repeat(300);
  it.each([
    ['a directory', () => dir, `error: cannot write --output "${dir}": it is a directory`],
    ['a path under a file (ENOTDIR)', () => join(dir, 'file', 'y.npy'), `error: cannot write --output "${join(dir, 'file', 'y.npy')}": a part of the path is not a directory`],
    ['/dev/full (ENOSPC)', () => '/dev/full', 'error: cannot write --output "/dev/full": it is a character device, not a regular file'],
    ['a name too long (ENAMETOOLONG)', () => join(dir, `${long}.npy`), `error: cannot write --output "${join(dir, `${long}.npy`)}": the name is too long`],
    ['a read-only place (EACCES, EROFS)', () => '/sys/y.npy', 'error: cannot write --output "/sys/y.npy": permission denied (choose a directory you can write to)'],
    ['a place under /proc, which takes no new files (ENOENT)', () => '/proc/y.npy', 'error: cannot write --output "/proc/y.npy": /proc does not accept new files (choose a directory you can write to)'],
    ['an empty name', () => '', 'error: cannot write --output "": the name is empty'],
  ])('run --output: %s', async (_, out, line) => {
    const r = await vitc('run', SPEC, '--output', out());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(line);
  });
  it.each([
    ['a path under a file', () => join(dir, 'file', 'b'), `error: cannot write the build "${join(dir, 'file', 'b')}": ${join(dir, 'file')} is not a directory`],
    ['a read-only place', () => '/sys/b', 'error: cannot write the build "/sys/b": permission denied (choose a directory you can write to)'],
    ['an existing directory that takes no new files', () => '/proc/b', 'error: cannot write the build "/proc/b": /proc does not accept new files (choose a directory you can write to)'],
    ['a missing directory under one', () => '/proc/x/b', 'error: cannot write the build "/proc/x/b": /proc does not accept new files (choose a directory you can write to)'],
    ['a name too long', () => join(dir, long), `error: cannot write the build to ${join(dir, long)}: the name is too long (use a name of at most 200 characters)`],
  ])('build -o: %s', async (_, out, line) => {
    expect(await oneError(['build', SPEC, '-o', out()])).toBe(line);
  });
  it('build -o under a directory that refuses new entries (/proc/x/y) ends with one line instead of spinning forever', () => {
    // Node 20's recursive mkdir loops at full CPU on /proc's ENOENT; the real binary, with a time limit.
    const r = spawnSync(process.execPath, ['bin/vitc.js', 'build', SPEC, '-o', '/proc/vitc-no/b'], { encoding: 'utf8', timeout: 60_000 });
    expect([r.signal, r.status]).toEqual([null, 1]);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: cannot write the build "\/proc\/vitc-no\/b": /);
  });
  it('weights -o: a directory', async () => {
    expect(await oneError(['weights', SPEC, '-o', dir])).toBe(`error: cannot write -o "${dir}": it is a directory`);
  });
  it('leaves nothing behind in the output directory', () => {
    expect(readdirSync(dir)).toEqual(['file']);
  });
});

describe('a build directory is checked before anything is loaded from it', () => {
  const root = tempDir();
  const js = join(root, 'js');
  const onnx = join(root, 'onnx');
  beforeAll(async () => {
    expect((await vitc('build', SPEC, '-o', js)).code).toBe(0);
    expect((await vitc('build', SPEC, '--target', 'onnx', '-o', onnx)).code).toBe(0);
  });
  let n = 0;
  /** A copy of build `from` with its manifest edited and files damaged. */
  function damaged(from: string, edit: (m: Record<string, unknown>) => unknown, files: Record<string, (b: Buffer) => Buffer> = {}): string {
    const d = join(root, `d${n++}`);
    cpSync(from, d, { recursive: true });
    const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    const out = edit(m);
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(out === undefined ? m : out));
    for (const [f, fn] of Object.entries(files)) writeFileSync(join(d, f), fn(readFileSync(join(d, f))));
    return d;
  }
  const manifestError = (d: string, msg: string) => `${join(d, 'manifest.json')}: error: ${msg} (rebuild it with vitc build)`;
  it('refuses an entry outside the directory (../../../../etc/passwd)', async () => {
    const d = damaged(js, (m) => { m.entry = '../../../../etc/passwd'; });
    expect(await oneError(['run', d])).toBe(manifestError(d, '"entry" must be a file inside the build directory (relative, no ".." parts); got "../../../../etc/passwd"'));
  });
  it('refuses an entry that is a symbolic link out of the directory', async () => {
    const d = damaged(js, () => undefined);
    const { rmSync, symlinkSync } = await import('node:fs');
    rmSync(join(d, 'model.mjs'));
    symlinkSync('/etc/passwd', join(d, 'model.mjs'));
    expect(await oneError(['run', d])).toBe(`${join(d, 'model.mjs')}: error: it leads outside the build directory (the build directory is damaged; rebuild it with vitc build)`);
  });
  it.each([
    ['precision fp8', (m: Record<string, unknown>) => { m.precision = 'fp8'; }, '"precision" "fp8" is not one of the js target\'s: fp32'],
    ['a target named constructor', (m: Record<string, unknown>) => { m.target = 'constructor'; }, '"target" "constructor" is not a target of this vitc'],
    ['a negative input dim', (m: Record<string, unknown>) => { (m.inputs as { shape: unknown[] }[])[0]!.shape = ['B', 3, -32, 32]; }, '"inputs[0].shape[2]" must be >= 1; got -32'],
    ['an input shape without B', (m: Record<string, unknown>) => { (m.inputs as { shape: unknown[] }[])[0]!.shape = [1, 3, 32, 32]; }, '"inputs[0].shape[0]" must be "B"; got 1'],
    ['no weights list', (m: Record<string, unknown>) => { delete m.weights; }, 'missing "weights"'],
    ['a list instead of an object', () => [1, 2], '"manifest" must be a JSON object; got a list'],
  ])('refuses %s', async (_, edit, msg) => {
    const d = damaged(js, edit);
    expect(await oneError(['run', d])).toBe(manifestError(d, msg));
  });
  it('refuses a manifest that is not JSON', async () => {
    const d = damaged(js, () => undefined);
    writeFileSync(join(d, 'manifest.json'), '{"format": ');
    expect(await oneError(['run', d])).toMatch(new RegExp(`^${join(d, 'manifest.json')}: error: not a vitc build manifest: the file is not JSON \\(`));
  });
  it.each([
    ['a truncated model.mjs', () => js, 'model.mjs', (b: Buffer) => b.subarray(0, 100), (d: string, size: number) => `${join(d, 'model.mjs')}: error: the file has 100 bytes but the build wrote ${size} (truncated or changed since) (the build directory is damaged; rebuild it with vitc build)`],
    ['an empty model.onnx', () => onnx, 'model.onnx', () => Buffer.alloc(0), (d: string, size: number) => `${join(d, 'model.onnx')}: error: the file has 0 bytes but the build wrote ${size} (truncated or changed since) (the build directory is damaged; rebuild it with vitc build)`],
  ])('reports %s at the file', async (_, from, f, fn, line) => {
    const size = statSync(join(from(), f)).size;
    const d = damaged(from(), () => undefined, { [f]: fn });
    expect(await oneError(['run', d])).toBe(line(d, size));
  });
  it('reports a model.mjs of the right size but garbage inside at the file', async () => {
    const d = damaged(js, () => undefined, { 'model.mjs': (b) => Buffer.alloc(b.length, '@') });
    expect(await oneError(['run', d])).toMatch(new RegExp(`^${join(d, 'model.mjs')}: error: cannot load the js model \\(.+\\) \\(rebuild it with vitc build\\)$`));
  });
  it.each([
    ['js', () => js, 'model.mjs'],
    ['onnx', () => onnx, 'model.onnx'],
  ])('holds a %s model to the output shape its manifest says', async (_, from, f) => {
    const d = damaged(from(), (m) => { (m.outputs as { shape: unknown[] }[])[0]!.shape = ['B', 11]; });
    const r = await vitc('run', d, '--batch', '2');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').at(-1)).toBe(`${join(d, f)}: error: the model returned 20 values for batch 2, but manifest.json's output [B, 11] has 22 (the build directory is damaged; rebuild it with vitc build)`);
  });
  it('reports an input shape the model does not take at the model file', async () => {
    const d = damaged(onnx, (m) => { (m.inputs as { shape: unknown[] }[])[0]!.shape = ['B', 3, 64, 32]; });
    const r = await vitc('run', d);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').at(-1)).toMatch(new RegExp(`^${join(d, 'model.onnx')}: error: the model failed to run \\(.+\\) \\(rebuild it with vitc build\\)$`));
  });
  it('reports a model.onnx of the right size but garbage inside at the file', async () => {
    const d = damaged(onnx, () => undefined, { 'model.onnx': (b) => Buffer.alloc(b.length, 7) });
    expect(await oneError(['run', d])).toMatch(new RegExp(`^${join(d, 'model.onnx')}: error: cannot load the onnx model \\(.*Protobuf parsing failed.*\\) \\(rebuild it with vitc build\\)$`));
  });
});

describe('inspect x.onnx', () => {
  const dir = tempDir();
  let model: Buffer;
  beforeAll(async () => {
    expect((await vitc('build', SPEC, '--target', 'onnx', '-o', join(dir, 'b'))).code).toBe(0);
    model = readFileSync(join(dir, 'b', 'model.onnx'));
  });
  it.each([
    ['text', () => Buffer.from('hello, this is not a model\n'), 'the protobuf does not decode: invalid wire type 4 at offset 3'],
    ['a truncated model', () => model.subarray(0, 100), 'the protobuf does not decode: index out of range: 79 + 23 > 100'],
    ['an empty file', () => Buffer.alloc(0), 'it has no graph'],
    ['a .npy file', () => Buffer.from(writeNpy([1], new Float32Array(1))), 'the protobuf does not decode: invalid wire type 7 at offset 12'],
  ])('says a file of %s is not an ONNX model', async (_, bytes, why) => {
    const f = join(dir, 'x.onnx');
    writeFileSync(f, bytes());
    expect(await oneError(['inspect', f])).toBe(`${f}: error: not an ONNX model (${why})`);
  });
  it('still prints a real one', async () => {
    const r = await vitc('inspect', join(dir, 'b', 'model.onnx'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^model "tiny-base": producer vitc/);
  });
  it('prints names with line breaks and U+2028 escaped, one item a line', async () => {
    const m = onnx.ModelProto.decode(model);
    m.graph!.node![0]!.opType = 'Evil\nline\u2028x';
    const f = join(dir, 'names.onnx');
    writeFileSync(f, onnx.ModelProto.encode(m).finish());
    const r = await vitc('inspect', f);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/^line|\u2028/m);
    expect(r.stdout).toContain('= Evil\\nline\\u2028x(');
  });
  it('says a build directory given as a spec is one, and names its model.onnx', async () => {
    const b = join(dir, 'b');
    for (const cmd of ['inspect', 'check', 'build']) {
      expect(await oneError([cmd, b])).toBe(`${b}: error: cannot read spec: is a directory (it is a build directory: give the spec it was built from (vitc inspect also reads ${join(b, 'model.onnx')}); vitc run ${b} runs the build)`);
    }
    expect(await oneError(['check', 'spec/tiny'])).toBe('spec/tiny: error: cannot read spec: is a directory (give its spec files, e.g. spec/tiny/*.yaml)');
  });
  it('refuses a directory named x.onnx', async () => {
    mkdirSync(join(dir, 'd.onnx'));
    expect(existsSync(join(dir, 'd.onnx'))).toBe(true);
    expect(await oneError(['inspect', join(dir, 'd.onnx')])).toBe(`${join(dir, 'd.onnx')}: error: cannot read model: is a directory`);
  });
});
