// Bounds on how deeply a model-language file nests, checked on the tokens before parsing, so that
// no input can overflow the stack of the parser or of the passes that walk the tree (checker,
// evaluator, formatter). The parser reads operator chains in loops; only brackets and braces make it
// recurse, and each statement's tree is at most as deep as its operators and brackets are many.
import type { IToken, TokenType } from 'chevrotain';
import { error, type Diagnostic } from '../diag/diagnostic.js';
import * as T from './tokens.js';

/** Brackets ( [ and blocks { nested inside each other. */
export const MAX_NESTING = 32;
/** Operators and opening brackets in one statement (an if/else-if chain counts as one statement). */
export const MAX_STATEMENT_OPERATORS = 128;

const OPERATORS: ReadonlySet<TokenType> = new Set([
  T.Plus, T.Minus, T.Star, T.Slash, T.FloorDiv, T.At, T.Pow, T.Eq, T.Ne, T.Lt, T.Gt, T.Le, T.Ge,
  T.And, T.Or, T.Not, T.If, T.Else, T.LParen, T.LBracket,
]);

/** The first place where `tokens` (significant tokens, see tokens.ts) nest too deeply, if any. */
export function checkNesting(file: string, tokens: readonly IToken[]): Diagnostic | undefined {
  const at = (t: IToken) => ({ file, line: t.startLine ?? 0, col: t.startColumn ?? 0 });
  let brackets = 0;
  // One entry per open brace level: the operators so far in its current statement, and where that statement began.
  const statements: { ops: number; start?: IToken }[] = [{ ops: 0 }];
  for (const t of tokens) {
    const ty = t.tokenType;
    const cur = statements[statements.length - 1]!;
    cur.start ??= t;
    if (ty === T.NewLine) {
      statements[statements.length - 1] = { ops: 0 };
      brackets = 0;
      continue;
    }
    if (ty === T.LBrace) {
      statements.push({ ops: 0 });
      brackets = 0;
    } else if (ty === T.RBrace) {
      if (statements.length > 1) statements.pop();
      brackets = 0;
    } else if (ty === T.LParen || ty === T.LBracket) {
      brackets++;
    } else if ((ty === T.RParen || ty === T.RBracket) && brackets > 0) {
      brackets--;
    }
    if (brackets + statements.length - 1 > MAX_NESTING) {
      return error('dsl/nesting', `brackets and blocks nest more than ${MAX_NESTING} deep here`, at(t), 'give inner parts names of their own');
    }
    if (OPERATORS.has(ty) && ++cur.ops > MAX_STATEMENT_OPERATORS) {
      return error('dsl/nesting', `this statement has more than ${MAX_STATEMENT_OPERATORS} operators and brackets`, at(cur.start), 'split it into several statements');
    }
  }
  return undefined;
}
