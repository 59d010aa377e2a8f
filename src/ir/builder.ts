// The one way into the IR: both the YAML path and the model language build graphs through this API.
// Every op application is type-checked immediately; a shape error becomes a diagnostic at the span
// of the spec or DSL text being built.
import { DiagnosticError, error, fail, formatSpan, type Span } from '../diag/diagnostic.js';
import { checkSize, fmtCount, MAX_IR_NODES, MAX_PARAMETERS, MAX_TENSOR_ELEMENTS } from '../limits.js';
import { compact, type Graph, type Node } from './graph.js';
import { opDecl, type AttrsOf, type Init, type OpName } from './ops/index.js';
import { BATCH, ShapeError, fmtShape, fmtType, staticNumel, type Dim, type DType, type Shape, type TensorType } from './types.js';

export interface Value {
  readonly id: number;
  readonly type: TensorType;
}

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly outs: { name: string; id: number }[] = [];
  private readonly scopes: string[] = [];
  /** Where each scope was named (`as fc`, `repeat depth as blocks`), to report a name used twice at the user's text. */
  private readonly scopeSpans: (Span | undefined)[] = [];
  private readonly spans: Span[] = [];
  /** Parameter names declared so far, with the scope spans they were declared under. */
  private readonly paramNames = new Map<string, { readonly span?: Span; readonly scopes: readonly (Span | undefined)[] }>();
  /** For each module path that holds parameters, where its last name was given: one call site per module. */
  private readonly scopeOwners = new Map<string, Span>();
  private parameters = 0;
  private nextId = 0;

  /**
   * `library`: which text is a library's (vitc's stdlib) rather than the user's, and how to name it;
   * a scope name the user's text reuses from a library's is reported at the user's, the one to change.
   */
  constructor(readonly name: string, private readonly library?: { readonly has: (span: Span) => boolean; readonly show: (span: Span) => string }) {}

  /** The user's span of two that name the same scope, when `here` is a library's and `first` is not. */
  private usersOf(here: Span | undefined, first: Span | undefined): Span | undefined {
    return this.library && here && first && this.library.has(here) && !this.library.has(first) ? first : undefined;
  }

  /** Current module path, e.g. "blocks.3.attn". */
  get scope(): string {
    return this.scopes.join('.');
  }

  get span(): Span | undefined {
    return this.spans[this.spans.length - 1];
  }

  /** Run `fn` inside a module scope (`span`: where the text named it); parameters created there are named `scope.name`. */
  scoped<T>(name: string | number, fn: () => T, span?: Span): T {
    this.scopes.push(String(name));
    this.scopeSpans.push(span);
    try { return fn(); } finally { this.scopes.pop(); this.scopeSpans.pop(); }
  }

  /** Run `fn` with `span` as the source position of every node it creates. */
  at<T>(span: Span | undefined, fn: () => T): T {
    if (!span) return fn();
    this.spans.push(span);
    try { return fn(); } finally { this.spans.pop(); }
  }

  /** Apply an op; its shape rule runs now and reports at the current span. */
  op<K extends OpName>(op: K, args: readonly Value[], attrs: AttrsOf<K>, span?: Span): Value {
    const decl = opDecl(op);
    const where = span ?? this.span;
    const [min, max] = typeof decl.arity === 'number' ? [decl.arity, decl.arity] : decl.arity;
    if (args.length < min || args.length > max) {
      throw new DiagnosticError([error('ir/arity', `${op} takes ${min === max ? min : `${min} to ${max}`} arguments; got ${args.length}`, where)]);
    }
    let type: TensorType;
    try {
      type = decl.infer(args.map((a) => a.type), attrs);
    } catch (e) {
      if (e instanceof ShapeError) {
        const msg = e.message.startsWith(`${op} `) || e.message.startsWith(`${op}:`) ? e.message : `${op}: ${e.message}`;
        throw new DiagnosticError([error('ir/shape', msg, where, args.length ? `operands: ${args.map((a) => fmtType(a.type)).join(', ')}` : undefined)]);
      }
      throw e;
    }
    if (this.nodes.length >= MAX_IR_NODES) {
      fail('size/too-many-nodes', `the model has more than ${fmtCount(MAX_IR_NODES)} operations`, where, 'is a repeat count or the depth far too large?');
    }
    checkSize(`${op === 'input' ? 'the input' : `a ${op} result`} ${fmtShape(type.shape)}`, staticNumel(type.shape), MAX_TENSOR_ELEMENTS, 'elements per image', 4, where);
    const node = { id: this.nextId++, op, args: args.map((a) => a.id), attrs, type, scope: this.scope, span: where } as Node;
    this.nodes.push(node);
    return { id: node.id, type };
  }

  input(name: string, shape: Shape, dtype: DType = 'f32'): Value {
    return this.op('input', [], { name, shape, dtype });
  }

  /** A parameter named `scope.localName` (timm state-dict naming). */
  param(localName: string, shape: Shape, init: Init, span?: Span): Value {
    const name = this.scope ? `${this.scope}.${localName}` : localName;
    const where = span ?? this.span;
    const prev = this.paramNames.get(name);
    if (prev) throw new DiagnosticError([this.duplicateParam(name, prev, where)]);
    this.claimScopes();
    if (shape.includes(BATCH)) throw new DiagnosticError([error('ir/param-shape', `parameter "${name}" cannot have the batch dim`, where)]);
    const n = staticNumel(shape);
    checkSize(`parameter "${name}" ${fmtShape(shape)}`, n, MAX_TENSOR_ELEMENTS, 'elements', 4, where);
    this.parameters += n;
    checkSize(`the model (at parameter "${name}")`, this.parameters, MAX_PARAMETERS, 'parameters', 4, where);
    this.paramNames.set(name, { span: where, scopes: [...this.scopeSpans] });
    return this.op('param', [], { name, shape, init }, where);
  }

  /**
   * Two calls named alike (`LayerNorm(x) as norm1`, then `Attention(h) as norm1`) whose parameters
   * happen not to collide would still merge two modules into one path of the state dict, which no
   * checkpoint has: a module path gets its parameters from one `as` clause.
   */
  private claimScopes(): void {
    let path = '';
    for (let i = 0; i < this.scopes.length; i++) {
      path = i === 0 ? this.scopes[0]! : `${path}.${this.scopes[i]}`;
      const named = this.scopeSpans[i];
      if (!named) continue;
      const first = this.scopeOwners.get(path);
      if (!first) this.scopeOwners.set(path, named);
      else if (!sameSpan(first, named)) {
        const mine = this.usersOf(named, first);
        if (mine) fail('ir/duplicate-scope', `the scope name "${this.scopes[i]}" is also the one vitc's ${this.library!.show(named)} gives another module`, mine, 'give yours another name');
        fail('ir/duplicate-scope', `the scope name "${this.scopes[i]}" is used a second time here, for another module`, named, `the first is at ${formatSpan(first)}; give each its own name`);
      }
    }
  }

  /**
   * A parameter name declared twice is a scope name used twice: report it where the two declarations'
   * scopes first part (the user's `as` clause), not at the `param` line inside the block they call.
   */
  private duplicateParam(name: string, prev: { readonly span?: Span; readonly scopes: readonly (Span | undefined)[] }, where: Span | undefined) {
    const i = this.scopeSpans.findIndex((s, k) => !sameSpan(s, prev.scopes[k]));
    if (i >= 0 && this.scopeSpans[i]) {
      const first = prev.scopes[i] ?? prev.span;
      const mine = this.usersOf(this.scopeSpans[i], first);
      if (mine) return error('ir/duplicate-param', `the scope name "${this.scopes[i]}" is also used by vitc's ${this.library!.show(this.scopeSpans[i]!)}, so parameter "${name}" is declared twice`, mine, 'give yours another name');
      return error('ir/duplicate-param', `the scope name "${this.scopes[i]}" is used a second time here, so parameter "${name}" is declared twice`, this.scopeSpans[i],
        first ? `the first is at ${formatSpan(first)}; give each its own name` : 'give each its own name');
    }
    const inner = [...this.scopeSpans].reverse().find((s) => s !== undefined);
    if (inner && sameSpan(prev.span, where)) {
      return error('ir/duplicate-param', `parameter "${name}" is declared twice: this runs more than once under the same name`, inner, 'a repeat, or a block called twice, without "as NAME"?');
    }
    return error('ir/duplicate-param', `parameter "${name}" is declared twice`, where, prev.span ? `the first is at ${formatSpan(prev.span)}` : undefined);
  }

  /** A constant; `data` may be computed lazily, so that its size is checked before it is made. */
  constant(label: string, shape: Shape, data: readonly number[] | (() => readonly number[])): Value {
    const n = staticNumel(shape);
    checkSize(`constant ${label} ${fmtShape(shape)}`, n, MAX_TENSOR_ELEMENTS, 'elements', 4, this.span);
    const values = typeof data === 'function' ? data() : data;
    if (values.length !== n) throw new Error(`constant ${label}: ${values.length} values for shape ${fmtShape(shape)}`);
    return this.op('const', [], { label, shape, data: values.map(Math.fround) });
  }

  scalar(v: number): Value {
    return this.constant('scalar', [], [v]);
  }

  /** Reshape with at most one -1 (inferred), keeping the batch dim. */
  reshape(x: Value, shape: readonly (Dim | -1)[]): Value {
    const known = shape.filter((d): d is number => d !== -1 && d !== BATCH).reduce((a, b) => a * b, 1);
    const total = staticNumel(x.type.shape);
    const resolved = shape.map((d) => (d === -1 ? total / known : d));
    return this.op('reshape', [x], { shape: resolved });
  }

  output(name: string, v: Value): void {
    this.outs.push({ name, id: v.id });
  }

  /** The finished graph, nodes renumbered in creation order. */
  build(): Graph {
    return compact({ name: this.name, nodes: [...this.nodes], outputs: [...this.outs] });
  }
}

function sameSpan(a?: Span, b?: Span): boolean {
  return a?.file === b?.file && a?.line === b?.line && a?.col === b?.col;
}
