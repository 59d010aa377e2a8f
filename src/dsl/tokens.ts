// Tokens of vitc's model language. Newlines end statements, except inside ( ) and [ ].
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

export const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'a name' });
const kw = (word: string) => createToken({ name: `Kw_${word}`, pattern: new RegExp(`${word}\\b`), longer_alt: Ident, label: `"${word}"` });

export const Block = kw('block');
export const Model = kw('model');
export const Param = kw('param');
export const Input = kw('input');
export const If = kw('if');
export const Else = kw('else');
export const Repeat = kw('repeat');
export const As = kw('as');
export const Return = kw('return');
export const Import = kw('import');
export const True = kw('true');
export const False = kw('false');
export const None = kw('none');
export const And = kw('and');
export const Or = kw('or');
export const Not = kw('not');

export const NumberLit = createToken({ name: 'Number', pattern: /(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/, label: 'a number' });
export const StringLit = createToken({ name: 'String', pattern: /"(?:[^"\\\n]|\\.)*"/, label: 'a string' });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n\r]*/, group: 'comments' });
export const NewLine = createToken({ name: 'NewLine', pattern: /\r?\n|\r/, label: 'a new line', line_breaks: true });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/, label: '";"' });
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t]+/, group: Lexer.SKIPPED });

const punct = (name: string, text: string) => createToken({ name, pattern: new RegExp(text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), label: `"${text}"` });
export const Arrow = punct('Arrow', '->');
export const Pow = punct('Pow', '**');
export const FloorDiv = punct('FloorDiv', '//');
export const Eq = punct('Eq', '==');
export const Ne = punct('Ne', '!=');
export const Le = punct('Le', '<=');
export const Ge = punct('Ge', '>=');
export const Lt = punct('Lt', '<');
export const Gt = punct('Gt', '>');
export const Assign = punct('Assign', '=');
export const Plus = punct('Plus', '+');
export const Minus = punct('Minus', '-');
export const Star = punct('Star', '*');
export const Slash = punct('Slash', '/');
export const At = punct('At', '@');
export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');
export const LBracket = punct('LBracket', '[');
export const RBracket = punct('RBracket', ']');
export const LBrace = punct('LBrace', '{');
export const RBrace = punct('RBrace', '}');
export const Comma = punct('Comma', ',');
export const Colon = punct('Colon', ':');
export const Dot = punct('Dot', '.');
export const Question = punct('Question', '?');

export const allTokens: TokenType[] = [
  WhiteSpace, Comment, NewLine, Semicolon,
  Block, Model, Param, Input, If, Else, Repeat, As, Return, Import, True, False, None, And, Or, Not,
  Ident, NumberLit, StringLit,
  Arrow, Pow, FloorDiv, Eq, Ne, Le, Ge, Lt, Gt, Assign, Plus, Minus, Star, Slash, At,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace, Comma, Colon, Dot, Question,
];

export const lexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

/**
 * Statement separators: a newline or ";" ends a statement, but newlines inside ( ) or [ ] are
 * line continuations, and runs of separators collapse to one.
 */
const STATEMENT_KEYWORDS = new Set<TokenType>([Return, Param, Input, If, Repeat, Block, Model, Import]);

/** Does the line after newline `nl` start with a statement keyword? Then an open bracket before it was never closed. */
function startsStatement(tokens: readonly IToken[], nl: IToken): boolean {
  const i = tokens.indexOf(nl);
  const next = tokens[i + 1];
  return next !== undefined && STATEMENT_KEYWORDS.has(next.tokenType);
}

export function significantTokens(tokens: readonly IToken[]): IToken[] {
  const out: IToken[] = [];
  let depth = 0;
  for (const t of tokens) {
    const ty = t.tokenType;
    if (ty === LParen || ty === LBracket) depth++;
    else if ((ty === RParen || ty === RBracket) && depth > 0) depth--;
    // Braces never appear inside ( ) or [ ]: an unclosed bracket must not swallow the lines after it.
    else if (ty === LBrace || ty === RBrace) depth = 0;
    if (ty === NewLine || ty === Semicolon) {
      if (depth > 0 && !startsStatement(tokens, t)) continue;
      depth = 0;
      const prev = out[out.length - 1];
      if (!prev || prev.tokenType === NewLine || prev.tokenType === LBrace) continue;
      out.push(ty === Semicolon ? { ...t, tokenType: NewLine, tokenTypeIdx: NewLine.tokenTypeIdx! } : t);
      continue;
    }
    // A separator before "}" or "else" is not needed; drop it so `}\nelse` and `x\n}` parse.
    if ((ty === RBrace || ty === Else) && out.length && out[out.length - 1]!.tokenType === NewLine) out.pop();
    out.push(t);
  }
  while (out.length && out[out.length - 1]!.tokenType === NewLine) out.pop();
  return out;
}
