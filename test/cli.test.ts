// The command line as users meet it: help, inspect figures, build, run, determinism, --dump-ir.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runAsync, vitc, tempDir } from './helpers.js';
import { COMMANDS } from '../src/cli/main.js';
import { pageUrl } from '../src/cli/commands/serve.js';
import { readNpy, writeNpy } from '../src/weights/npy.js';

describe('help', () => {
  it('lists every command', async () => {
    const r = await vitc('--help');
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name}`);
  });
  it.each(COMMANDS.map((c) => c.name))('vitc %s --help explains usage and options', async (name) => {
    const r = await vitc(name, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: vitc ${name} `));
    expect(r.stdout).toContain('-h, --help');
  });
  it('rejects an unknown command with a suggestion', async () => {
    const r = await vitc('biuld');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: unknown command "biuld" (did you mean "build"?)');
  });
});

describe('inspect', () => {
  it('reports ViT-B/16 figures: 86,567,656 parameters and 17.56 GMACs', async () => {
    const r = await vitc('inspect', 'spec/vit-b16.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('parameters:        86,567,656');
    expect(r.stdout).toContain('GMACs per image:   17.56');
    expect(r.stdout).toMatch(/\nblocks\.11 +\[B,197,768\] +7,087,872 +1454\.0\n/);
  });
  it('--kernels --precision fp16 sizes the unfused graph at fp16 too, so the two columns compare', async () => {
    const report = async (precision: string) => JSON.parse((await vitc('inspect', 'spec/tiny/tiny-base.yaml', '--kernels', '--precision', precision, '--json')).stdout) as
      { arena_bytes: { batch64: number }; unfused_activation_bytes: { batch64: number } };
    const [f32, f16] = [await report('fp32'), await report('fp16')];
    // Half the bytes, or a little more where the input or the logits (which stay f32) are live at the peak.
    expect(f16.unfused_activation_bytes.batch64 / f32.unfused_activation_bytes.batch64).toBeGreaterThanOrEqual(0.5);
    expect(f16.unfused_activation_bytes.batch64 / f32.unfused_activation_bytes.batch64).toBeLessThan(0.55);
    expect(f16.arena_bytes.batch64 / f32.arena_bytes.batch64).toBeLessThan(0.55);
  });
  it('gives each layer of a distilled model its own output (the token concat, the two heads)', async () => {
    const r = await vitc('inspect', 'spec/tiny/tiny-distilled.yaml', '--json');
    const j = JSON.parse(r.stdout) as { gmacs_per_image: number; layers: { layer: string; output: (string | number)[] }[] };
    expect(Object.fromEntries(j.layers.map((l) => [l.layer, l.output.join(',')]))).toMatchObject({
      cls_token: 'B,1,48', dist_token: 'B,18,48', pos_embed: 'B,18,48', head: 'B,10', head_dist: 'B,10',
    });
    // Six significant digits: a small model's GMACs are not rounded away.
    expect(j.gmacs_per_image).toBe(0.00120595);
  });
  it.each([
    ['vit-b32', 88224232, 4.41], ['vit-l16', 304326632, 61.55], ['vit-b16-in21k', 103186515, 17.58], ['vit-b32-in21k', 104843091, 4.43],
    ['vit-l16-in21k', 326740307, 61.58], ['vit-l32-in21k', 328949075, 15.40], ['vit-h14-in21k', 660385363, 167.32],
  ])('matches the architecture table for %s (--json)', async (name, params, gmacs) => {
    const r = await vitc('inspect', `spec/${name}.yaml`, '--json');
    const j = JSON.parse(r.stdout) as { parameters: number; gmacs_per_image: number; layers: unknown[] };
    expect(j.parameters).toBe(params);
    expect(j.gmacs_per_image).toBeCloseTo(gmacs, 2);
  });
});

describe('build', () => {
  it('is deterministic: the same spec gives byte-identical directories', async () => {
    const dir = tempDir();
    for (const o of ['a', 'b']) expect((await vitc('build', 'spec/tiny/tiny-distilled.yaml', '-o', join(dir, o))).code).toBe(0);
    const files = readdirSync(join(dir, 'a')).sort();
    expect(files).toEqual(['manifest.json', 'model.d.mts', 'model.mjs']);
    for (const f of files) expect(readFileSync(join(dir, 'b', f))).toEqual(readFileSync(join(dir, 'a', f)));
  });
  it("reports the model's multiply-adds as vitc inspect does, and what the build computes where that is less", async () => {
    const dir = tempDir();
    const narrowed = await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', join(dir, 'a'));
    expect(narrowed.stdout.split('\n')[1]).toBe('  67,258 parameters, 0.00114 GMACs per image (0.000786 as built, which computes only the rows the outputs read); input input [B,3,32,32] -> logits [B,10]');
    const inspected = await vitc('inspect', 'spec/tiny/tiny-base.yaml', '--json');
    expect(JSON.parse(inspected.stdout).macs_per_image / 1e9).toBeCloseTo(0.00114, 5);
    const pooled = await vitc('build', 'spec/tiny/tiny-gap.yaml', '-o', join(dir, 'b'));
    expect(pooled.stdout.split('\n')[1]).toBe('  67,162 parameters, 0.00108 GMACs per image; input input [B,3,32,32] -> logits [B,10]');
  });
  it('writes a manifest with shapes, weights and the spec hash; no absolute paths', async () => {
    const dir = tempDir();
    await vitc('build', 'spec/tiny/tiny-prelogits.yaml', '-o', join(dir, 'out'));
    const m = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8'));
    expect(m.spec.name).toBe('tiny-prelogits');
    expect(m.spec.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.inputs).toEqual([{ name: 'input', dtype: 'f32', shape: ['B', 3, 32, 32] }]);
    expect(m.outputs).toEqual([{ name: 'logits', dtype: 'f32', shape: ['B', 21] }]);
    expect(m.weights.map((w: { name: string }) => w.name)).toContain('pre_logits.fc.weight');
    expect(m.sources.map((s: { name: string }) => s.name)).toEqual(['stdlib/nn.vit', 'stdlib/resnetv2.vit', 'stdlib/vit.vit']);
    for (const f of readdirSync(join(dir, 'out'))) expect(readFileSync(join(dir, 'out', f), 'utf8')).not.toContain(process.cwd());
  });
  it('refuses to overwrite a directory that is not a build, and leaves no temporary files behind', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'precious'));
    writeFileSync(join(dir, 'precious', 'notes.txt'), 'keep me');
    const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', join(dir, 'precious'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to write the build to');
    expect(readdirSync(dir)).toEqual(['precious']);
    const bad = await vitc('build', 'test/fixtures/bad/heads.yaml', '-o', join(dir, 'never'));
    expect(bad.code).toBe(1);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
  it('never replaces a foreign directory that merely holds a manifest.json, nor a build with extra files, nor -o ""', async () => {
    const dir = tempDir();
    const proj = join(dir, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, 'manifest.json'), '{"name":"app"}');
    writeFileSync(join(proj, 'notes.txt'), 'keep');
    const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', proj);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: refusing to write the build to ${proj}: it is not empty and not a vitc build directory (choose a new or empty directory, or remove it first)`);
    expect(readdirSync(proj).sort()).toEqual(['manifest.json', 'notes.txt']);
    expect(readFileSync(join(proj, 'notes.txt'), 'utf8')).toBe('keep');
    const empty = await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', '');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe('error: the output directory is empty (give -o a directory name, e.g. -o out/model)');
    // A real build is replaced by a rebuild, but not once the user has put a file of their own in it.
    const build = join(dir, 'build');
    expect((await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', build)).code).toBe(0);
    expect((await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', build)).code).toBe(0);
    writeFileSync(join(build, 'mine.txt'), 'mine');
    const extra = await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', build);
    expect(extra.code).toBe(1);
    expect(extra.stderr).toContain('it is a vitc build but also holds "mine.txt", which vitc did not write');
    expect(readFileSync(join(build, 'mine.txt'), 'utf8')).toBe('mine');
  });
  it('--dump-ir prints the graph after a named pass, and rejects unknown passes', async () => {
    const dir = tempDir();
    const built = await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', join(dir, 'o'), '--dump-ir=build');
    expect(built.stdout).toContain('= param "blocks.0.attn.qkv.weight"');
    expect(built.stdout).toContain('= softmax(');
    const fused = await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', join(dir, 'o'), '--dump-ir=fuse-attention');
    expect(fused.stdout).toMatch(/= attention\(%\d+, %\d+, %\d+\) scale=0\.288675/);
    expect(fused.stdout).not.toContain('= softmax(');
    const bad = await vitc('build', 'spec/tiny/tiny-base.yaml', '--dump-ir=fuse-atention');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: unknown pass "fuse-atention" for --dump-ir (did you mean "fuse-attention"?)');
    // vitc check of model-language files builds no IR: --dump-ir there would print nothing.
    const vit = await vitc('check', 'stdlib/nn.vit', '--dump-ir=cse');
    expect([vit.code, vit.stdout, vit.stderr]).toEqual([1, '', 'error: --dump-ir prints the IR a spec builds, and model-language files and partial specs build none (give a spec that uses them: vitc check SPEC --dump-ir=PASS)']);
  });
  it('--seed is refused where it would change nothing: a target that loads weights at run time, or with --weights', async () => {
    const dir = tempDir();
    for (const target of ['js', 'cuda', 'wgsl']) {
      const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', target, '--seed', '3', '-o', join(dir, target));
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`error: --seed does not apply to the ${target} target: it loads weights at run time (make seeded random weights with vitc weights spec/tiny/tiny-base.yaml --seed N -o W.safetensors)`);
    }
    const w = join(dir, 'w.safetensors');
    expect((await vitc('weights', 'spec/tiny/tiny-base.yaml', '-o', w)).code).toBe(0);
    const both = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '--seed', '3', '--weights', w, '-o', join(dir, 'onnx'));
    expect(both.code).toBe(1);
    expect(both.stderr).toBe('error: --seed applies only without --weights (it seeds the random weights embedded when none are given)');
    expect(readdirSync(dir)).toEqual(['w.safetensors']);
  });
});

