// The syntax tree of the model language. Every node keeps its span; statements and items keep
// the comments and blank lines around them so `vitc fmt` can print them back.
import type { Span } from '../diag/diagnostic.js';

export type BinOp = '+' | '-' | '*' | '/' | '//' | '@' | '**' | '==' | '!=' | '<' | '>' | '<=' | '>=' | 'and' | 'or';

export type Expr =
  | { readonly kind: 'num'; readonly value: number; readonly isInt: boolean; readonly text: string; readonly span: Span }
  | { readonly kind: 'str'; readonly value: string; readonly span: Span }
  | { readonly kind: 'bool'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'none'; readonly span: Span }
  | { readonly kind: 'name'; readonly name: string; readonly span: Span }
  | { readonly kind: 'list'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'unary'; readonly op: '-' | 'not'; readonly arg: Expr; readonly span: Span }
  | { readonly kind: 'binary'; readonly op: BinOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: 'cond'; readonly then: Expr; readonly cond: Expr; readonly else: Expr; readonly span: Span }
  | { readonly kind: 'call'; readonly callee: string; readonly calleeSpan: Span; readonly args: readonly Arg[]; readonly scope?: ScopeName; readonly span: Span }
  | { readonly kind: 'index'; readonly target: Expr; readonly subs: readonly Subscript[]; readonly span: Span };

export interface ScopeName {
  readonly parts: readonly string[];
  readonly span: Span;
}

export type Subscript =
  | { readonly kind: 'at'; readonly index: Expr }
  | { readonly kind: 'slice'; readonly start?: Expr; readonly end?: Expr };

export interface Arg {
  readonly name?: string;
  /** `name? = value`: offered, passed only when the callee declares `name` (the encoder protocol). */
  readonly offered?: boolean;
  readonly value: Expr;
  readonly span: Span;
}

/** Comments and blank lines attached to a statement or item (for the formatter). */
export interface Trivia {
  /** Whole-line comments just before it (text after "#", trimmed at the end). */
  comments: string[];
  /** A blank line separates it from what comes before. */
  blankBefore: boolean;
  /** A comment at the end of its last line. */
  trailing?: string;
}

export type Stmt =
  | { readonly kind: 'assign'; readonly targets: readonly { readonly name: string; readonly span: Span }[]; readonly value: Expr; readonly span: Span; readonly trivia: Trivia }
  | { readonly kind: 'param'; readonly name: string; readonly nameSpan: Span; readonly shape: Expr; readonly init: Expr; readonly span: Span; readonly trivia: Trivia }
  | { readonly kind: 'input'; readonly name: string; readonly nameSpan: Span; readonly shape: Expr; readonly span: Span; readonly trivia: Trivia }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: Body; readonly else?: Body | IfStmt; readonly span: Span; readonly trivia: Trivia }
  /** `repeat N [as scope] [, i] { }`: `index` names the iteration number 0..N-1 inside the body. */
  | { readonly kind: 'repeat'; readonly count: Expr; readonly scope?: ScopeName; readonly index?: { readonly name: string; readonly span: Span }; readonly body: Body; readonly span: Span; readonly trivia: Trivia }
  | { readonly kind: 'return'; readonly values: readonly Expr[]; readonly span: Span; readonly trivia: Trivia }
  | { readonly kind: 'expr'; readonly expr: Expr; readonly span: Span; readonly trivia: Trivia };

export type IfStmt = Extract<Stmt, { kind: 'if' }>;

export interface Body {
  readonly stmts: readonly Stmt[];
  /** Comments after the last statement, before "}". */
  readonly dangling: string[];
  readonly span: Span;
}

export type BaseType = 'tensor' | 'int' | 'float' | 'bool' | 'str' | 'block';

export interface TypeRef {
  readonly base: BaseType;
  readonly list: boolean;
  readonly optional: boolean;
  readonly span: Span;
}

export interface ParamDef {
  readonly name: string;
  readonly type?: TypeRef;
  readonly default?: Expr;
  readonly span: Span;
}

export interface BlockDef {
  readonly kind: 'block' | 'model';
  readonly name: string;
  readonly nameSpan: Span;
  readonly params: readonly ParamDef[];
  readonly returns?: TypeRef;
  readonly body: Body;
  readonly span: Span;
  readonly trivia: Trivia;
}

export interface ImportDecl {
  readonly path: string;
  readonly span: Span;
  readonly trivia: Trivia;
}

export interface FileAst {
  readonly file: string;
  readonly imports: readonly ImportDecl[];
  readonly items: readonly BlockDef[];
  /** Comments after the last item. */
  readonly dangling: string[];
  /** Comments inside bracketed lists and between `}` and `else` (for the formatter). */
  readonly inner: InnerTrivia;
}

/**
 * Comments that sit inside a statement or signature spread over lines, by the node they annotate.
 * Empty for most files; the formatter prints a list that has any of them one element per line.
 */
export interface InnerTrivia {
  /** On an element of a bracketed list (a ParamDef, an Arg, a list literal's item): the comments on the lines before it and the one after it. */
  readonly elements: Map<object, Trivia>;
  /** After a bracketed list's last element, before its closing bracket: by the BlockDef (its parameters), call or list. */
  readonly closing: Map<object, string[]>;
  /** Between an if's `}` and its `else`, by the then-Body: the comment after `}` and those on the lines before `else`. */
  readonly beforeElse: Map<Body, Trivia>;
}

export function newInnerTrivia(): InnerTrivia {
  return { elements: new Map(), closing: new Map(), beforeElse: new Map() };
}

/** In a comment list, a blank line between two groups of comments. */
export const BLANK_LINE = '\n';

export function newTrivia(): Trivia {
  return { comments: [], blankBefore: false };
}
