// Graph -> kernels over views: where every value lives, and one kernel per fused group.
//  - Layout ops are views of their input's storage (the op's `view` hook). A copy is made only where
//    no strided view expresses the layout.
//  - Write-through: where a layout op (or a concat) cannot view its input, the producing kernel
//    writes straight into the consumer's layout instead (the op's `inverseView`): attention writes
//    through the merge-heads view, the patch embedding into rows 1.. of the token buffer.
//  - Graph outputs are written into the output buffers directly when their producer allows.
import { nodeIndex, type Graph, type Node, type NodeOf } from '../ir/graph.js';
import { opDecl } from '../ir/ops/index.js';
import {
  broadcastTo, contiguous, numelA, permute, selectAxis, shapeOf, sliceAxis, type Affine, type Strided,
} from '../ir/strided.js';
import type { Shape } from '../ir/types.js';
import { InternalCompilerError } from '../passes/pipeline.js';
import { isPatchConv, selectKernels, type Fused, type SelectOptions, type ValExpr } from './select.js';
import type { Buf, BufKind, Expr, Kernel, View } from './types.js';

type BufDraft = Omit<Buf, 'dtype'>;
/** A kernel before it has its position. */
type KernelDraft = Kernel extends infer K ? (K extends Kernel ? Omit<K, 'id'> : never) : never;

export interface Lowered {
  readonly bufs: readonly BufDraft[];
  readonly kernels: readonly Kernel[];
  readonly inputs: readonly number[];
  readonly outputs: readonly { readonly name: string; readonly buf: number }[];
  /** Where each graph value lives (values computed inside a kernel have none): for tests and debugging. */
  readonly values: ReadonlyMap<number, View>;
}

interface Copy { readonly src: number; readonly dst: View; readonly anchor: number; readonly covers: readonly number[]; readonly at: Node }

