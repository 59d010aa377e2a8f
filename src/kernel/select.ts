// Fusion: which graph nodes become one kernel. Decided from each op's fusion class, never from model
// shapes, so any block written in the model language fuses as the stdlib's do:
//  - a contraction (linear, matmul, a patch convolution) absorbs the chain of elementwise consumers
//    that follow it while each is the previous value's only user (bias, activation, scale, residual,
//    LayerScale), and every elementwise tree feeding that chain;
//  - a LayerNorm whose every user is a linear layer reading it as its input becomes those GEMMs'
//    prologue (when the target asks for it);
//  - the remaining elementwise ops form trees: one kernel per maximal tree of single-use nodes;
//  - reductions, attention and anything else are kernels of their own (a generic one as the fallback).
// Matching is by operand role, not position: `x + f(x)` and `f(x) + x` fuse alike.
import { nodeIndex, type Graph, type Node, type NodeOf } from '../ir/graph.js';
import { opDecl } from '../ir/ops/index.js';
import { sameShape } from '../ir/types.js';
import type { BinaryFn, UnaryFn } from './types.js';

/** An expression over graph values: the kernel layer turns `val` leaves into input views. */
export type ValExpr =
  | { readonly k: 'val'; readonly id: number }
  | { readonly k: 'acc' }
  | { readonly k: 'const'; readonly v: number }
  | { readonly k: 'un'; readonly fn: UnaryFn; readonly x: ValExpr }
  | { readonly k: 'bin'; readonly fn: BinaryFn; readonly a: ValExpr; readonly b: ValExpr };

export type Contraction = NodeOf<'linear'> | NodeOf<'matmul'> | NodeOf<'conv2d'>;

export type Group =
  | { readonly kind: 'gemm'; readonly root: Contraction; readonly ln?: NodeOf<'layernorm'>; readonly expr: ValExpr }
  | { readonly kind: 'elementwise'; readonly expr: ValExpr }
  | { readonly kind: 'attention' | 'layernorm' | 'softmax' | 'reduce' | 'generic'; readonly node: Node };

export interface Fused {
  readonly group: Group;
  /** Covered node ids in graph order. */
  readonly covers: readonly number[];
  /** The value the kernel produces. */
  readonly out: Node;
  /** Position in graph order where the kernel runs: after its last covered node's inputs exist. */
  readonly anchor: number;
}

export interface Selection {
  readonly fused: readonly Fused[];
  /** LayerNorm nodes computed inside their consumers' GEMMs (no value of their own). */
  readonly prologues: ReadonlySet<number>;
}

export interface SelectOptions {
  /** Fold a LayerNorm into the GEMMs that consume it (JS packs A panels anyway); else a kernel of its own. */
  readonly lnPrologue: boolean;
}

const UNARY = new Set<string>(['gelu', 'gelu_tanh', 'relu', 'silu', 'sigmoid', 'tanh', 'exp', 'log', 'sqrt', 'neg']);
const BINARY = new Set<string>(['add', 'sub', 'mul', 'div']);

/** A convolution that is a GEMM over non-overlapping patches (kernel = stride, no padding, no dilation, one group). */
export function isPatchConv(n: Node, byId: ReadonlyMap<number, Node>): n is NodeOf<'conv2d'> {
  if (n.op !== 'conv2d') return false;
  const a = n.attrs as { stride: readonly number[]; pad: readonly number[]; dilation?: readonly number[]; groups?: number };
  const w = byId.get(n.args[1]!)!.type.shape;
  return a.stride[0] === w[2] && a.stride[1] === w[3] && a.pad.every((p) => p === 0)
    && (a.dilation ?? [1, 1]).every((d) => d === 1) && (a.groups ?? 1) === 1;
}