describe('the generated JS module', () => {
  it('loads weights from a path or bytes and runs any batch size; its .d.ts describes the API', async () => {
    const dir = tempDir();
    await vitc('build', 'spec/tiny/tiny-prelogits.yaml', '-o', join(dir, 'b'));
    const mod = await import(pathToFileURL(join(dir, 'b', 'model.mjs')).href);
    const w = 'test/golden/tiny-prelogits/weights.safetensors';
    const fromPath = await mod.load(w);
    const fromBytes = await mod.load(new Uint8Array(readFileSync(w)));
    const x = new Float32Array(2 * 3 * 32 * 32).map((_, i) => Math.cos(i));
    const y = await fromPath.forward(x, 2);
    expect(y).toHaveLength(2 * 21);
    expect(await fromBytes.forward(x, 2)).toEqual(y);
    await expect(fromPath.forward(x, 3)).rejects.toThrow('forward: input has 6144 values; expected 9216 for shape [3, 3, 32, 32]');
    expect(readFileSync(join(dir, 'b', 'model.d.mts'), 'utf8')).toContain('forward(input: Float32Array, batch: number): Promise<Float32Array>;');
    expect(readFileSync(join(dir, 'b', 'model.d.mts'), 'utf8')).toContain('export declare function load(source: Uint8Array | ArrayBuffer | string, options?: LoadOptions): Promise<Model>;');
    // Named as the wgsl module names it (it said only 'missing tensor ...').
    await expect(mod.load('test/golden/tiny-base/weights.safetensors')).rejects.toThrow('these weights do not fit tiny-prelogits: missing tensor "pre_logits.fc.weight" (expected shape [40,48])');
  });

  it('refuses weights that are not bytes or a path, a thread count that is not a positive integer, and a forward after dispose, with a message (never a hang)', async () => {
    const dir = tempDir();
    await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', join(dir, 'b'));
    const mod = await import(pathToFileURL(join(dir, 'b', 'model.mjs')).href);
    const w = 'test/golden/tiny-base/weights.safetensors';
    // 1.5 and NaN made workers that never answered: the first forward hung; 0 and -1 quietly meant 1.
    for (const [threads, shown] of [[1.5, '1.5'], [NaN, 'NaN'], [0, '0'], [-1, '-1'], [Infinity, 'Infinity'], ['2', '"2"']] as const) {
      await expect(mod.load(w, { threads }), String(threads)).rejects.toThrow(`load: options.threads must be a positive integer (or left out for every core); got ${shown}`);
    }
    // A URL object or nothing was read as an empty file: "not a safetensors file: 0 bytes is shorter than ...".
    await expect(mod.load(pathToFileURL(w))).rejects.toThrow("load: source must be a safetensors file's bytes (Uint8Array or ArrayBuffer), or its path in Node; got a URL");
    await expect(mod.load()).rejects.toThrow('or its path in Node; got undefined');
    await expect(mod.load(new Float32Array(8))).rejects.toThrow('or its path in Node; got a Float32Array');
    const x = new Float32Array(3 * 32 * 32).map((_, i) => Math.sin(i));
    for (const threads of [1, 2]) {
      const m = await mod.load(w, { threads });
      const first = m.forward(x, 1); // asked for before dispose: it finishes
      // The input is read when forward is called: refilling the array at once changes nothing.
      const reused = new Float32Array(x);
      const second = m.forward(reused, 1);
      reused.fill(0);
      const disposed = m.dispose();
      expect(await first).toHaveLength(10);
      expect(await second).toEqual(await first);
      await disposed;
      await m.dispose(); // twice is fine
      await expect(m.forward(x, 1)).rejects.toThrow('forward: the model was disposed (dispose() stopped its worker threads); load() it again to run it');
    }
  }, 60_000);

  it('lets a Node script that never calls dispose end when its work is done', async () => {
    // The workers were unref'd before their 'message' listeners were added, which ref'd them again:
    // a script that did not call dispose() never ended.
    const dir = tempDir();
    await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', join(dir, 'b'));
    writeFileSync(join(dir, 'use.mjs'), [
      "import { load } from './b/model.mjs';",
      `const model = await load(${JSON.stringify(join(process.cwd(), 'test/golden/tiny-base/weights.safetensors'))}, { threads: 2 });`,
      'const y = await model.forward(new Float32Array(3 * 32 * 32), 1);',
      "console.log(model.threads, y.length, 'done');",
    ].join('\n'));
    const r = await runAsync('timeout', ['30', process.execPath, join(dir, 'use.mjs')]);
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, '2 10 done', '']);
  }, 60_000);

  it('types a TypeScript consumer that imports ./model.mjs as the docs say, and rejects wrong calls', async () => {
    // The build directory as written: TypeScript finds the types of model.mjs in model.d.mts (never in
    // a model.d.ts beside it), under node16/nodenext and bundler resolution alike.
    const dir = tempDir();
    await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', join(dir, 'b'));
    const { Project, ts } = await import('ts-morph');
    for (const [module, moduleResolution] of [[ts.ModuleKind.NodeNext, ts.ModuleResolutionKind.NodeNext], [ts.ModuleKind.ESNext, ts.ModuleResolutionKind.Bundler]] as const) {
      const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { target: ts.ScriptTarget.ES2022, module, moduleResolution, lib: ['lib.es2022.d.ts'], types: [], strict: true } });
      for (const f of readdirSync(join(dir, 'b'))) project.getFileSystem().writeFileSync(`/b/${f}`, readFileSync(join(dir, 'b', f), 'utf8'));
      project.createSourceFile('/use.mts', [
        "import { load, manifest, weightShapes, type Model } from './b/model.mjs';",
        'export async function run(bytes: Uint8Array): Promise<number> {',
        '  const m: Model = await load(bytes, { threads: 2 });',
        '  const y: Float32Array = await m.forward(new Float32Array(3072), 1);',
        '  const [z] = await m.forwardAll(new Float32Array(3072), 1);',
        '  await m.dispose();',
        '  return y.length + z!.length + weightShapes.length + manifest.outputs.length + m.threads;',
        '}',
        '// @ts-expect-error: forward takes a Float32Array',
        'export const bad = (m: Model) => m.forward([1, 2, 3], 1);',
        '// @ts-expect-error: no option "thread"',
        "export const badOption = (b: Uint8Array) => load(b, { thread: 2 });",
      ].join('\n'));
      expect(project.getPreEmitDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.compilerObject.messageText, '\n'))).toEqual([]);
    }
  }, 60_000);
});

