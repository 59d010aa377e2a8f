// The one way into the IR: both the YAML path and the model language build graphs through this API.
// Every op application is type-checked immediately; a shape error becomes a diagnostic at the span
// of the spec or DSL text being built.
import { DiagnosticError, error, type Span } from '../diag/diagnostic.js';
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
  private readonly spans: Span[] = [];
  private readonly paramNames = new Map<string, Span | undefined>();
  private nextId = 0;

  constructor(readonly name: string) {}

  /** Current module path, e.g. "blocks.3.attn". */
  get scope(): string {
    return this.scopes.join('.');
  }

  get span(): Span | undefined {
    return this.spans[this.spans.length - 1];
  }

  /** Run `fn` inside a module scope; parameters created there are named `scope.name`. */
  scoped<T>(name: string | number, fn: () => T): T {
    this.scopes.push(String(name));
    try { return fn(); } finally { this.scopes.pop(); }
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
    if (this.paramNames.has(name)) {
      throw new DiagnosticError([error('ir/duplicate-param', `parameter "${name}" is declared twice`, where)]);
    }
    if (shape.includes(BATCH)) throw new DiagnosticError([error('ir/param-shape', `parameter "${name}" cannot have the batch dim`, where)]);
    this.paramNames.set(name, where);
    return this.op('param', [], { name, shape, init }, where);
  }

  constant(label: string, shape: Shape, data: readonly number[]): Value {
    if (data.length !== staticNumel(shape)) throw new Error(`constant ${label}: ${data.length} values for shape ${fmtShape(shape)}`);
    return this.op('const', [], { label, shape, data: data.map(Math.fround) });
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
