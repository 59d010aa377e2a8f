// The page of `vitc build --target wgsl --page` in real headless Chromium (Debian's chromium package,
// driven by playwright-core, WebGPU on SwiftShader): it classifies an image as `vitc run` does on the
// same file, and shows its errors on the page. UPDATE_SCREENSHOTS=1 rewrites docs/img/wgsl-page.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { compile, writeBuildDir } from '../src/compile.js';
import { serveDirectory } from '../src/serve/server.js';
import { main } from '../src/cli/main.js';
import { hasChromium, launchChromium, WEBGPU_FLAGS } from './chromium.js';

const LABELS = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips', 'lilac', 'iris', 'poppy', 'aster', 'orchid'];

const base = mkdtempSync(join(tmpdir(), 'vitc-page-'));
const dir = join(base, 'build');
const image = join(base, 'flower.png'), broken = join(base, 'broken.png'), labels = join(base, 'class_indices.json');
const right = 'test/golden/tiny-base/weights.safetensors', wrong = 'test/golden/tiny-p14/weights.safetensors';
let server: Server;
let url: string;
let browser: Browser;

beforeAll(async () => {
  const compiled = await compile('spec/tiny/tiny-base.yaml', 'wgsl', { precision: 'fp32', seed: 0, targetArgs: { page: true } });
  writeBuildDir(dir, compiled.files);
  // A 61x45 picture (not the model's 32x32: the page resizes it), smooth shapes and some noise.
  const w = 61, h = 45, px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 3, r = Math.hypot(x - 30, y - 22);
    px[i] = r < 14 ? 230 : (x * 4) % 256;
    px[i + 1] = r < 14 ? 190 - r * 5 : (y * 5 + ((x * 7919) % 23)) % 256;
    px[i + 2] = r < 6 ? 40 : 90 + ((x + y) % 50);
  }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(image);
  writeFileSync(broken, 'this is not a PNG');
  writeFileSync(labels, JSON.stringify(Object.fromEntries(LABELS.map((l, i) => [String(i), l]))));
  server = serveDirectory({ dir, extra: { '/weights/right.safetensors': join(process.cwd(), right), '/weights/wrong.safetensors': join(process.cwd(), wrong), '/labels/class_indices.json': labels } });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await launchChromium(WEBGPU_FLAGS);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  rmSync(base, { recursive: true, force: true });
});

async function results(page: Page): Promise<{ label: string; prob: number }[]> {
  await page.waitForSelector('#results li', { timeout: 120_000 });
  return page.$$eval('#results li', (lis) => lis.map((li) => ({ label: li.querySelector('.name')!.textContent!, prob: Number((li as HTMLElement).dataset.prob) })));
}

async function errorText(page: Page): Promise<string> {
  await page.waitForSelector('#error:not([hidden])', { timeout: 120_000 });
  return (await page.textContent('#error')) ?? '';
}

describe.skipIf(!hasChromium)('the wgsl page in headless Chromium', () => {
  it('classifies a picked image as vitc run does on the same file', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 620 } });
    await page.goto(`${url}?weights=weights/right.safetensors&labels=labels/class_indices.json`);
    await page.setInputFiles('#image-file', image);
    const top = await results(page);
    expect(top).toHaveLength(5);
    const shot = join(base, 'wgsl-page.png');
    await page.screenshot({ path: shot });
    if (process.env.UPDATE_SCREENSHOTS) {
      mkdirSync('docs/img', { recursive: true });
      copyFileSync(shot, 'docs/img/wgsl-page.png');
    }
    await page.close();

    const out: string[] = [];
    const code = await main(['run', 'spec/tiny/tiny-base.yaml', '--target', 'wgsl', '--weights', right, '--image', image, '--labels', labels, '--json'], { out: (s) => out.push(s), err: () => {} });
    expect(code).toBe(0);
    const cli = (JSON.parse(out.join('\n')) as { results: { top: { label: string; prob: number }[] }[] }).results[0]!.top;
    expect(top.map((r) => r.label)).toEqual(cli.map((r) => r.label));
    for (let i = 0; i < 5; i++) expect(Math.abs(top[i]!.prob - cli[i]!.prob)).toBeLessThan(1e-6);
  }, 300_000);

  it('shows the error of a weights file of another model on the page', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.setInputFiles('#weights-file', wrong);
    const text = await errorText(page);
    expect(text).toContain('these weights do not fit tiny-base');
    expect(text).toContain('patch_embed.proj.weight');
    // A PyTorch checkpoint picked as the weights: it was taken for an image ('cannot decode model-legacy.pth as an image').
    await page.setInputFiles('#weights-file', 'test/fixtures/import/model-legacy.pth');
    await page.waitForFunction(() => (document.getElementById('error')?.textContent ?? '').includes('model-legacy.pth'));
    expect(await errorText(page)).toBe('model-legacy.pth: not a safetensors file: no JSON header after the 8-byte size');
    await page.close();
  }, 120_000);

  it('takes other weights picked while a forward runs without an error on the page', async () => {
    const page = await browser.newPage();
    // Every readback waits 1 s: the first forward is still running when the second weights are picked.
    await page.addInitScript(() => {
      const map = GPUBuffer.prototype.mapAsync;
      GPUBuffer.prototype.mapAsync = function (...args) { return new Promise((ok) => setTimeout(ok, 1000)).then(() => map.apply(this, args)); };
      // Every text the error box shows, however briefly (the next classify clears it).
      const seen: string[] = ((window as unknown as { seenErrors: string[] }).seenErrors = []);
      addEventListener('DOMContentLoaded', () => {
        const box = document.getElementById('error')!;
        new MutationObserver(() => { if (box.textContent) seen.push(box.textContent); }).observe(box, { childList: true, characterData: true, subtree: true });
      });
    });
    await page.goto(`${url}?weights=weights/right.safetensors`);
    await page.setInputFiles('#image-file', image);
    await page.waitForFunction(() => (document.getElementById('status')?.textContent ?? '').startsWith('classifying'), undefined, { timeout: 120_000 });
    await page.setInputFiles('#weights-file', right);
    // The first pass's result was shown with state.model already gone: "Cannot read properties of null".
    expect(await results(page)).toHaveLength(5);
    await page.waitForFunction(() => (document.getElementById('status')?.textContent ?? '').includes('weights weights.safetensors'), undefined, { timeout: 120_000 });
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { seenErrors: string[] }).seenErrors)).toEqual([]);
    await page.close();
  }, 120_000);

  it('shows an image that cannot be decoded, and a browser without WebGPU, on the page', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.setInputFiles('#image-file', broken);
    expect(await errorText(page)).toContain('cannot decode broken.png');
    await page.close();
    const bare = await browser.newPage();
    await bare.addInitScript(() => { Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }); });
    await bare.goto(url);
    expect(await errorText(bare)).toContain('no WebGPU');
    await bare.close();
  }, 120_000);
});
