// The model language: diagnostics with spans, recovery, suggestions, and the formatter.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { vitc } from './helpers.js';
import { formatVitText } from '../src/cli/commands/fmt.js';

const fx = (f: string) => `test/fixtures/dsl/${f}`;

async function expectErrors(argv: string[], lines: string[]) {
  const r = await vitc(...argv);
  expect(r.code).toBe(1);
  expect(r.stderr.split('\n')).toEqual(lines);
}

describe('model-language diagnostics', () => {
  it('reports several syntax errors in one run, each with what was expected', () => expectErrors(['check', fx('syntax.vit')], [
    'test/fixtures/dsl/syntax.vit:4:19: error: expected ")" but found "as"',
    'test/fixtures/dsl/syntax.vit:10:1: error: expected an expression but found "}"',
    'test/fixtures/dsl/syntax.vit:12:15: error: expected ")" but found "tensor"',
  ]));
  it('suggests the closest name for unknown identifiers, all at once', () => expectErrors(['check', fx('names.yaml')], [
    'test/fixtures/dsl/names.vit:4:7: error: unknown block or function "LayerNrom" (did you mean "LayerNorm"?)',
    'test/fixtures/dsl/names.vit:5:27: error: unknown name "num_head" (did you mean "num_heads"?)',
  ]));
  it('points a shape error at the expression', () => expectErrors(['check', fx('shape.yaml')], [
    'test/fixtures/dsl/shape.vit:6:14: error: matmul inner dims differ: [B,17,48] @ [B,17,48] (48 vs 17) (operands: f32[B,17,48], f32[B,17,48])',
  ]));
  it('points a type error at the argument', () => expectErrors(['check', fx('types.yaml')], [
    'test/fixtures/dsl/types.vit:4:24: error: Linear: "out" must be int; got float 0.28867513459481287',
  ]));
  it('says which blocks a file has when the spec names a missing one', () => expectErrors(['check', fx('missing-block.yaml')], [
    'test/fixtures/dsl/missing-block.yaml:2:8: error: stdlib/blocks/parallel.vit has no block "paralel_block" (did you mean "parallel_block"?)',
  ]));
});

describe('vitc fmt', () => {
  const vitFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? vitFiles(join(dir, e.name)) : e.name.endsWith('.vit') ? [join(dir, e.name)] : []));
  const parseable = [...vitFiles('stdlib'), ...vitFiles('test/fixtures/dsl').filter((f) => !f.endsWith('syntax.vit'))];

  it.each(parseable)('is idempotent on %s', (f) => {
    const once = formatVitText(f, readFileSync(f, 'utf8'));
    expect(formatVitText(f, once)).toBe(once);
  });

  it.each(vitFiles('stdlib'))('leaves the stdlib file %s unchanged (it is kept canonical)', (f) => {
    const text = readFileSync(f, 'utf8');
    expect(formatVitText(f, text)).toBe(text);
  });

  it('normalizes layout, spacing and parentheses but keeps comments and single blank lines', () => {
    const out = formatVitText('messy.vit', readFileSync(fx('messy.vit'), 'utf8'));
    expect(out).toContain('block messy(x: tensor, n: int = 2, f: float? = none) -> tensor {\n');
    expect(out).toContain('  y = (x + x) * 2 # doubled\n  z = x[:, 0]\n  w = x[:, 1:]\n\n  # a comment before an if\n');
    expect(out).toContain('  if n > 1 and not f == none {\n    y = y * f\n  } else if n == 1 {\n    y = -y\n  } else {\n    y = y / ((2 + 3) * 4)\n  }\n');
    expect(out).toContain('  repeat n as stack.layers {\n    y = Linear(y, size(x, -1)) as fc\n  }\n');
    expect(out).toContain('  return y + mean(w, axis = 1, keepdim = true) - (y - (y - y)) # trailing\n');
    expect(out).not.toContain('\n\n\n');
  });

  it('--check exits 1 for a file that is not canonical, and fmt prints diagnostics for bad syntax', async () => {
    const r = await vitc('fmt', '--check', fx('messy.vit'), 'stdlib/vit.vit');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('test/fixtures/dsl/messy.vit: not in canonical form (vitc fmt --write test/fixtures/dsl/messy.vit)');
    const bad = await vitc('fmt', fx('syntax.vit'));
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')[0]).toBe('test/fixtures/dsl/syntax.vit:4:19: error: expected ")" but found "as"');
  });
});

describe('the worked example in docs/language.md', () => {
  it('is the fixture gated.vit, and compiles with blocks.N.gate weights', async () => {
    const doc = readFileSync('docs/language.md', 'utf8');
    const code = /1\. Write `spec\/blocks\/gated\.vit` next to your spec:\n\n {3}```\n([\s\S]*?) {3}```/.exec(doc)![1]!.split('\n').map((l) => l.slice(3)).join('\n').trimEnd() + '\n';
    expect(code).toBe(readFileSync(fx('gated.vit'), 'utf8'));
    const r = await vitc('inspect', fx('gated.yaml'), '--json');
    expect(r.code).toBe(0);
    const dir = (await import('./helpers.js')).tempDir();
    expect((await vitc('weights', fx('gated.yaml'), '-o', join(dir, 'w.safetensors'))).code).toBe(0);
    const names = Object.keys((await import('../src/weights/safetensors.js')).parseSafetensors(new Uint8Array(readFileSync(join(dir, 'w.safetensors')))));
    expect(names).toContain('blocks.1.gate');
    expect(names).toContain('blocks.1.mlp.fc2.weight');
  });
});