describe('run', () => {
  it('runs a spec with random weights, says so, prints top-5 and writes logits', async () => {
    const dir = tempDir();
    const r = await vitc('run', 'spec/tiny/tiny-base.yaml', '--output', join(dir, 'y.npy'), '--batch', '2');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no --weights given: using seeded random weights (seed 0)');
    expect(r.stdout).toContain('image 1: top-5 of 10 classes');
    expect(r.stdout).toMatch(/forward \d+ ms for batch 2/);
    const y = readNpy('y.npy', new Uint8Array(readFileSync(join(dir, 'y.npy'))));
    expect(y.shape).toEqual([2, 10]);
  });
  it('runs a build directory with weights and an input file', async () => {
    const dir = tempDir();
    await vitc('build', 'spec/tiny/tiny-gray.yaml', '-o', join(dir, 'b'));
    await vitc('weights', 'spec/tiny/tiny-gray.yaml', '-o', join(dir, 'w.safetensors'), '--seed', '3');
    writeFileSync(join(dir, 'x.npy'), writeNpy([1, 1, 24, 40], new Float32Array(24 * 40).fill(0.5)));
    const r = await vitc('run', join(dir, 'b'), '--weights', join(dir, 'w.safetensors'), '--input', join(dir, 'x.npy'), '--top', '1');
    expect(r.code).toBe(0);
    // Only the runner's one line on what it chose (OpenRequest.info).
    expect(r.stderr).toMatch(/^js: \d+ threads?, GEMMs on (WebAssembly SIMD|plain JS \(no WebAssembly SIMD\))$/);
    expect(r.stdout).toContain('image 0: top-1 of 10 classes');
  });
});