export function selectKernels(g: Graph, opts: SelectOptions): Selection {
  const byId = nodeIndex(g);
  const order = new Map(g.nodes.map((n, i) => [n.id, i]));
  const outputs = new Set(g.outputs.map((o) => o.id));
  const users = new Map<number, number[]>(g.nodes.map((n) => [n.id, []]));
  for (const n of g.nodes) for (const a of new Set(n.args)) users.get(a)!.push(n.id);
  const onlyUser = (id: number): Node | undefined => {
    const u = users.get(id)!;
    return u.length === 1 && !outputs.has(id) ? byId.get(u[0]!) : undefined;
  };
  const taken = new Set<number>();
  const fused: Fused[] = [];
  const isScalarConst = (n: Node) => n.op === 'const' && n.attrs.data.length === 1 && n.type.shape.length === 0;
  const isElementwise = (n: Node) => (UNARY.has(n.op) || BINARY.has(n.op)) && ['elementwise', 'broadcast'].includes(opDecl(n.op).fusion);

  /** The expression for value `id` inside a group, absorbing single-use elementwise producers into the tree. */
  const treeOf = (id: number, covers: number[], root = false): ValExpr => {
    const n = byId.get(id)!;
    if (isScalarConst(n)) return { k: 'const', v: (n as NodeOf<'const'>).attrs.data[0]! };
    if (!isElementwise(n) || taken.has(id) || (!root && !onlyUser(id))) return { k: 'val', id };
    taken.add(id);
    covers.push(id);
    if (UNARY.has(n.op)) return { k: 'un', fn: n.op as UnaryFn, x: treeOf(n.args[0]!, covers) };
    const [a, b] = n.args as [number, number];
    const ea = treeOf(a, covers);
    return { k: 'bin', fn: n.op as BinaryFn, a: ea, b: a === b ? ea : treeOf(b, covers) };
  };

  // LayerNorm prologues: every user reads the LayerNorm as a linear layer's input.
  const prologues = new Set<number>();
  if (opts.lnPrologue) {
    for (const n of g.nodes) {
      const us = users.get(n.id)!;
      if (n.op === 'layernorm' && !outputs.has(n.id) && us.length > 0
        && us.every((u) => { const un = byId.get(u)!; return un.op === 'linear' && un.args[0] === n.id && !un.args.slice(1).includes(n.id); })) {
        prologues.add(n.id);
      }
    }
  }

  // Contractions with their epilogue chains.
  for (const n of g.nodes) {
    if (!(n.op === 'linear' || n.op === 'matmul' || isPatchConv(n, byId))) continue;
    const root = n as Contraction;
    const covers: number[] = [n.id];
    taken.add(n.id);
    const bias = (n.op === 'linear' || n.op === 'conv2d') ? n.args[2] : undefined;
    let expr: ValExpr = bias === undefined ? { k: 'acc' } : { k: 'bin', fn: 'add', a: { k: 'acc' }, b: { k: 'val', id: bias } };
    let cur: Node = n;
    for (;;) {
      const u = onlyUser(cur.id);
      if (!u || taken.has(u.id) || !isElementwise(u) || !sameShape(u.type.shape, cur.type.shape)) break;
      taken.add(u.id);
      covers.push(u.id);
      if (UNARY.has(u.op)) expr = { k: 'un', fn: u.op as UnaryFn, x: expr };
      else {
        const [a, b] = u.args as [number, number];
        const mine: ValExpr = expr;
        const other = (id: number): ValExpr => (id === cur.id ? mine : treeOf(id, covers));
        expr = { k: 'bin', fn: u.op as BinaryFn, a: other(a), b: other(b) };
      }
      cur = u;
    }
    const lnId = root.op === 'linear' && prologues.has(root.args[0]!) ? root.args[0]! : undefined;
    if (lnId !== undefined) covers.unshift(lnId);
    fused.push({
      group: { kind: 'gemm', root, ln: lnId === undefined ? undefined : (byId.get(lnId) as NodeOf<'layernorm'>), expr },
      covers: sortBy(covers, order), out: cur, anchor: Math.max(...covers.map((c) => order.get(c)!)),
    });
  }

  // Elementwise trees, from their sinks.
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (taken.has(n.id) || !isElementwise(n)) continue;
    const covers: number[] = [];
    const expr = treeOf(n.id, covers, true);
    fused.push({ group: { kind: 'elementwise', expr }, covers: sortBy(covers, order), out: n, anchor: i });
  }

  // Everything else that computes is a kernel of its own.
  for (const [i, n] of g.nodes.entries()) {
    if (taken.has(n.id) || prologues.has(n.id)) continue;
    const fc = opDecl(n.op).fusion;
    if (fc === 'source' || fc === 'injective') continue;
    const kind = n.op === 'attention' ? 'attention' : n.op === 'layernorm' ? 'layernorm' : n.op === 'softmax' ? 'softmax' : n.op === 'mean' ? 'reduce' : 'generic';
    fused.push({ group: { kind, node: n }, covers: [n.id], out: n, anchor: i });
  }
  fused.sort((x, y) => x.anchor - y.anchor);
  return { fused, prologues };
}

function sortBy(ids: number[], order: ReadonlyMap<number, number>): number[] {
  return [...ids].sort((a, b) => order.get(a)! - order.get(b)!);
}
