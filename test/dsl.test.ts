// The model language: diagnostics with spans, recovery, suggestions, and the formatter.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { vitc } from './helpers.js';
import { formatVitText } from '../src/cli/commands/fmt.js';
import { parseVit } from '../src/dsl/parse.js';
import { lexer, LParen, NewLine, RParen, Semicolon } from '../src/dsl/tokens.js';

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
  it('vitc check finds calls that do not match their callee from the file alone, where elaboration would say it', () => expectErrors(['check', fx('calls.vit')], [
    'test/fixtures/dsl/calls.vit:7:9: error: LayerNorm: missing argument "eps" (float) (declared at stdlib/nn.vit:15:28)',
    'test/fixtures/dsl/calls.vit:8:22: error: conv2d has no parameter "group" (did you mean "groups"?)',
    'test/fixtures/dsl/calls.vit:9:9: error: conv2d: groups must be a positive integer; got 0',
    'test/fixtures/dsl/calls.vit:10:9: error: Linear takes 3 arguments; got 4 (its parameters: x, out, has_bias)',
    'test/fixtures/dsl/calls.vit:11:20: error: softmax: "axis" must be an int; got float 1.5',
    'test/fixtures/dsl/calls.vit:12:28: error: LayerNorm: "eps" is given twice (by position and by name)',
  ]));
  it('a name assigned and never read is one error at the name, not once per layer at the stdlib line that computed it', () => expectErrors(['check', fx('unused.yaml')], [
    'test/fixtures/dsl/unused.vit:7:3: error: the value assigned to "m" here is never used (use it, or remove the assignment)',
  ]));
  it('a stdlib block\'s result that is never read is one error at the user\'s call, not at the stdlib\'s lines', () => expectErrors(['check', fx('unused-call.yaml')], [
    'test/fixtures/dsl/unused-call.vit:11:70: error: the result of this Mlp call is computed but never used',
  ]));
  it('a default of the wrong type is an error at the default, from the file alone', () => expectErrors(['check', fx('default-type.vit')], [
    'test/fixtures/dsl/default-type.vit:2:29: error: the default of "k" must be int; got str "two"',
  ]));
  it('a whole float prints as 24.0, so "must be ints; got [24]" cannot happen', () => expectErrors(['check', fx('float-shape.yaml')], [
    'test/fixtures/dsl/float-shape.vit:5:12: error: the shape of parameter "g" must be a list of positive ints; got list [24.0]',
  ]));
  it('a misspelled keyword is the did-you-mean alone, not also the argument it leaves missing', () => expectErrors(['check', fx('keyword-typo.vit')], [
    'test/fixtures/dsl/keyword-typo.vit:5:21: error: Mlp has no parameter "hiden" (did you mean "hidden"?)',
  ]));
  it('"=" in a condition is one line at the "=" that asks for "==", and parsing goes on', () => expectErrors(['check', fx('eq-syntax.vit')], [
    'test/fixtures/dsl/eq-syntax.vit:3:16: error: expected "{" but found "=" (did you mean "=="? "=" assigns, "==" compares)',
    'test/fixtures/dsl/eq-syntax.vit:5:23: error: expected "{" but found "=" (did you mean "=="? "=" assigns, "==" compares)',
  ]));
  it('a return of the wrong type is reported at the return', () => expectErrors(['check', fx('return-type.yaml')], [
    'test/fixtures/dsl/return-type.vit:3:10: error: b must return tensor; this returns int 4 (declared at test/fixtures/dsl/return-type.vit:2:129)',
  ]));
  it('names a stdlib block that a file defines again as stdlib/..., with its line, not by its install path', async () => {
    const dir = (await import('./helpers.js')).tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'b.vit'), 'import "nn.vit"\n\nblock Linear(x: tensor) -> tensor {\n  return x\n}\n');
    const r = await vitc('check', join(dir, 'b.vit'));
    expect(r.code).toBe(1);
    expect(r.stderr.replaceAll(`${dir}/`, '')).toBe('b.vit:3:7: error: "Linear" is already imported from stdlib/nn.vit:5:7 (rename one of them)');
  });
  it('says the same when a spec elaborates such a call (a builtin\'s unknown keyword, at the argument)', async () => {
    const dir = (await import('./helpers.js')).tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 's.yaml'), `extends: ${join(process.cwd(), 'spec/tiny/_tiny.yaml')}\nblock: b.vit#b\n`);
    writeFileSync(join(dir, 'b.vit'), 'import "vit.vit"\n\nblock b(x: tensor, num_heads: int, mlp_hidden: int, qkv_bias: bool, scale: float, eps: float, act: str, init_values: float?) -> tensor {\n  return encoder_block(softmax(x, axes = 1), num_heads, mlp_hidden, qkv_bias, scale, eps, act, init_values)\n}\n');
    const r = await vitc('check', join(dir, 's.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr.replaceAll(`${dir}/`, '')).toBe('b.vit:4:35: error: softmax has no parameter "axes" (did you mean "axis"?)');
  });
});

