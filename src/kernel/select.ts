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
import type { BinaryFn, ExprOver, UnaryFn } from './types.js';

/** An expression over graph values: the kernel layer turns `val` leaves into input views. */
export type ValExpr = ExprOver<{ readonly k: 'val'; readonly id: number }>;

export type Contraction = NodeOf<'linear'> | NodeOf<'matmul'> | NodeOf<'conv2d'>;

export type Group =
  | { readonly kind: 'gemm'; readonly root: Contraction; readonly ln?: NodeOf<'layernorm'>; readonly expr: ValExpr }
  | { readonly kind: 'groupnorm'; readonly root: NodeOf<'groupnorm'>; readonly expr: ValExpr }
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

/** A convolution of one group: a GEMM over its patches (im2col), or directly over non-overlapping patches (isPatchConv). */
export function isGemmConv(n: Node): n is NodeOf<'conv2d'> {
  return n.op === 'conv2d' && ((n.attrs as { groups?: number }).groups ?? 1) === 1;
}

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
  const taken = new Set<number>();
  const fused: Fused[] = [];
  const isScalarConst = (n: Node) => n.op === 'const' && n.attrs.data.length === 1 && n.type.shape.length === 0;
  const isElementwise = (n: Node) => (UNARY.has(n.op) || BINARY.has(n.op)) && ['elementwise', 'broadcast'].includes(opDecl(n.op).fusion);
  const usersOf = (id: number) => users.get(id)!;

  /** Add elementwise producers of the region whose every user is in it (so they need no value of their own). */
  const absorbProducers = (region: Set<number>, root?: number) => {
    for (let grew = true; grew;) {
      grew = false;
      for (const id of [...region]) {
        if (id === root) continue;
        for (const a of byId.get(id)!.args) {
          const p = byId.get(a)!;
          if (region.has(a) || taken.has(a) || outputs.has(a) || !isElementwise(p) || isScalarConst(p)) continue;
          if (usersOf(a).every((u) => region.has(u))) { region.add(a); grew = true; }
        }
      }
    }
  };
  /** The expression of `id` within a region: the root is the accumulator, region nodes are ops, the rest are inputs. */
  const exprIn = (id: number, region: ReadonlySet<number>, root?: number): ValExpr => {
    const n = byId.get(id)!;
    if (id === root) return { k: 'acc' };
    if (isScalarConst(n)) return { k: 'const', v: (n as NodeOf<'const'>).attrs.data[0]! };
    if (!region.has(id)) return { k: 'val', id };
    if (UNARY.has(n.op)) return { k: 'un', fn: n.op as UnaryFn, x: exprIn(n.args[0]!, region, root) };
    return { k: 'bin', fn: n.op as BinaryFn, a: exprIn(n.args[0]!, region, root), b: exprIn(n.args[1]!, region, root) };
  };
  const claim = (region: ReadonlySet<number>) => { for (const id of region) taken.add(id); };

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

  // Contractions and GroupNorms with their epilogues: the elementwise region that follows, with a single exit.
  for (const n of g.nodes) {
    if (!(n.op === 'linear' || n.op === 'matmul' || isGemmConv(n) || n.op === 'groupnorm')) continue;
    const region = new Set<number>([n.id]);
    // Grow: consumers of the region, elementwise, shaped like the product, not computed elsewhere.
    for (let grew = true; grew;) {
      grew = false;
      for (const id of [...region]) for (const u of usersOf(id)) {
        const un = byId.get(u)!;
        if (region.has(u) || taken.has(u) || !isElementwise(un) || !sameShape(un.type.shape, n.type.shape)) continue;
        region.add(u);
        grew = true;
      }
    }
    // Shrink until one value leaves the region (the kernel's output): drop the latest nodes first.
    const exits = () => [...region].filter((id) => outputs.has(id) || usersOf(id).some((u) => !region.has(u)));
    while (exits().length > 1) region.delete([...region].filter((id) => id !== n.id).sort((x, y) => order.get(y)! - order.get(x)!)[0]!);
    const out = byId.get(exits()[0] ?? n.id)!;
    absorbProducers(region, n.id);
    let expr = exprIn(out.id, region, n.id);
    claim(region);
    const covers = [...region];
    if (n.op === 'groupnorm') {
      fused.push({ group: { kind: 'groupnorm', root: n, expr }, covers: sortBy(covers, order), out, anchor: Math.max(...covers.map((c) => order.get(c)!)) });
      continue;
    }
    const root = n as Contraction;
    const bias = (n.op === 'linear' || n.op === 'conv2d') ? n.args[2] : undefined;
    if (bias !== undefined) expr = substituteAcc(expr, { k: 'bin', fn: 'add', a: { k: 'acc' }, b: { k: 'val', id: bias } });
    const lnId = root.op === 'linear' && prologues.has(root.args[0]!) ? root.args[0]! : undefined;
    if (lnId !== undefined) covers.push(lnId);
    fused.push({
      group: { kind: 'gemm', root, ln: lnId === undefined ? undefined : (byId.get(lnId) as NodeOf<'layernorm'>), expr },
      covers: sortBy(covers, order), out, anchor: Math.max(...covers.map((c) => order.get(c)!)),
    });
  }

  // Elementwise regions, from their sinks: a node and the producers whose every user is in the region.
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (taken.has(n.id) || !isElementwise(n)) continue;
    const region = new Set<number>([n.id]);
    absorbProducers(region);
    claim(region);
    fused.push({ group: { kind: 'elementwise', expr: exprIn(n.id, region) }, covers: sortBy([...region], order), out: n, anchor: i });
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

/** `e` with every accumulator replaced by `by` (the bias joins the product before the epilogue). */
function substituteAcc(e: ValExpr, by: ValExpr): ValExpr {
  switch (e.k) {
    case 'acc': return by;
    case 'val': case 'const': return e;
    case 'un': return { ...e, x: substituteAcc(e.x, by) };
    case 'bin': return { ...e, a: substituteAcc(e.a, by), b: substituteAcc(e.b, by) };
  }
}

function sortBy(ids: number[], order: ReadonlyMap<number, number>): number[] {
  return [...ids].sort((a, b) => order.get(a)! - order.get(b)!);
}