describe('run --output', () => {
  it('refuses to overwrite a file the run reads (weights, input), leaving it as it was', async () => {
    const dir = tempDir();
    const w = join(dir, 'w.safetensors');
    await vitc('weights', 'spec/tiny/tiny-base.yaml', '-o', w);
    const x = join(dir, 'x.npy');
    writeFileSync(x, writeNpy([1, 3, 32, 32], new Float32Array(3 * 32 * 32).fill(0.5)));
    const before = [readFileSync(w), readFileSync(x)];
    const cases: [string[], string][] = [
      [['--weights', w, '--output', w], `${w}: error: refusing to overwrite --weights ${w} with the logits (choose another --output)`],
      [['--input', x, '--output', join(dir, '.', 'x.npy')], `${join(dir, '.', 'x.npy')}: error: refusing to overwrite --input ${x} with the logits (choose another --output)`],
    ];
    for (const [args, line] of cases) {
      const r = await vitc('run', 'spec/tiny/tiny-base.yaml', ...args);
      expect(r.stderr).toBe(line);
      expect(r.code).toBe(1);
    }
    expect([readFileSync(w), readFileSync(x)]).toEqual(before);
  });
  it('must be named .npy, which is what it writes', async () => {
    const out = join(tempDir(), 'logits.txt');
    const r = await vitc('run', 'spec/tiny/tiny-base.yaml', '--output', out);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `${out}: error: vitc run writes NumPy .npy, so --output must end in .npy, not .txt (--output ${out.slice(0, -4)}.npy; numpy.load reads it)`]);
    expect(existsSync(out)).toBe(false);
  });
});

