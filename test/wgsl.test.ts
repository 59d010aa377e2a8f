// The wgsl target from the command line: deterministic builds, option errors, and `vitc run` through
// Dawn on SwiftShader saying what it chose (the adapter, the kernels, the fp16 fallback).
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runAsync, tempDir, vitc } from './helpers.js';
import { nodeGpu } from '../src/backends/wgsl/dawn.js';

const files = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();

describe('wgsl build', () => {
  it('is deterministic: the same spec gives byte-identical directories, page included', async () => {
    const dir = tempDir();
    for (const o of ['a', 'b']) expect((await vitc('build', 'spec/tiny/tiny-gap.yaml', '--target', 'wgsl', '--page', '-o', join(dir, o))).code).toBe(0);
    const a = files(join(dir, 'a'));
    expect(a).toContain('index.html');
    expect(a).toContain('model.mjs');
    expect(a).toContain('model.d.mts');
    expect(a).toContain('shaders/prelude.wgsl');
    expect(a.filter((f) => f.endsWith('-gemm-subgroup.wgsl')).length).toBeGreaterThan(0);
    expect(files(join(dir, 'b'))).toEqual(a);
    for (const f of a) expect(readFileSync(join(dir, 'b', f)), f).toEqual(readFileSync(join(dir, 'a', f)));
    expect(readFileSync(join(dir, 'a', 'model.mjs'), 'utf8')).not.toMatch(/^import /m);
  }, 120_000);

  it('refuses an unknown kernel variant and a precision it has not', async () => {
    const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'wgsl', '--kernels', 'fast', '-o', join(tempDir(), 'x'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: --kernels must be one of auto, register, subgroup, workgroup; got fast');
    const p = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'wgsl', '--precision', 'bf16', '-o', join(tempDir(), 'x'));
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('target wgsl does not support --precision bf16');
  });
});

describe('vitc run --target wgsl', () => {
  it('runs fp16 through Dawn on SwiftShader and says that it falls back to f32 buffers', async () => {
    const r = await vitc('run', 'spec/tiny/tiny-base.yaml', '--target', 'wgsl', '--precision', 'fp16', '--top', '3');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/swiftshader.*: register-tiled kernels sharing loads across 4-lane subgroups \(a CPU adapter\)/i);
    expect(r.stderr).toMatch(/has no shader-f16: storing the fp16 model in f32 buffers, rounded to f16 after every kernel/);
    expect(r.stdout).toContain('image 0: top-3 of 10 classes');
    expect(r.stdout).toMatch(/tiny-base on wgsl \(fp16\): forward \d+ ms for batch 1/);
  }, 120_000);
});

describe('the generated module, used as the docs say', () => {
  it('refuses weights that are not bytes or a path, wrong inputs to profile as forward does, an unknown kernel variant, and any call after destroy (letting those before it finish)', async () => {
    const dir = tempDir();
    expect((await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'wgsl', '-o', join(dir, 'b'))).code).toBe(0);
    const mod = await import(pathToFileURL(join(dir, 'b', 'model.mjs')).href);
    const { gpu, adapter } = await nodeGpu();
    const w = 'test/golden/tiny-base/weights.safetensors';
    // It was an "internal error: kernel k0 ... has no fast variant", after onInfo heard "undefined (as asked)".
    await expect(mod.load(w, { gpu, adapter, kernels: 'fast' })).rejects.toThrow('load: options.kernels must be one of auto, register, subgroup, workgroup; got "fast"');
    // A URL object (in a browser, new URL('w.safetensors', import.meta.url)) was read as an empty file.
    await expect(mod.load(pathToFileURL(w), { gpu, adapter })).rejects.toThrow("load: weights must be a safetensors file's bytes (Uint8Array or ArrayBuffer), or its URL as a string (a path in Node); got a URL");
    await expect(mod.load(undefined, { gpu, adapter })).rejects.toThrow('(a path in Node); got undefined');
    const m = await mod.load(w, { gpu, adapter, kernels: 'register' });
    const x = new Float32Array(3 * 32 * 32).map((_, i) => Math.sin(i));
    const y = await m.forward(x, 1);
    // profile ran a short input (and batch 0) and returned logits of garbage.
    await expect(m.profile(new Float32Array(100), 1)).rejects.toThrow('profile: pixels has 100 values; expected 3072 (1 x 3072)');
    await expect(m.profile(new Float32Array(0), 0)).rejects.toThrow('profile: batch must be a positive integer; got 0');
    await expect(m.profile([1, 2, 3], 1)).rejects.toThrow('profile: pixels must be a Float32Array');
    expect((await m.profile(x, 1)).logits).toEqual(y);
    // A forward called before destroy finishes (it rejected with an empty DOMException).
    const pending = m.forward(x, 1);
    // The input is read when forward is called: refilling the array at once changes nothing.
    const reused = new Float32Array(x);
    const again = m.forward(reused, 1);
    reused.fill(0);
    m.destroy();
    expect(await pending).toEqual(y);
    expect(await again).toEqual(y);
    m.destroy();
    // Dawn rejected with a DOMException whose message was empty.
    await expect(m.forward(x, 1)).rejects.toThrow('forward: the model was destroyed (destroy() released its device); load() it again to run it');
    await expect(m.profile(x, 1)).rejects.toThrow('profile: the model was destroyed');
  }, 120_000);
});

describe('the generated module in Node without a Vulkan driver', () => {
  it('says how to point Vulkan at SwiftShader when no adapter is found', async () => {
    const dir = tempDir();
    expect((await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'wgsl', '-o', join(dir, 'b'))).code).toBe(0);
    // As the docs say, with Vulkan pointed at no driver at all (whatever this machine has).
    writeFileSync(join(dir, 'use.mjs'), [
      `import { create } from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href)};`,
      "import { load } from './b/model.mjs';",
      "process.env.VK_ICD_FILENAMES = '/nonexistent/icd.json';",
      `await load(${JSON.stringify(join(process.cwd(), 'test/golden/tiny-base/weights.safetensors'))}, { gpu: create(['backend=vulkan']), adapter: { forceFallbackAdapter: true } })`,
      '  .then(() => console.log("loaded"), (e) => console.log(e.message));',
    ].join('\n'));
    const r = await runAsync(process.execPath, [join(dir, 'use.mjs')]);
    expect(r.stdout.trim()).toBe('WebGPU is available but no adapter was found (requestAdapter returned null); without a Vulkan GPU driver, set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader, which Debian\'s chromium package ships) before create() and pass { adapter: { forceFallbackAdapter: true } }');
  }, 120_000);
});
