// The parser on broken and extreme input: every problem is a positioned diagnostic, never a crash or
// a stack overflow; operator chains keep their meaning although they are read in loops.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../diag/diagnostic.js';
import { parseVit, parserFallbacks } from './parse.js';
import { MAX_NESTING, MAX_STATEMENT_OPERATORS } from './nesting.js';
import type { Expr } from './ast.js';

const block = (body: string) => `block a(x: tensor) -> tensor {\n  ${body}\n}\n`;
const errors = (text: string) => parseVit('f.vit', text).diagnostics.map(formatDiagnostic);

describe('syntax errors that recovery used to turn into crashes', () => {
  it.each([
    ['a missing "}"', 'block a(x: tensor) -> tensor {\n  return x\n', ['f.vit:2:12: error: expected "}" but found the end of the file']],
    ['the end of the file inside a rule', 'block a(x: tensor) -> tensor {\n  y = x +', ['f.vit:2:10: error: expected an expression but found the end of the file']],
    ['a keyword as a block name', 'block if(x: tensor) -> tensor {\n  return x\n}\n', ['f.vit:1:7: error: expected a name but found "if"']],
    ['a keyword as a variable', block('if = x\n  return x'), ['f.vit:2:6: error: expected an expression but found "="']],
    ['"block" and nothing else', 'block\n', ['f.vit:1:7: error: expected a name but found the end of the file']],
    ['x @@ x', block('return x @@ x'), ['f.vit:2:13: error: expected an expression but found "@"']],
    ['a statement outside any block', 'x = 1\n', ['f.vit:1:1: error: expected "block", "model" or "import" but found "x"']],
    ['an unclosed bracket before the next statement', 'model m() {\n input x: [B, 3\n return x\n', ['f.vit:2:16: error: expected "]" but found the end of the line', 'f.vit:3:11: error: expected "}" but found the end of the file']],
  ])('%s', (_, text, want) => expect(errors(text)).toEqual(want));

  it('reports a non-ASCII name as the character, once per place, with what names may be', () => {
    expect(errors(block('é = x\n  return é'))).toEqual([
      'f.vit:2:3: error: unexpected character "é" (names are ASCII letters, digits and _)',
      'f.vit:3:10: error: unexpected character "é" (names are ASCII letters, digits and _)',
    ]);
  });

  it('says that a string is not closed, rather than that a quote is unexpected', () => {
    expect(errors(block('return activation("gelu, x)'))).toEqual(['f.vit:2:21: error: this string has no closing " on its line (a string ends on the line it starts)']);
    expect(errors('import "nn.vit\n')).toEqual(['f.vit:1:8: error: this string has no closing " on its line (a string ends on the line it starts)']);
  });

  it('escapes control and line-separator characters it quotes', () => {
    expect(errors(block('y = x \u2028 x\n  return y'))).toEqual(['f.vit:2:9: error: unexpected character "\\u2028"']);
    expect(errors(block('y = x \u0007\n  return y'))).toEqual(['f.vit:2:9: error: unexpected character "\\u0007"']);
  });

  it('never throws on random token soup or mutated files, and positions every diagnostic (recovery values, not the fallback)', () => {
    const before = parserFallbacks();
    const toks = ['block', 'model', 'param', 'input', 'if', 'else', 'repeat', 'as', 'return', 'import', 'true', 'none', 'and', 'not', 'x', 'Linear', '1', '2.5', '"s"', '\n', ';', '->', '**', '//', '==', '<=', '=', '+', '-', '*', '@', '(', ')', '[', ']', '{', '}', ',', ':', '.', '?', '#c\n'];
    const base = 'block a(x: tensor, n: int = 2) -> tensor {\n  y = Linear(x, 3) as fc\n  if n > 1 { y = -y } else { y = y * 2 }\n  repeat n as blocks { y = y + x[:, 0:1] }\n  return y\n}\n';
    let seed = 7;
    const rnd = (k: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % k; };
    for (let i = 0; i < 3000; i++) {
      let text: string;
      if (i % 2) text = Array.from({ length: 1 + rnd(40) }, () => toks[rnd(toks.length)]).join(' ');
      else {
        const a = [...base];
        for (let j = rnd(4); j >= 0; j--) a.splice(rnd(a.length), rnd(2), toks[rnd(toks.length)]!);
        text = a.join('');
      }
      const { diagnostics } = parseVit('f.vit', text);
      for (const d of diagnostics) expect(d.span!.line, JSON.stringify(text)).toBeGreaterThanOrEqual(1);
      expect(parserFallbacks() - before, JSON.stringify(text)).toBe(0);
    }
  });
});

