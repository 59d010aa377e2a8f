// Builds are the same in every checkout (manifest.json names sources relative to the spec, never by
// absolute path), and `vitc build --check` proves a committed build directory current without
// writing anything.
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runAsync, tempDir, vitc } from './helpers.js';

/** Every file under `dir`, relative, sorted. */
function files(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, join(prefix, e.name)) : [join(prefix, e.name)])).sort();
}

describe('builds from two checkouts', () => {
  // The CLI as installed: bin/ runs dist/ (npm ci builds it); stdlib, schema and runtime sources beside.
  const hasDist = existsSync('dist/cli/main.js');
  it.skipIf(!hasDist)('are byte-identical for js, onnx, cuda and wgsl, run from different directories, with no absolute path in them', async () => {
    const root = tempDir('vitc-checkouts-');
    const copies = ['one', 'two'].map((n) => join(root, n));
    for (const c of copies) {
      for (const d of ['bin', 'dist', 'src', 'stdlib', 'schema', 'spec', 'package.json']) cpSync(d, join(c, d), { recursive: true });
      symlinkSync(realpathSync('node_modules'), join(c, 'node_modules'));
    }
    for (const target of ['js', 'onnx', 'cuda', 'wgsl']) {
      // One from the checkout's root with a relative spec path, one from its spec/ folder with another.
      const outs = copies.map((c, i) => join(root, `${target}-${i}`));
      const runs = await Promise.all([
        runAsync(process.execPath, [join(copies[0]!, 'bin/vitc.js'), 'build', 'spec/variants/tiny-swiglu.yaml', '--target', target, '-o', outs[0]!], { cwd: copies[0] }),
        runAsync(process.execPath, [join(copies[1]!, 'bin/vitc.js'), 'build', 'variants/tiny-swiglu.yaml', '--target', target, '-o', outs[1]!], { cwd: join(copies[1]!, 'spec') }),
      ]);
      for (const r of runs) expect(r.stderr, target).toBe('');
      expect(files(outs[0]!)).toEqual(files(outs[1]!));
      for (const f of files(outs[0]!)) {
        const [a, b] = outs.map((o) => readFileSync(join(o, f)));
        expect(a!.equals(b!), `${target}: ${f}`).toBe(true);
        for (const dir of [root, ...copies, process.cwd()]) expect(a!.includes(dir), `${target}: ${f} holds ${dir}`).toBe(false);
      }
      const m = JSON.parse(readFileSync(join(outs[0]!, 'manifest.json'), 'utf8')) as { sources: { name: string }[] };
      expect(m.sources.map((s) => s.name)).toEqual(['stdlib/nn.vit', 'stdlib/resnetv2.vit', 'stdlib/vit.vit', 'swiglu.vit']);
    }
  });
});

describe('vitc build --check', () => {
  const spec = 'spec/tiny/tiny-base.yaml';
  it('writes nothing, and lists every file of a missing directory as one the build adds', async () => {
    const dir = join(tempDir(), 'kernels');
    const r = await vitc('build', spec, '-o', dir, '--check');
    expect(r.code).toBe(1);
    expect(existsSync(dir)).toBe(false);
    expect(r.stdout.split('\n').map((l) => l.replace(`${dir}/`, ''))).toEqual([
      'manifest.json: added (is missing: the build writes it)',
      'model.d.mts: added (is missing: the build writes it)',
      'model.mjs: added (is missing: the build writes it)',
    ]);
    expect(r.stderr).toBe(`${dir}: no such directory: the build writes 3 files there (run the same command without --check to write them)`);
  });
  it('exits 0 on a directory the same build wrote, for every target', async () => {
    for (const target of ['js', 'onnx', 'cuda']) {
      const dir = join(tempDir(), target);
      expect((await vitc('build', spec, '--target', target, '-o', dir)).code).toBe(0);
      const r = await vitc('build', spec, '--target', target, '-o', dir, '--check');
      expect(r.stderr, target).toBe('');
      expect(r.code, target).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${dir}: up to date \\(\\d+ files\\)$`));
    }
  });
  it('exits 1 listing changed, added and removed files, and leaves the directory as it was', async () => {
    const dir = join(tempDir(), 'out');
    expect((await vitc('build', spec, '-o', dir)).code).toBe(0);
    writeFileSync(join(dir, 'model.mjs'), readFileSync(join(dir, 'model.mjs'), 'utf8') + '// edited\n');
    rmSync(join(dir, 'model.d.mts'));
    mkdirSync(join(dir, 'extra'));
    writeFileSync(join(dir, 'extra', 'notes.txt'), 'mine\n');
    const before = files(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]);
    const r = await vitc('build', spec, '-o', dir, '--check');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').map((l) => relative(dir, l.split(':')[0]!) + l.slice(l.indexOf(':')))).toEqual([
      'extra/notes.txt: removed (is not part of the build)',
      'model.d.mts: added (is missing: the build writes it)',
      'model.mjs: changed (differs from the build)',
    ]);
    expect(r.stderr).toBe(`${dir}: not what this build writes: 1 changed, 1 added, 1 removed (delete the files the build does not write, then run the same command without --check)`);
    expect(files(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')])).toEqual(before);
  });
  it('notices a different option: another precision is another build', async () => {
    const dir = join(tempDir(), 'onnx');
    expect((await vitc('build', spec, '--target', 'onnx', '-o', dir)).code).toBe(0);
    const r = await vitc('build', spec, '--target', 'onnx', '--precision', 'fp16', '-o', dir, '--check');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').map((l) => l.slice(dir.length + 1))).toEqual(['manifest.json: changed (differs from the build)', 'model.onnx: changed (differs from the build)']);
  });
});