describe('offered arguments', () => {
  it('reach a callee that declares them and no other, and print back as written', async () => {
    const text = 'import "nn.vit"\n\nblock takes(x: tensor, layer: int) -> tensor {\n  return x * layer\n}\n\nblock ignores(x: tensor) -> tensor {\n  return x\n}\n\nblock both(x: tensor) -> tensor {\n  return takes(x, layer? = 2) + ignores(x, layer? = 2)\n}\n';
    expect(formatVitText('o.vit', text)).toBe(text);
    const dir = (await import('./helpers.js')).tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'o.vit'), text);
    const r = await vitc('check', join(dir, 'o.vit'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('vitc fmt', () => {
  const vitFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? vitFiles(join(dir, e.name)) : e.name.endsWith('.vit') ? [join(dir, e.name)] : []));
  const parseable = [...vitFiles('stdlib'), ...vitFiles('spec/variants'), ...vitFiles('test/fixtures/model'), ...vitFiles('test/fixtures/dsl').filter((f) => !f.endsWith('syntax.vit'))];

  /** The syntax tree without positions and comments: what the file means. */
  const meaning = (f: string, text: string) => JSON.stringify(parseVit(f, text).ast, (k, v) => (/^(span|nameSpan|calleeSpan|trivia|dangling|inner|file)$/.test(k) ? undefined : v));
  /**
   * Each comment with the number of tokens before it, not counting line breaks and parentheses
   * (which formatting adds and removes): a comment that moves past code changes its count.
   */
  const commentPlaces = (text: string) => {
    let n = 0;
    const lexed = lexer.tokenize(text);
    return lexed.tokens.concat(lexed.groups.comments ?? [])
      .sort((a, b) => a.startOffset - b.startOffset)
      .flatMap((t) => (t.image.startsWith('#') ? [`${n} ${t.image.trimEnd()}`] : [LParen, RParen, NewLine, Semicolon].includes(t.tokenType) ? [] : (n++, [])));
  };

  it.each(parseable)('is idempotent on %s, and keeps its meaning and each comment where it was', (f) => {
    const text = readFileSync(f, 'utf8');
    const once = formatVitText(f, text);
    expect(formatVitText(f, once)).toBe(once);
    expect(meaning(f, once)).toBe(meaning(f, text));
    expect(commentPlaces(once)).toEqual(commentPlaces(text));
  });

  it.each(['tricky', 'c2', 'blank'])('prints the audit file fmt/%s.vit as its .canonical.vit', (name) => {
    expect(formatVitText(`${name}.vit`, readFileSync(fx(`fmt/${name}.vit`), 'utf8'))).toBe(readFileSync(fx(`fmt/${name}.canonical.vit`), 'utf8'));
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

  it('keeps a comment in a signature with its parameter, and one on a header line with its own block, never moving it to the next one', () => {
    const text = 'block a(x: tensor, # the input\n        n: int) -> tensor { # why a exists\n  if n > 1 { # big\n    x = x * 2\n  } else { # small\n    x = x + ( # inside\n      x)\n  }\n  return x\n}\n\nblock c(x: tensor) -> tensor {\n  return x\n}\n';
    const out = formatVitText('c.vit', text);
    expect(out).toBe('block a(\n    x: tensor, # the input\n    n: int\n) -> tensor {\n  # why a exists\n  if n > 1 {\n    # big\n    x = x * 2\n  } else {\n    # small\n    # inside\n    x = x + x\n  }\n  return x\n}\n\nblock c(x: tensor) -> tensor {\n  return x\n}\n');
    expect(formatVitText('c.vit', out)).toBe(out);
  });

  it('keeps own-line comments in a signature before their parameter, those before ")" there, and breaks one whose default value has comments', () => {
    const text = 'block a(\n  # the input\n  x: tensor, n: int\n  # no more\n) -> tensor {\n  return x\n}\n';
    expect(formatVitText('s.vit', text)).toBe('block a(\n    # the input\n    x: tensor,\n    n: int\n    # no more\n) -> tensor {\n  return x\n}\n');
    const dflt = 'block a(x: tensor, ks: int[] = [1, # one\n  2]) -> tensor {\n  return x\n}\n';
    expect(formatVitText('d.vit', dflt)).toBe('block a(\n    x: tensor,\n    ks: int[] = [\n      1, # one\n      2\n    ]\n) -> tensor {\n  return x\n}\n');
  });

  it('keeps comments on the elements of a list or call spread over lines, one element per line', () => {
    const text = 'block b(x: tensor) -> tensor {\n  y = concat([x,   # first\n              x * 2.0,  # second\n              # own line\n              x], axis = -1)\n  return f(y, # y\n    g(x,\n      # last\n      x), k = 1)\n}\n';
    const out = formatVitText('l.vit', text);
    expect(out).toBe([
      'block b(x: tensor) -> tensor {',
      '  y = concat([',
      '    x, # first',
      '    x * 2.0, # second',
      '    # own line',
      '    x',
      '  ], axis = -1)',
      '  return f(',
      '    y, # y',
      '    g(',
      '      x,',
      '      # last',
      '      x',
      '    ),',
      '    k = 1',
      '  )',
      '}',
      '',
    ].join('\n'));
    expect(formatVitText('l.vit', out)).toBe(out);
  });

  it('keeps comments between "}" and "else" there, and "else" after them', () => {
    const text = 'block b(x: tensor, k: bool) -> tensor {\n  if k {\n    x = x * 1.0\n  } # scaled\n  # otherwise\n  else if not k {\n    x = x * 2.0\n  }   else {\n    x = x\n  }\n  return x\n}\n';
    const out = formatVitText('e.vit', text);
    expect(out).toBe('block b(x: tensor, k: bool) -> tensor {\n  if k {\n    x = x * 1.0\n  } # scaled\n  # otherwise\n  else if not k {\n    x = x * 2.0\n  } else {\n    x = x\n  }\n  return x\n}\n');
    expect(formatVitText('e.vit', out)).toBe(out);
  });

  it('keeps a trailing comment after two statements on one line with the second', () => {
    expect(formatVitText('t.vit', 'block b(x: tensor) -> tensor {\n  a = 2; c = 3 # both\n  return x * a * c\n}\n')).toBe('block b(x: tensor) -> tensor {\n  a = 2\n  c = 3 # both\n  return x * a * c\n}\n');
  });

  it('keeps the blank line after a header comment, and one between a comment and what it precedes', () => {
    expect(formatVitText('h.vit', '# header\n\n\nimport "nn.vit"\n# doc of b\nblock b(x: tensor) -> tensor {\n  # a note\n\n  y = x\n  return y\n\n  # the end\n}\n\n# the end of the file\n'))
      .toBe('# header\n\nimport "nn.vit"\n\n# doc of b\nblock b(x: tensor) -> tensor {\n  # a note\n\n  y = x\n  return y\n\n  # the end\n}\n\n# the end of the file\n');
  });

  it('prints double negation as -(-a), not as --a (which reads as a decrement)', () => {
    const text = 'block b(x: tensor) -> tensor {\n  return - -x + -(-(-x)) - -x\n}\n';
    expect(formatVitText('n.vit', text)).toBe('block b(x: tensor) -> tensor {\n  return -(-x) + -(-(-x)) - -x\n}\n');
  });

  it('says in one line that a spec is not a model-language file, naming the one it uses, before writing anything', async () => {
    const r = await vitc('fmt', fx('gated.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('test/fixtures/dsl/gated.yaml: error: vitc fmt: this is a spec, not a model-language file (its "block:" is in test/fixtures/dsl/gated.vit: vitc fmt test/fixtures/dsl/gated.vit)');
    const dir = (await import('./helpers.js')).tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'm.vit'), 'block b(x: tensor) -> tensor { return x }\n');
    writeFileSync(join(dir, 's.yml'), 'extends: ../x.yaml\n');
    const w = await vitc('fmt', '--write', join(dir, 'm.vit'), join(dir, 's.yml'));
    expect(w.code).toBe(1);
    expect(w.stderr.replaceAll(`${dir}/`, '')).toBe('s.yml: error: vitc fmt: this is a spec, not a model-language file (vitc fmt formats model-language files (*.vit); vitc check checks a spec)');
    expect(readFileSync(join(dir, 'm.vit'), 'utf8')).toBe('block b(x: tensor) -> tensor { return x }\n');
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