describe('nesting limits', () => {
  const parens = (n: number) => `${'('.repeat(n)}x${')'.repeat(n)}`;
  it(`parses brackets and blocks nested ${MAX_NESTING} deep`, () => {
    expect(errors(block(`return ${parens(MAX_NESTING - 1)}`))).toEqual([]);
  });
  it('refuses deeper nesting (200 parentheses) at the bracket that goes too deep', () => {
    expect(errors(block(`return ${parens(200)}`))).toEqual([`f.vit:2:${10 + MAX_NESTING - 1}: error: brackets and blocks nest more than ${MAX_NESTING} deep here (give inner parts names of their own)`]);
    const ifs = Array.from({ length: 40 }, () => 'if true {').join(' ') + ' y = 1 ' + '}'.repeat(40);
    expect(errors(block(`${ifs}\n  return x`))[0]).toMatch(/^f\.vit:2:\d+: error: brackets and blocks nest more than 32 deep here/);
  });
  it.each([
    // [name, one link of the chain, operators per link]
    ['+', (n: number) => `return ${Array(n + 1).fill('x').join(' + ')}`, 1],
    ['unary minus', (n: number) => `return ${'- '.repeat(n)}x`, 1],
    ['not', (n: number) => `y = ${'not '.repeat(n)}true\n  return x`, 1],
    ['conditional', (n: number) => `return ${'x if true else '.repeat(n)}x`, 2],
    ['**', (n: number) => `y = ${Array(n + 1).fill('1').join(' ** ')}\n  return x`, 1],
    ['else if', (n: number) => `if true { y = 1 }${' else if true { y = 1 }'.repeat(n)}\n  return x`, 2],
    ['index', (n: number) => `return x${'[0]'.repeat(n)}`, 1],
  ] as const)('reads a 10k-long %s chain only up to the operator limit, with no stack overflow', (_, chain, per) => {
    expect(errors(block(chain(Math.floor((MAX_STATEMENT_OPERATORS - 1) / per))))).toEqual([]);
    expect(errors(block(chain(10000)))).toEqual([`f.vit:2:3: error: this statement has more than ${MAX_STATEMENT_OPERATORS} operators and brackets (split it into several statements)`]);
  });
  it('reads a 10k-part dotted scope name', () => {
    const { ast, diagnostics } = parseVit('f.vit', block(`return Linear(x, 3) as ${Array(10000).fill('a').join('.')}`));
    expect(diagnostics).toEqual([]);
    const ret = ast.items[0]!.body.stmts[0]!;
    expect(ret.kind === 'return' && ret.values[0]!.kind === 'call' && ret.values[0]!.scope!.parts.length).toBe(10000);
  });
});

describe('operator chains read in loops keep their meaning', () => {
  const show = (e: Expr): string => {
    switch (e.kind) {
      case 'binary': return `(${show(e.left)} ${e.op} ${show(e.right)})`;
      case 'unary': return `(${e.op} ${show(e.arg)})`;
      case 'cond': return `(${show(e.then)} if ${show(e.cond)} else ${show(e.else)})`;
      case 'num': return e.text;
      case 'bool': return String(e.value);
      case 'name': return e.name;
      default: return e.kind;
    }
  };
  it.each([
    ['2 ** -1 ** 2', '(2 ** (- (1 ** 2)))'],
    ['-2 ** 2', '(- (2 ** 2))'],
    ['- - 2 ** 2', '(- (- (2 ** 2)))'],
    ['1 if true else 2 if false else 3', '(1 if true else (2 if false else 3))'],
    ['not not true and not false', '((not (not true)) and (not false))'],
    ['1 - 2 - 3', '((1 - 2) - 3)'],
  ])('%s', (text, tree) => {
    const { ast, diagnostics } = parseVit('f.vit', block(`y = ${text}\n  return x`));
    expect(diagnostics).toEqual([]);
    const s = ast.items[0]!.body.stmts[0]!;
    expect(s.kind === 'assign' && show(s.value)).toBe(tree);
  });
  it('nests an else-if chain as before', () => {
    const { ast } = parseVit('f.vit', block('if x { y = 1 } else if x { y = 2 } else if x { y = 3 } else { y = 4 }\n  return y'));
    let s = ast.items[0]!.body.stmts[0]!;
    const links: number[] = [];
    while (s.kind === 'if') { links.push(s.span.col); if (!s.else || 'stmts' in s.else) break; s = s.else; }
    expect(links).toEqual([3, 23, 43]);
  });
});
