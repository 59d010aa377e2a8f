// The JS target's model.mjs in real headless Chromium (Debian's chromium, driven by playwright-core):
// on a cross-origin isolated page it runs the forward pass on module Web Workers over one shared
// WebAssembly memory with the SIMD micro-kernel, and gives the same bits as Node's worker threads;
// on a page that is not isolated (no SharedArrayBuffer) it runs on the page's own thread, same bits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { compile, writeBuildDir } from '../src/compile.js';
import { resolveRequest, serveDirectory } from '../src/serve/server.js';
import { hasChromium, launchChromium } from './chromium.js';

// The mid-size golden: full 4x8 tiles, 197 tokens, head_dim 64.
const SPEC = 'spec/tiny/tiny-mid.yaml';
const WEIGHTS = 'test/golden/tiny-mid/weights.safetensors';

const base = mkdtempSync(join(tmpdir(), 'vitc-js-browser-'));
const dir = join(base, 'build');
const listen = async (s: Server) => {
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
};
let isolated: Server, plain: Server, browser: Browser;
let isolatedUrl: string, plainUrl: string;
let batch: number, input: Float32Array;

beforeAll(async () => {
  const compiled = await compile(SPEC, 'js', { precision: 'fp32', seed: 0 });
  writeBuildDir(dir, compiled.files);
  const page = join(base, 'index.html');
  writeFileSync(page, '<!doctype html><title>vitc js</title>\n');
  const extra = { '/weights.safetensors': resolve(WEIGHTS), '/test.html': page };
  isolated = serveDirectory({ dir, extra });
  isolatedUrl = await listen(isolated);
  // The same files without the isolation headers: a page where SharedArrayBuffer does not exist.
  plain = createServer((req, res) => {
    const file = resolveRequest({ dir, extra }, req.url ?? '/');
    if (!file) return void res.writeHead(404).end();
    const type = file.endsWith('.mjs') ? 'text/javascript' : file.endsWith('.html') ? 'text/html' : 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type }).end(readFileSync(file));
  });
  plainUrl = await listen(plain);
  browser = await launchChromium();
  batch = 2;
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { inputs: { shape: (number | string)[] }[] };
  const per = m.inputs[0]!.shape.slice(1).reduce<number>((a, d) => a * Number(d), 1);
  input = new Float32Array(batch * per).map((_, i) => Math.sin(i * 0.37) * 1.5);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  isolated?.close();
  plain?.close();
  rmSync(base, { recursive: true, force: true });
});

interface PageRun { isolated: boolean; threads: number; simd: boolean; out: number[] }

async function runInPage(url: string, threads: number): Promise<PageRun> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${url}test.html`);
    // A string, not a function: vitest would rewrite a function's import() for Node.
    const r = await page.evaluate(`(async ({ data, batch, threads }) => {
      const mod = await import('/model.mjs');
      const bytes = new Uint8Array(await (await fetch('/weights.safetensors')).arrayBuffer());
      const m = await mod.load(bytes, { threads });
      const out = await m.forward(new Float32Array(data), batch);
      await m.dispose();
      return { isolated: globalThis.crossOriginIsolated === true, threads: m.threads, simd: m.simd, out: Array.from(out) };
    })(${JSON.stringify({ data: Array.from(input), batch, threads })})`) as PageRun;
    expect(errors).toEqual([]);
    return r;
  } finally {
    await page.close();
  }
}

async function inNode(threads: number): Promise<Float32Array> {
  const mod = await import(`${pathToFileURL(join(dir, 'model.mjs')).href}?node${threads}`) as { load: (b: Uint8Array, o: object) => Promise<{ forward: (x: Float32Array, b: number) => Promise<Float32Array>; dispose: () => Promise<void> }> };
  const m = await mod.load(new Uint8Array(readFileSync(WEIGHTS)), { threads });
  try {
    return await m.forward(input, batch);
  } finally {
    await m.dispose();
  }
}

describe.skipIf(!hasChromium)('model.mjs in headless Chromium', () => {
  it('runs on Web Workers with SIMD on an isolated page, bit-identical to Node', async () => {
    const r = await runInPage(isolatedUrl, 2);
    expect(r).toMatchObject({ isolated: true, threads: 2, simd: true });
    const node = await inNode(2);
    expect(Float32Array.from(r.out)).toEqual(node);
  }, 180_000);

  it('says that a path is read only in Node, and how to pass the bytes instead', async () => {
    // It failed with the browser's 'Failed to resolve module specifier "node:fs/promises"'.
    const page = await browser.newPage();
    try {
      await page.goto(`${isolatedUrl}test.html`);
      const message = await page.evaluate(`(async () => {
        const mod = await import('/model.mjs');
        return mod.load('/weights.safetensors').then(() => 'loaded', (e) => e.message);
      })()`);
      expect(message).toBe('load: a path is read only in Node; here, pass the file\'s bytes: new Uint8Array(await (await fetch("/weights.safetensors")).arrayBuffer())');
    } finally {
      await page.close();
    }
  }, 180_000);

  it('runs on the page thread where SharedArrayBuffer is missing, the same bits', async () => {
    const r = await runInPage(plainUrl, 2);
    expect(r).toMatchObject({ isolated: false, threads: 1, simd: true });
    expect(Float32Array.from(r.out)).toEqual(await inNode(1));
  }, 180_000);
});