export function lowerGraph(g: Graph, opts: SelectOptions): Lowered {
  const byId = nodeIndex(g);
  const { fused, prologues } = selectKernels(g, opts);
  const producedBy = new Map<number, Fused>(fused.map((f) => [f.out.id, f]));
  const outputs = new Set(g.outputs.map((o) => o.id));
  const useCount = new Map<number, number>(g.nodes.map((n) => [n.id, 0]));
  for (const n of g.nodes) for (const a of new Set(n.args)) useCount.set(a, useCount.get(a)! + 1);

  const bufs: BufDraft[] = [];
  const newBuf = (kind: BufKind, name: string, shape: readonly Affine[], data?: readonly number[]): number => {
    const id = bufs.length;
    bufs.push({ id, kind, name: name || `t${id}`, shape, size: numelA(contiguous(shape)), data });
    return id;
  };
  const fresh = (n: Node): View => {
    const shape = shapeOf(n.type.shape);
    return { buf: newBuf('temp', '', shape), ...contiguous(shape) };
  };
  const viewHook = (n: Node) => opDecl(n.op) as {
    view?: (x: Strided, a: unknown, i: Shape, o: Shape) => Strided | undefined;
    inverseView?: (x: Strided, a: unknown, i: Shape, o: Shape) => Strided | undefined;
  };
  const isLayout = (n: Node) => opDecl(n.op).fusion === 'injective' && n.op !== 'concat';
  const argShape = (n: Node) => byId.get(n.args[0]!)!.type.shape;

  // 1. Tentatively (every computed value contiguous), which layout ops cannot be views?
  const tentative = new Map<number, Strided>();
  const needsCopy = new Set<number>();
  for (const n of g.nodes) {
    if (isLayout(n) && !prologues.has(n.args[0]!)) {
      const v = viewHook(n).view!(tentative.get(n.args[0]!)!, n.attrs, argShape(n), n.type.shape);
      if (v) { tentative.set(n.id, v); continue; }
      needsCopy.add(n.id);
    }
    tentative.set(n.id, contiguous(shapeOf(n.type.shape)));
  }

  // 2. Requests, consumers first: where should a producer write?
  const home = new Map<number, View>();
  const throughLayout = new Set<number>();
  const copies: Copy[] = [];
  const writeThrough = (id: number, dst: View, allowedUses: 0 | 1 = 1): boolean => {
    const n = byId.get(id)!;
    // An output may be used elsewhere too (they read the output buffer); an inner value must have one user.
    if (allowedUses === 1 && (useCount.get(id) !== 1 || outputs.has(id))) return false;
    if ((producedBy.has(id) || n.op === 'concat') && !home.has(id)) {
      home.set(id, dst);
      return true;
    }
    const inv = isLayout(n) ? viewHook(n).inverseView : undefined;
    if (!inv) return false;
    const back = inv(dst, n.attrs, argShape(n), n.type.shape);
    if (!back || !writeThrough(n.args[0]!, { buf: dst.buf, ...back })) return false;
    throughLayout.add(id);
    return true;
  };
  const outBufs = g.outputs.map((o) => {
    const n = byId.get(o.id)!;
    const shape = shapeOf(n.type.shape);
    const buf = newBuf('output', o.name, shape);
    const dst: View = { buf, ...contiguous(shape) };
    if (!writeThrough(o.id, dst, 0)) copies.push({ src: o.id, dst, anchor: g.nodes.length, covers: [], at: n });
    return { name: o.name, buf };
  });
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (n.op === 'concat') {
      const dst = home.get(n.id) ?? fresh(n);
      home.set(n.id, dst);
      const axis = (n as NodeOf<'concat'>).attrs.axis < 0 ? n.attrs.axis + n.type.shape.length : n.attrs.axis;
      let at = 0;
      for (const a of n.args) {
        const len = byId.get(a)!.type.shape[axis] as number;
        const part: View = { buf: dst.buf, ...sliceAxis(dst, axis, at, at + len) };
        at += len;
        if (!writeThrough(a, part)) copies.push({ src: a, dst: part, anchor: i, covers: [n.id], at: n });
      }
    } else if (needsCopy.has(n.id) && !throughLayout.has(n.id)) {
      const dst = fresh(n);
      home.set(n.id, dst);
      const back: View = { buf: dst.buf, ...viewHook(n).inverseView!(dst, n.attrs, argShape(n), n.type.shape)! };
      if (writeThrough(n.args[0]!, back)) throughLayout.add(n.id);
      else copies.push({ src: n.args[0]!, dst: back, anchor: i, covers: [n.id], at: n });
    }
  }

  // 3. Final storage of every value, in graph order.
  const storage = new Map<number, View>();
  const inputs: number[] = [];
  for (const n of g.nodes) {
    const shape = shapeOf(n.type.shape);
    switch (n.op) {
      case 'input': {
        const buf = newBuf('input', n.attrs.name, shape);
        inputs.push(buf);
        storage.set(n.id, { buf, ...contiguous(shape) });
        continue;
      }
      case 'param': storage.set(n.id, { buf: newBuf('param', n.attrs.name, shape), ...contiguous(shape) }); continue;
      case 'const': storage.set(n.id, { buf: newBuf('const', n.attrs.label, shape, n.attrs.data), ...contiguous(shape) }); continue;
    }
    if (prologues.has(n.id)) continue;
    if (isLayout(n) && !(needsCopy.has(n.id) && !throughLayout.has(n.id))) {
      const x = storage.get(n.args[0]!);
      if (!x) throw new InternalCompilerError(`${n.op} %${n.id} views a value with no storage`);
      const v = viewHook(n).view!(x, n.attrs, argShape(n), n.type.shape);
      if (!v) throw new InternalCompilerError(`${n.op} %${n.id} has no view of its input after write-through`);
      storage.set(n.id, { buf: x.buf, ...v });
    } else if (producedBy.has(n.id) || n.op === 'concat' || needsCopy.has(n.id)) {
      storage.set(n.id, home.get(n.id) ?? fresh(n));
    }
  }

  // 4. Kernels, in the order of their anchors.
  const at = (id: number): View => {
    const v = storage.get(id);
    if (!v) throw new InternalCompilerError(`value %${id} has no storage`);
    return v;
  };
  // A convolution that is not a direct GEMM gathers its patches (im2col) into a temp first.
  const patches = new Map<number, View>();
  for (const f of fused) {
    const root: Node | undefined = f.group.kind === 'gemm' ? f.group.root : undefined;
    if (root?.op === 'conv2d' && !isPatchConv(root, byId)) {
      const r = root as NodeOf<'conv2d'>;
      const [n, c] = shapeOf(byId.get(r.args[0]!)!.type.shape);
      const [, , oh, ow] = shapeOf(r.type.shape);
      const [, , kh, kw] = byId.get(r.args[1]!)!.type.shape as number[];
      const shape = [n!, oh!, ow!, c!, { b: 0, c: kh! }, { b: 0, c: kw! }];
      patches.set(r.id, { buf: newBuf('temp', '', shape), ...contiguous(shape) });
    }
  }
  const planned: { anchor: number; seq: number; make: () => KernelDraft[] }[] = [];
  fused.forEach((f, seq) => planned.push({ anchor: f.anchor, seq, make: () => kernelsOf(f, at, byId, patches) }));
  copies.forEach((c, i) => planned.push({
    anchor: c.anchor, seq: fused.length + i,
    make: () => [{ kind: 'copy', x: broadcastView(at(c.src), shapeOf(byId.get(c.src)!.type.shape)), out: c.dst, covers: c.covers, scope: c.at.scope, span: c.at.span }],
  }));
  planned.sort((x, y) => x.anchor - y.anchor || x.seq - y.seq);
  const kernels = planned.flatMap((p) => p.make()).map((k, id) => ({ ...k, id }) as Kernel);
  return { bufs, kernels, inputs, outputs: outBufs, values: storage };
}