describe('run: options that would change nothing are refused', () => {
  it('--threads where the runner has none, --seed with --weights, build options with a build directory, layout options with a spec', async () => {
    const dir = tempDir();
    await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', '-o', join(dir, 'onnx'));
    await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'cuda', '-o', join(dir, 'cuda'));
    const w = join(dir, 'w.safetensors');
    await vitc('weights', 'spec/tiny/tiny-base.yaml', '-o', w);
    const cases: [string[], string][] = [
      [['spec/tiny/tiny-base.yaml', '-t', 'cuda', '--threads', '1'], 'error: --threads does not apply to the cuda target: its runner takes no CPU thread count'],
      [['spec/tiny/tiny-base.yaml', '-t', 'wgsl', '--threads', '1'], 'error: --threads does not apply to the wgsl target: its runner takes no CPU thread count'],
      [['spec/tiny/tiny-base.yaml', '--weights', w, '--seed', '3'], 'error: --seed applies only without --weights (it seeds the random weights used when none are given)'],
      [[join(dir, 'cuda'), '--precision', 'fp16'], `error: ${join(dir, 'cuda')} was built in fp32, not fp16 (rebuild it with vitc build --precision fp16, or run the spec)`],
      [[join(dir, 'onnx'), '--opset', '18'], `error: --opset is an option of vitc build; ${join(dir, 'onnx')} is already built (rebuild it with vitc build --opset, or run the spec)`],
      [[join(dir, 'onnx'), '--seed', '3'], `error: --seed does not apply to ${join(dir, 'onnx')}: it embeds the weights it was built with (rebuild it with vitc build --seed N, or run the spec)`],
      [['spec/tiny/tiny-base.yaml', '-t', 'onnx', '--serve', 'triton'], 'error: --serve shapes only the files of a build directory, and vitc run builds into a temporary directory that it removes (for those files: vitc build SPEC --target onnx --serve triton -o DIR)'],
      [['spec/tiny/tiny-base.yaml', '-t', 'wgsl', '--page'], 'error: --page shapes only the files of a build directory, and vitc run builds into a temporary directory that it removes (for those files: vitc build SPEC --target wgsl --page -o DIR)'],
    ];
    for (const [args, line] of cases) {
      const r = await vitc('run', ...args);
      expect(r.stderr).toBe(line);
      expect(r.code).toBe(1);
    }
    // What does apply still runs: the directory's own precision, --threads on onnx, --seed for a cuda directory's random weights.
    const ok = await vitc('run', join(dir, 'cuda'), '--precision', 'fp32', '--seed', '3', '--top', '0');
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('using seeded random weights (seed 3)');
    expect((await vitc('run', join(dir, 'onnx'), '--threads', '1', '--top', '0')).code).toBe(0);
  });
});

