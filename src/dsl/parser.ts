// The model language's parser (chevrotain, with error recovery so one run reports several errors).
import { EmbeddedActionsParser, EOF, tokenLabel, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import type { Span } from '../diag/diagnostic.js';
import * as T from './tokens.js';
import { newTrivia, type Arg, type BaseType, type BinOp, type BlockDef, type Body, type Expr, type IfStmt, type ImportDecl, type ParamDef, type ScopeName, type Stmt, type Subscript, type TypeRef } from './ast.js';
import { quote } from '../diag/quote.js';

const label = (t: TokenType) => (t === EOF ? 'the end of the file' : tokenLabel(t));
const shown = (t: IToken) => (t.tokenType === T.NewLine ? 'the end of the line' : t.image === '' ? 'the end of the file' : quote(t.image, 32));

const EXPRESSION_RULES = ['expr', 'condition', 'orExpr', 'andExpr', 'notExpr', 'cmpExpr', 'addExpr', 'mulExpr', 'unaryExpr', 'powExpr', 'postfix', 'primary', 'arg', 'subscript'];
const RULE_WORDS: Record<string, string> = {
  ...Object.fromEntries(EXPRESSION_RULES.map((r) => [r, 'an expression'])),
  statement: 'a statement', assignOrExpr: 'a statement', fileRule: '"block", "model" or "import"', typeRef: 'a type', scopeName: 'a name',
  returnStmt: 'a value to return', blockDef: '"block" or "model"',
};

/** Error messages that say what was expected, in the words of the language. */
const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) => `expected ${label(expected)} but found ${shown(actual)}`,
  // Only the file rule stops before the end: what may come next is another item.
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected ${RULE_WORDS.fileRule} but found ${shown(firstRedundant)}`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const firsts = [...new Set(expectedPathsPerAlt.flatMap((alt) => alt.map((path) => path[0]).filter((t): t is TokenType => !!t)).map(label))];
    const what = RULE_WORDS[ruleName] ?? ruleName;
    const listed = firsts.every((f) => what.includes(f)); // '"block", "model" or "import"' names them already
    return `expected ${what}${firsts.length && firsts.length <= 6 && !listed ? ` (${firsts.join(', ')})` : ''} but found ${shown(actual[0]!)}`;
  },
  buildEarlyExitMessage: ({ actual, ruleName }) => `expected ${RULE_WORDS[ruleName] ?? ruleName} but found ${shown(actual[0]!)}`,
};

const BASE_TYPES: readonly BaseType[] = ['tensor', 'int', 'float', 'bool', 'str', 'block'];

export class VitParser extends EmbeddedActionsParser {
  file = '';
  /** Mistakes the grammar reads on past, each with its own message (`if a = 4`); reset per parse. */
  misreads: { readonly message: string; readonly span: Span; readonly hint: string }[] = [];

  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: messages });
    this.performSelfAnalysis();
  }

  /** Span from a to b (either may be missing while chevrotain records the grammar or recovers). */
  private span(a: IToken | Span | undefined, b?: IToken | Span): Span {
    const s = (x: IToken | Span | undefined): Span => (x === undefined || x === null ? { file: this.file, line: 0, col: 0 } : 'image' in x ? { file: this.file, line: x.startLine ?? 0, col: x.startColumn ?? 0, endLine: x.endLine ?? 0, endCol: (x.endColumn ?? 0) + 1 } : x);
    const sa = s(a), sb = s(b ?? a);
    return { file: this.file, line: sa.line, col: sa.col, endLine: sb.endLine ?? sb.line, endCol: sb.endCol ?? sb.col };
  }

  // Recovery: when chevrotain gives up on a rule, the rule returns its recovery value and the actions
  // of the rules around it go on with that value. Every rule therefore returns a well-formed
  // placeholder, never undefined; the tree is discarded anyway, since a syntax error was reported.
  private nowhere(): Span {
    return { file: this.file, line: 0, col: 0 };
  }
  private noExpr(): Expr {
    return { kind: 'none', span: this.nowhere() };
  }
  private emptyBody(): Body {
    return { stmts: [], dangling: [], span: this.nowhere() };
  }
  private readonly exprRecovery = { recoveryValueFunc: (): Expr => this.noExpr() };
  private readonly stmtRecovery = { recoveryValueFunc: (): Stmt => ({ kind: 'expr', expr: this.noExpr(), span: this.nowhere(), trivia: newTrivia() }) };

  private readonly sep = this.RULE('sep', () => { this.CONSUME(T.NewLine); });

  public readonly fileRule = this.RULE('fileRule', (): { imports: ImportDecl[]; items: BlockDef[] } => {
    const imports: ImportDecl[] = [];
    const items: BlockDef[] = [];
    this.MANY_SEP({
      SEP: T.NewLine,
      DEF: () => {
        this.OR([
          { ALT: () => { imports.push(this.SUBRULE(this.importDecl)); } },
          { ALT: () => { items.push(this.SUBRULE(this.blockDef)); } },
        ]);
      },
    });
    return { imports, items };
  }, { recoveryValueFunc: () => ({ imports: [], items: [] }) });

  private readonly importDecl = this.RULE('importDecl', (): ImportDecl => {
    const kw = this.CONSUME(T.Import);
    const s = this.CONSUME(T.StringLit);
    return { path: unquote(s.image ?? '""'), span: this.span(kw, s), trivia: newTrivia() };
  }, { recoveryValueFunc: (): ImportDecl => ({ path: '', span: this.nowhere(), trivia: newTrivia() }) });

  private readonly blockDef = this.RULE('blockDef', (): BlockDef => {
    const kw = this.OR([{ ALT: () => this.CONSUME(T.Block) }, { ALT: () => this.CONSUME(T.Model) }]);
    const name = this.CONSUME(T.Ident);
    this.CONSUME(T.LParen);
    const params: ParamDef[] = [];
    this.MANY_SEP({ SEP: T.Comma, DEF: () => { params.push(this.SUBRULE(this.paramDef)); } });
    this.CONSUME(T.RParen);
    let returns: TypeRef | undefined;
    this.OPTION(() => { this.CONSUME(T.Arrow); returns = this.SUBRULE(this.typeRef); });
    const body = this.SUBRULE(this.body);
    return { kind: kw?.image === 'model' ? 'model' : 'block', name: name?.image ?? '', nameSpan: this.span(name), params, returns, body, span: this.span(kw, body?.span), trivia: newTrivia() };
  }, { recoveryValueFunc: (): BlockDef => ({ kind: 'block', name: '', nameSpan: this.nowhere(), params: [], body: this.emptyBody(), span: this.nowhere(), trivia: newTrivia() }) });

  private readonly paramDef = this.RULE('paramDef', (): ParamDef => {
    const name = this.CONSUME(T.Ident);
    let type: TypeRef | undefined;
    let dflt: Expr | undefined;
    this.OPTION(() => { this.CONSUME(T.Colon); type = this.SUBRULE(this.typeRef); });
    this.OPTION1(() => { this.CONSUME(T.Assign); dflt = this.SUBRULE(this.expr); });
    return { name: name?.image ?? '', type, default: dflt, span: this.span(name, dflt?.span ?? type?.span ?? name) };
  }, { recoveryValueFunc: (): ParamDef => ({ name: '', span: this.nowhere() }) });

  private readonly typeRef = this.RULE('typeRef', (): TypeRef => {
    const t = this.OR([{ ALT: () => this.CONSUME(T.Ident) }, { ALT: () => this.CONSUME(T.Block) }]);
    let list = false, optional = false;
    let last: IToken = t;
    this.OPTION(() => { this.CONSUME(T.LBracket); last = this.CONSUME(T.RBracket); list = true; });
    this.OPTION1(() => { last = this.CONSUME(T.Question); optional = true; });
    return { base: (t?.image ?? 'tensor') as BaseType, list, optional, span: this.span(t, last) };
  }, { recoveryValueFunc: (): TypeRef => ({ base: 'tensor', list: false, optional: false, span: this.nowhere() }) });

  private readonly body = this.RULE('body', (): Body => {
    const open = this.CONSUME(T.LBrace);
    const stmts: Stmt[] = [];
    this.MANY_SEP({ SEP: T.NewLine, DEF: () => { stmts.push(this.SUBRULE(this.statement)); } });
    const close = this.CONSUME(T.RBrace);
    return { stmts: stmts.filter(Boolean), dangling: [], span: this.span(open, close) };
  }, { recoveryValueFunc: (): Body => this.emptyBody() });

  private readonly statement = this.RULE('statement', (): Stmt => this.OR([
    { ALT: () => this.SUBRULE(this.paramStmt) },
    { ALT: () => this.SUBRULE(this.inputStmt) },
    { ALT: () => this.SUBRULE(this.ifStmt) },
    { ALT: () => this.SUBRULE(this.repeatStmt) },
    { ALT: () => this.SUBRULE(this.returnStmt) },
    { ALT: () => this.SUBRULE(this.assignOrExpr) },
  ]), this.stmtRecovery);

  private readonly paramStmt = this.RULE('paramStmt', (): Stmt => {
    const kw = this.CONSUME(T.Param);
    const name = this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
    const shape = this.SUBRULE(this.expr);
    this.CONSUME(T.Assign);
    const init = this.SUBRULE1(this.expr);
    return { kind: 'param', name: name?.image ?? '', nameSpan: this.span(name), shape, init, span: this.span(kw, init?.span ?? name), trivia: newTrivia() };
  }, this.stmtRecovery);

  private readonly inputStmt = this.RULE('inputStmt', (): Stmt => {
    const kw = this.CONSUME(T.Input);
    const name = this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
    const shape = this.SUBRULE(this.expr);
    return { kind: 'input', name: name?.image ?? '', nameSpan: this.span(name), shape, span: this.span(kw, shape?.span ?? name), trivia: newTrivia() };
  }, this.stmtRecovery);

  /** if c { } else if c { } ... else { }: the else-if chain is read in a loop (no recursion per link). */
  private readonly ifStmt = this.RULE('ifStmt', (): IfStmt => {
    const links: { kw: IToken; cond: Expr; then: Body }[] = [];
    const kw = this.CONSUME(T.If);
    const cond = this.SUBRULE(this.condition);
    const then = this.SUBRULE(this.body);
    links.push({ kw, cond, then });
    let last: Body | undefined;
    // After a final `else { }` the chain is over.
    this.MANY({ GATE: () => last === undefined, DEF: () => {
      this.CONSUME(T.Else);
      this.OR([
        { ALT: () => {
          const k = this.CONSUME1(T.If);
          const c = this.SUBRULE1(this.condition);
          const b = this.SUBRULE1(this.body);
          links.push({ kw: k, cond: c, then: b });
        } },
        { ALT: () => { last = this.SUBRULE2(this.body); } },
      ]);
    } });
    let chain: Body | IfStmt | undefined = last;
    for (let i = links.length - 1; i >= 0; i--) {
      const l = links[i]!;
      chain = { kind: 'if', cond: l.cond, then: l.then, else: chain, span: this.span(l.kw, (chain ?? l.then)?.span ?? l.kw), trivia: newTrivia() };
    }
    return chain as IfStmt;
  }, { recoveryValueFunc: (): IfStmt => ({ kind: 'if', cond: this.noExpr(), then: this.emptyBody(), span: this.nowhere(), trivia: newTrivia() }) });

  /** An if's condition; `a = b` there is read as the comparison meant, and reported as one mistake. */
  private readonly condition = this.RULE('condition', (): Expr => {
    const left = this.SUBRULE(this.expr);
    let cond = left;
    // Only after a condition that parsed: `if = x` is a missing condition, not a comparison.
    this.OPTION({ GATE: () => left !== undefined && left.span.line > 0, DEF: () => {
      const eq = this.CONSUME(T.Assign);
      const right = this.SUBRULE1(this.expr);
      this.ACTION(() => {
        this.misreads.push({ message: 'expected "{" but found "="', span: this.span(eq), hint: 'did you mean "=="? "=" assigns, "==" compares' });
        cond = { kind: 'binary', op: '==', left, right, span: this.span(left?.span, right?.span) };
      });
    } });
    return cond;
  }, this.exprRecovery);

  private readonly repeatStmt = this.RULE('repeatStmt', (): Stmt => {
    const kw = this.CONSUME(T.Repeat);
    let count = this.SUBRULE(this.expr);
    let scope: ScopeName | undefined;
    // `repeat len(xs) as stages`: the call took `as` for itself; it names the repeat's scope.
    if (count?.kind === 'call' && count.scope) {
      scope = count.scope;
      count = { ...count, scope: undefined };
    }
    this.OPTION(() => { this.CONSUME(T.As); scope = this.SUBRULE(this.scopeName); });
    let index: { name: string; span: Span } | undefined;
    this.OPTION1(() => {
      this.CONSUME(T.Comma);
      const name = this.CONSUME(T.Ident);
      index = { name: name.image, span: this.span(name) };
    });
    const body = this.SUBRULE(this.body);
    return { kind: 'repeat', count, scope, index, body, span: this.span(kw, body?.span ?? kw), trivia: newTrivia() };
  }, this.stmtRecovery);

  private readonly returnStmt = this.RULE('returnStmt', (): Stmt => {
    const kw = this.CONSUME(T.Return);
    const values: Expr[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => { values.push(this.SUBRULE(this.expr)); } });
    return { kind: 'return', values, span: this.span(kw, values[values.length - 1]?.span ?? kw), trivia: newTrivia() };
  }, this.stmtRecovery);

  private readonly assignOrExpr = this.RULE('assignOrExpr', (): Stmt => {
    const lhs: Expr[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => { lhs.push(this.SUBRULE(this.expr)); } });
    let value: Expr | undefined;
    this.OPTION(() => { this.CONSUME(T.Assign); value = this.SUBRULE1(this.expr); });
    const first = lhs[0] ?? this.noExpr();
    if (value === undefined) return { kind: 'expr', expr: first, span: first?.span, trivia: newTrivia() };
    return {
      kind: 'assign',
      // Non-name targets are reported by the checker; keep their spans.
      targets: lhs.map((e) => ({ name: e?.kind === 'name' ? e.name : '', span: e?.span })),
      value,
      span: this.span(first?.span ?? value.span, value.span ?? first?.span),
      trivia: newTrivia(),
    };
  }, this.stmtRecovery);

  private readonly scopeName = this.RULE('scopeName', (): ScopeName => {
    const parts: IToken[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: T.Dot, DEF: () => { parts.push(this.OR([{ ALT: () => this.CONSUME(T.Ident) }, { ALT: () => this.CONSUME(T.NumberLit) }])); } });
    return { parts: parts.map((p) => p?.image ?? ''), span: this.span(parts[0], parts[parts.length - 1]) };
  }, { recoveryValueFunc: (): ScopeName => ({ parts: [], span: this.nowhere() }) });

  // ---- expressions, lowest precedence first ----
  // Chains (a if c else b if d else e, not not x, - - x, a ** b ** c) are read in loops and folded,
  // so a long chain costs no parser stack; only brackets nest rules (and src/dsl/nesting.ts bounds them).

  public readonly expr = this.RULE('expr', (): Expr => {
    const values: Expr[] = [this.SUBRULE(this.orExpr)];
    const conds: Expr[] = [];
    this.MANY(() => {
      this.CONSUME(T.If);
      conds.push(this.SUBRULE1(this.orExpr));
      this.CONSUME(T.Else);
      values.push(this.SUBRULE2(this.orExpr));
    });
    // a if c else b if d else e == a if c else (b if d else e)
    let result = values[values.length - 1]!;
    for (let i = conds.length - 1; i >= 0; i--) {
      const then = values[i]!;
      result = { kind: 'cond', then, cond: conds[i]!, else: result, span: this.span(then?.span, result?.span) };
    }
    return result;
  }, this.exprRecovery);

  /** left (op right)*: `first` and `rest` parse the same rule (chevrotain needs distinct SUBRULE indices). */
  private binaryChain(first: () => Expr, rest: () => Expr, ops: readonly TokenType[]): Expr {
    let left = first();
    this.MANY(() => {
      const op = this.OR(ops.map((t) => ({ ALT: () => this.CONSUME(t) })));
      const right = rest();
      left = { kind: 'binary', op: op?.image as BinOp, left, right, span: this.span(left?.span, right?.span) };
    });
    return left;
  }

  /** `prefix* operand`, folded so that the first prefix is outermost. */
  private prefixed(prefixes: readonly IToken[], operand: Expr, op: '-' | 'not'): Expr {
    let e = operand;
    for (let i = prefixes.length - 1; i >= 0; i--) e = { kind: 'unary', op, arg: e, span: this.span(prefixes[i], e?.span) };
    return e;
  }

  private readonly orExpr = this.RULE('orExpr', (): Expr => this.binaryChain(() => this.SUBRULE(this.andExpr), () => this.SUBRULE1(this.andExpr), [T.Or]), this.exprRecovery);
  private readonly andExpr = this.RULE('andExpr', (): Expr => this.binaryChain(() => this.SUBRULE(this.notExpr), () => this.SUBRULE1(this.notExpr), [T.And]), this.exprRecovery);

  private readonly notExpr = this.RULE('notExpr', (): Expr => {
    const nots: IToken[] = [];
    this.MANY(() => { nots.push(this.CONSUME(T.Not)); });
    return this.prefixed(nots, this.SUBRULE(this.cmpExpr), 'not');
  }, this.exprRecovery);

  private readonly cmpExpr = this.RULE('cmpExpr', (): Expr => {
    const left = this.SUBRULE(this.addExpr);
    let result = left;
    this.OPTION(() => {
      const op = this.OR([T.Eq, T.Ne, T.Le, T.Ge, T.Lt, T.Gt].map((t) => ({ ALT: () => this.CONSUME(t) })));
      const right = this.SUBRULE1(this.addExpr);
      result = { kind: 'binary', op: op?.image as BinOp, left, right, span: this.span(left?.span, right?.span) };
    });
    return result;
  }, this.exprRecovery);

  private readonly addExpr = this.RULE('addExpr', (): Expr => this.binaryChain(() => this.SUBRULE(this.mulExpr), () => this.SUBRULE1(this.mulExpr), [T.Plus, T.Minus]), this.exprRecovery);
  private readonly mulExpr = this.RULE('mulExpr', (): Expr => this.binaryChain(() => this.SUBRULE(this.unaryExpr), () => this.SUBRULE1(this.unaryExpr), [T.Star, T.Slash, T.FloorDiv, T.At]), this.exprRecovery);

  private readonly unaryExpr = this.RULE('unaryExpr', (): Expr => {
    const minus: IToken[] = [];
    this.MANY(() => { minus.push(this.CONSUME(T.Minus)); });
    return this.prefixed(minus, this.SUBRULE(this.powExpr), '-');
  }, this.exprRecovery);

  /** base ** -x ** y == base ** (-(x ** y)): right-associative, each exponent may carry unary minus. */
  private readonly powExpr = this.RULE('powExpr', (): Expr => {
    const operands: { minus: IToken[]; e: Expr }[] = [{ minus: [], e: this.SUBRULE(this.postfix) }];
    this.MANY(() => {
      this.CONSUME(T.Pow);
      const minus: IToken[] = [];
      this.MANY1(() => { minus.push(this.CONSUME(T.Minus)); });
      operands.push({ minus, e: this.SUBRULE1(this.postfix) });
    });
    let acc: Expr | undefined;
    for (let i = operands.length - 1; i >= 0; i--) {
      const base = operands[i]!.e;
      const inner: Expr = acc ? { kind: 'binary', op: '**', left: base, right: acc, span: this.span(base?.span, acc?.span) } : base;
      acc = this.prefixed(operands[i]!.minus, inner, '-');
    }
    return acc!;
  }, this.exprRecovery);

  private readonly postfix = this.RULE('postfix', (): Expr => {
    let e = this.SUBRULE(this.primary);
    // `call(...) as name` scopes the parameters a block call declares; after anything else,
    // `as` belongs to the enclosing statement (repeat N as blocks).
    const scopable = () => e?.kind === 'call' && !e.scope;
    this.MANY({ GATE: () => this.LA(1).tokenType !== T.As || scopable(), DEF: () => {
      this.OR([
        { ALT: () => {
          this.CONSUME(T.LParen);
          const args: Arg[] = [];
          this.MANY_SEP({ SEP: T.Comma, DEF: () => { args.push(this.SUBRULE(this.arg)); } });
          const close = this.CONSUME(T.RParen);
          e = { kind: 'call', callee: e?.kind === 'name' ? e.name : '', calleeSpan: e?.span, args, span: this.span(e?.span ?? close, close) };
        } },
        { ALT: () => {
          this.CONSUME(T.LBracket);
          const subs: Subscript[] = [];
          this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => { subs.push(this.SUBRULE(this.subscript)); } });
          const close = this.CONSUME(T.RBracket);
          e = { kind: 'index', target: e, subs, span: this.span(e?.span ?? close, close) };
        } },
        { ALT: () => {
          this.CONSUME(T.As);
          const scope = this.SUBRULE(this.scopeName);
          if (e?.kind === 'call') e = { ...e, scope, span: this.span(e.span, scope?.span) };
        } },
      ]);
    } });
    return e;
  }, this.exprRecovery);

  private readonly arg = this.RULE('arg', (): Arg => this.OR([
    {
      GATE: () => this.LA(1).tokenType === T.Ident && this.LA(2).tokenType === T.Assign,
      ALT: () => {
        const name = this.CONSUME(T.Ident);
        this.CONSUME(T.Assign);
        const value = this.SUBRULE(this.expr);
        return { name: name?.image ?? '', value, span: this.span(name, value?.span ?? name) };
      },
    },
    {
      // `name? = value`: an offered argument, passed only to a callee that declares `name`.
      GATE: () => this.LA(1).tokenType === T.Ident && this.LA(2).tokenType === T.Question && this.LA(3).tokenType === T.Assign,
      ALT: () => {
        const name = this.CONSUME1(T.Ident);
        this.CONSUME(T.Question);
        this.CONSUME1(T.Assign);
        const value = this.SUBRULE2(this.expr);
        return { name: name?.image ?? '', offered: true, value, span: this.span(name, value?.span ?? name) };
      },
    },
    { ALT: () => { const value = this.SUBRULE1(this.expr); return { value, span: value?.span }; } },
  ]), { recoveryValueFunc: (): Arg => ({ value: this.noExpr(), span: this.nowhere() }) });

  private readonly subscript = this.RULE('subscript', (): Subscript => {
    let start: Expr | undefined;
    let end: Expr | undefined;
    let isSlice = false;
    this.OPTION(() => { start = this.SUBRULE(this.expr); });
    this.OPTION1(() => {
      this.CONSUME(T.Colon);
      isSlice = true;
      this.OPTION2(() => { end = this.SUBRULE1(this.expr); });
    });
    return isSlice || !start ? { kind: 'slice', start, end } : { kind: 'at', index: start };
  }, { recoveryValueFunc: (): Subscript => ({ kind: 'slice' }) });

  private readonly primary = this.RULE('primary', (): Expr => this.OR([
    { ALT: () => { const t = this.CONSUME(T.NumberLit); return { kind: 'num', value: Number(t?.image), isInt: /^\d+$/.test(t?.image ?? ''), text: t?.image ?? '', span: this.span(t) } as Expr; } },
    { ALT: () => { const t = this.CONSUME(T.StringLit); return { kind: 'str', value: unquote(t?.image ?? '""'), span: this.span(t) } as Expr; } },
    { ALT: () => { const t = this.CONSUME(T.True); return { kind: 'bool', value: true, span: this.span(t) } as Expr; } },
    { ALT: () => { const t = this.CONSUME(T.False); return { kind: 'bool', value: false, span: this.span(t) } as Expr; } },
    { ALT: () => { const t = this.CONSUME(T.None); return { kind: 'none', span: this.span(t) } as Expr; } },
    { ALT: () => { const t = this.CONSUME(T.Ident); return { kind: 'name', name: t?.image ?? '', span: this.span(t) } as Expr; } },
    { ALT: () => {
      const open = this.CONSUME(T.LParen);
      const inner = this.SUBRULE(this.expr);
      const close = this.CONSUME(T.RParen);
      return inner ? { ...inner, span: this.span(open, close) } : this.noExpr();
    } },
    { ALT: () => {
      const open = this.CONSUME(T.LBracket);
      const items: Expr[] = [];
      this.MANY_SEP({ SEP: T.Comma, DEF: () => { items.push(this.SUBRULE1(this.expr)); } });
      const close = this.CONSUME(T.RBracket);
      return { kind: 'list', items, span: this.span(open, close) } as Expr;
    } },
  ]), this.exprRecovery);
}

export function unquote(s: string): string {
  try {
    return JSON.parse(s) as string;
  } catch {
    return s.slice(1, -1);
  }
}

export { BASE_TYPES };