function broadcastView(v: View, shape: readonly Affine[]): View {
  return { buf: v.buf, ...broadcastTo(v, shape) };
}

/** The kernels for a fused group (an im2col and a GEMM for a convolution, else one). */
function kernelsOf(f: Fused, at: (id: number) => View, byId: ReadonlyMap<number, Node>, patches: ReadonlyMap<number, View>): KernelDraft[] {
  const g = f.group;
  if (g.kind === 'gemm' && patches.has(g.root.id)) {
    const r = g.root as NodeOf<'conv2d'>;
    const cols = patches.get(r.id)!;
    const im2col: KernelDraft = {
      kind: 'im2col', x: at(r.args[0]!), out: cols, kernel: [cols.shape[4]!.c, cols.shape[5]!.c],
      stride: r.attrs.stride, pad: r.attrs.pad, dilation: r.attrs.dilation, covers: [r.id], scope: r.scope, span: r.span,
    };
    return [im2col, kernelOf(f, at, byId, cols)];
  }
  return [kernelOf(f, at, byId)];
}

/** The kernel for a fused group; `cols` is a convolution's gathered patches. */
function kernelOf(f: Fused, at: (id: number) => View, byId: ReadonlyMap<number, Node>, cols?: View): KernelDraft {
  const g = f.group;
  const base = { covers: f.covers, scope: f.out.scope, span: f.out.span };
  const outShape = shapeOf(f.out.type.shape);
  const out = at(f.out.id);
  switch (g.kind) {
    case 'gemm': {
      const r = g.root;
      const shapeOfId = (i: number) => byId.get(i)!.type.shape;
      let a: View, b: View, perm: number[], rank: { g: number; m: number; k: number; n: number };
      if (r.op === 'linear') {
        const x = g.ln ? at(g.ln.args[0]!) : at(r.args[0]!);
        const lead = shapeOfId(r.args[0]!).length - 1;
        a = x;
        b = { buf: at(r.args[1]!).buf, ...permute(at(r.args[1]!), [1, 0]) };
        perm = [...Array(lead + 1).keys()];
        rank = { g: 0, m: lead, k: 1, n: 1 };
      } else if (r.op === 'matmul') {
        const lead = outShape.slice(0, -2);
        const [sa, sb] = [shapeOfId(r.args[0]!), shapeOfId(r.args[1]!)];
        a = broadcastView(at(r.args[0]!), [...lead, ...shapeOf(sa.slice(-2))]);
        b = broadcastView(at(r.args[1]!), [...lead, ...shapeOf(sb.slice(-2))]);
        perm = [...Array(outShape.length).keys()];
        rank = { g: lead.length, m: 1, k: 1, n: 1 };
      } else if (cols) {
        // A convolution over its gathered patches [N, OH, OW, C, kh, kw].
        const w = at(r.args[1]!);
        a = cols;
        b = { buf: w.buf, ...permute(w, [1, 2, 3, 0]) };
        perm = [0, 2, 3, 1];
        rank = { g: 0, m: 3, k: 3, n: 1 };
      } else {
        // A patch convolution: A[n, gy, gx, c, py, px] = x[n, c, gy·py + ..., gx·px + ...].
        const x = at(r.args[0]!);
        const w = at(r.args[1]!);
        const [, , kh, kw] = shapeOfId(r.args[1]!) as number[];
        const [, , gh, gw] = shapeOf(r.type.shape);
        const [sn, sc, sh, sw] = x.strides;
        const sc2 = (s: Affine, k: number) => ({ b: s.b * k, c: s.c * k });
        a = {
          buf: x.buf, offset: x.offset,
          shape: [x.shape[0]!, gh!, gw!, x.shape[1]!, { b: 0, c: kh! }, { b: 0, c: kw! }],
          strides: [sn!, sc2(sh!, kh!), sc2(sw!, kw!), sc!, sh!, sw!],
        };
        b = { buf: w.buf, ...permute(w, [1, 2, 3, 0]) };
        perm = [0, 2, 3, 1];
        rank = { g: 0, m: 3, k: 3, n: 1 };
      }
      const leaves: number[] = [];
      const expr = toExpr(g.expr, leaves);
      // A convolution's bias is per channel (dim 1), not numpy-broadcast from the right.
      const leafView = (l: number): Strided => {
        const v = at(l);
        if (r.op === 'conv2d' && l === r.args[2]) return { offset: v.offset, shape: outShape, strides: outShape.map((_, i) => (i === 1 ? v.strides[0]! : { b: 0, c: 0 })) };
        return broadcastTo(v, outShape);
      };
      const ins = leaves.map((l) => ({ buf: at(l).buf, ...permute(leafView(l), perm) }));
      const ln = g.ln ? {
        eps: g.ln.attrs.eps,
        w: g.ln.args[1] === undefined ? undefined : at(g.ln.args[1]),
        b: g.ln.args[2] === undefined ? undefined : at(g.ln.args[2]),
      } : undefined;
      return { kind: 'gemm', ...base, a, b, rank, ln, epi: { expr, ins }, out: { buf: out.buf, ...permute(out, perm) } };
    }
    case 'groupnorm': {
      const n = g.root;
      const leaves: number[] = [];
      const expr = toExpr(g.expr, leaves);
      return {
        kind: 'groupnorm', ...base, out, x: at(n.args[0]!), groups: n.attrs.groups, eps: n.attrs.eps,
        w: n.args[1] === undefined ? undefined : at(n.args[1]), b: n.args[2] === undefined ? undefined : at(n.args[2]),
        epi: { expr, ins: leaves.map((l) => broadcastView(at(l), outShape)) },
      };
    }
    case 'elementwise': {
      const leaves: number[] = [];
      const expr = toExpr(g.expr, leaves);
      return { kind: 'elementwise', ...base, out, expr, ins: leaves.map((l) => broadcastView(at(l), outShape)) };
    }
    case 'attention': {
      const n = g.node as NodeOf<'attention'>;
      return { kind: 'attention', ...base, out, q: at(n.args[0]!), k: at(n.args[1]!), v: at(n.args[2]!), scale: n.attrs.scale };
    }
    case 'layernorm': {
      const n = g.node as NodeOf<'layernorm'>;
      return {
        kind: 'layernorm', ...base, out, x: at(n.args[0]!), eps: n.attrs.eps,
        w: n.args[1] === undefined ? undefined : at(n.args[1]), b: n.args[2] === undefined ? undefined : at(n.args[2]),
      };
    }
    case 'softmax': {
      const n = g.node as NodeOf<'softmax'>;
      return { kind: 'softmax', ...base, out, x: at(n.args[0]!), axis: n.attrs.axis };
    }
    case 'reduce': {
      const n = g.node as NodeOf<'mean'>;
      // keepdim: the kept size-1 dims are dropped from the out view, so out is x's shape without the axes.
      let o: Strided = out;
      if (n.attrs.keepdim) for (const ax of [...n.attrs.axes].reverse()) o = selectAxis(o, ax, 0);
      return { kind: 'reduce', ...base, op: 'mean', x: at(n.args[0]!), axes: n.attrs.axes, out: { buf: out.buf, ...o } };
    }
    case 'generic':
      return { kind: 'generic', ...base, out, op: g.node.op, attrs: g.node.attrs, ins: g.node.args.map(at) };
  }
}

/** ValExpr -> Expr, numbering distinct value leaves in first-seen order. */
function toExpr(e: ValExpr, leaves: number[]): Expr {
  switch (e.k) {
    case 'val': {
      let i = leaves.indexOf(e.id);
      if (i < 0) i = leaves.push(e.id) - 1;
      return { k: 'in', i };
    }
    case 'acc': case 'const': return e;
    case 'un': return { k: 'un', fn: e.fn, x: toExpr(e.x, leaves) };
    case 'bin': return { k: 'bin', fn: e.fn, a: toExpr(e.a, leaves), b: toExpr(e.b, leaves) };
  }
}