describe('serve', () => {
  it('prints a page URL one can open: localhost for a host that listens on every address', () => {
    expect(pageUrl('0.0.0.0', 8080, [])).toBe('http://localhost:8080/');
    expect(pageUrl('::', 8080, ['weights=w.safetensors'])).toBe('http://localhost:8080/?weights=w.safetensors');
    expect(pageUrl('::1', 81, [])).toBe('http://[::1]:81/');
    expect(pageUrl('127.0.0.1', 8080, [])).toBe('http://127.0.0.1:8080/');
  });
  it('serves only a build directory: any other would put all its files on the network', async () => {
    const plain = tempDir();
    writeFileSync(join(plain, 'secret.txt'), 'x');
    const r = await vitc('serve', plain, '--port', '0');
    expect([r.code, r.stderr.trim()]).toEqual([1, `error: ${plain} is not a vitc build directory (it has no manifest.json), and vitc serve serves every file in the directory it is given (give a build directory, e.g. from vitc build --target wgsl --page)`]);
  });
  it('an address it cannot listen on is one line, not an internal error', async () => {
    const dir = join(tempDir(), 'b');
    expect((await vitc('build', 'spec/tiny/tiny-base.yaml', '-o', dir)).code).toBe(0);
    const cases: [string, string][] = [
      ['nosuchhost.invalid', 'error: --host "nosuchhost.invalid" is not an address, nor a name this machine resolves (give an address to listen on, e.g. --host 127.0.0.1)'],
      ['192.0.2.1', 'error: --host 192.0.2.1 is not an address of this machine (give one of its addresses, e.g. --host 127.0.0.1)'],
      ['', 'error: vitc serve: --host is empty (give an address to listen on, e.g. --host 127.0.0.1)'],
    ];
    for (const [host, message] of cases) {
      const r = await vitc('serve', dir, '--host', host, '--port', '0');
      expect(r.stderr.trim()).toBe(message);
      expect(r.code).toBe(1);
    }
  });
});
