import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { resolveRequest, serveDirectory } from './server.js';

const base = mkdtempSync(join(tmpdir(), 'vitc-serve-'));
const dir = join(base, 'build');
mkdirSync(join(dir, 'shaders'), { recursive: true });
writeFileSync(join(dir, 'index.html'), '<!doctype html><p>page</p>');
writeFileSync(join(dir, 'model.mjs'), 'export const x = 1;\n');
writeFileSync(join(dir, 'shaders', '00-gemm.wgsl'), '// wgsl\n');
writeFileSync(join(base, 'secret.txt'), 'not served\n');
writeFileSync(join(base, 'w.safetensors'), 'weights');

let server: Server;
let url: string;
beforeAll(async () => {
  server = serveDirectory({ dir, extra: { '/weights/w.safetensors': join(base, 'w.safetensors') } });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(base, { recursive: true, force: true });
});

describe('vitc serve', () => {
  it('serves the page and the module with cross-origin isolation headers and their types', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('page');
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const mod = await fetch(`${url}/model.mjs`);
    expect(mod.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${url}/shaders/00-gemm.wgsl`)).headers.get('content-type')).toMatch(/^text\/plain/);
    const w = await fetch(`${url}/weights/w.safetensors`);
    expect(w.headers.get('content-type')).toBe('application/octet-stream');
    expect(await w.text()).toBe('weights');
  });

  it('refuses paths outside the directory, missing files and other methods', async () => {
    expect(resolveRequest({ dir }, '/../secret.txt')).toBeUndefined();
    expect(resolveRequest({ dir }, '/%2e%2e/secret.txt')).toBeUndefined();
    expect(resolveRequest({ dir }, '/%E0%A4%A')).toBeUndefined();
    expect((await fetch(`${url}/%2e%2e/secret.txt`)).status).toBe(404);
    expect((await fetch(`${url}/nothing.js`)).status).toBe(404);
    expect((await fetch(`${url}/`, { method: 'POST', body: 'x' })).status).toBe(405);
  });
});
