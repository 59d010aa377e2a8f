// docs/errors.md lists every diagnostic code the code uses, and nothing it does not.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const doc = readFileSync('docs/errors.md', 'utf8');
const documented = new Set([...doc.matchAll(/`([a-z]+\/[a-z][a-z0-9-]*)`/g)].map((m) => m[1]!).filter((c) => !c.startsWith('stdlib/')));
const prefixes = new Set([...documented].map((c) => c.split('/')[0]!));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.(ts|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

describe('docs/errors.md', () => {
  const text = sources('src').map((f) => readFileSync(f, 'utf8')).join('\n');
  // A code is a 'prefix/name' literal; literals with the prefixes the page documents are codes (the
  // weights importer's JAX names such as 'head/kernel' have other prefixes).
  // (and MIME types such as 'image/png', which the server sends, are not codes).
  const MIME = /^image\/(jpeg|png|gif|webp|tiff|svg)$/;
  const used = new Set([...text.matchAll(/'([a-z]+)\/([a-z][a-z0-9-]*)'/g)].filter((m) => prefixes.has(m[1]!)).map((m) => `${m[1]}/${m[2]}`).filter((c) => !MIME.test(c)));
  it('lists every code the code uses', () => {
    expect([...used].filter((c) => !documented.has(c)).sort(), 'add these to docs/errors.md').toEqual([]);
  });
  it('lists no code the code does not use', () => {
    expect([...documented].filter((c) => !used.has(c)).sort()).toEqual([]);
  });
  it('has no diagnostic with a prefix it does not know', () => {
    const calls = [...text.matchAll(/\b(?:fail|error|note|warning)\('([a-z]+)\/[a-z0-9-]+'/g)].map((m) => m[1]!);
    expect([...new Set(calls)].filter((p) => !prefixes.has(p)).sort()).toEqual([]);
  });
});
