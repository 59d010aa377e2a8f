// The memory plan: every activation (temp buffer) gets an arena offset from its lifetime in kernel
// order. Sizes are b·B + c with at most one factor of B, so batched buffers are packed on their
// per-sample sizes and scale with B: arena = B·perSample + fixed. Greedy first-fit by size over
// liveness intervals; an elementwise kernel or a GEMM epilogue that reads a dying buffer with the
// output's exact layout writes in place.
import { atB, eqA, isContiguous, type Affine } from '../ir/strided.js';
import { kernelInputs } from './walk.js';
import { STORAGE_BYTES, type Arena, type Buf, type Kernel, type View } from './types.js';

export const DEFAULT_ALIGN = 256;

interface Item { bufs: number[]; start: number; end: number; bytes: Affine }

const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Whether `v` covers all of buffer `b` in row-major order. */
function wholeBuffer(v: View, b: Buf): boolean {
  return v.offset.b === 0 && v.offset.c === 0 && isContiguous(v) && v.shape.length === b.shape.length && v.shape.every((d, i) => eqA(d, b.shape[i]!));
}

/** Inputs a kernel may overwrite with its output (each output element depends only on the same element of it). */
function inPlaceCandidates(k: Kernel): readonly View[] {
  switch (k.kind) {
    case 'elementwise': return k.ins;
    case 'gemm': case 'groupnorm': return k.epi.ins;
    default: return [];
  }
}

export function planMemory(bufs: readonly Buf[], kernels: readonly Kernel[], align = DEFAULT_ALIGN): { bufs: Buf[]; arena: Arena } {
  const first = new Map<number, number>(), last = new Map<number, number>();
  kernels.forEach((k, i) => {
    for (const v of [...kernelInputs(k), k.out]) {
      if (bufs[v.buf]!.kind !== 'temp') continue;
      if (!first.has(v.buf)) first.set(v.buf, i);
      last.set(v.buf, i);
    }
  });
  // In place: out takes the storage of an input that dies here, when both are whole buffers alike.
  const alias = new Map<number, number>();
  const root = (b: number): number => (alias.has(b) ? root(alias.get(b)!) : b);
  kernels.forEach((k, i) => {
    const o = bufs[k.out.buf]!;
    if (o.kind !== 'temp' || first.get(o.id) !== i || !wholeBuffer(k.out, o)) return;
    for (const v of inPlaceCandidates(k)) {
      const x = bufs[v.buf]!;
      if (x.kind === 'temp' && x.id !== o.id && last.get(x.id) === i && x.dtype === o.dtype && eqA(x.size, o.size) && wholeBuffer(v, x)) {
        alias.set(o.id, root(x.id));
        return;
      }
    }
  });
  const items = new Map<number, Item>();
  for (const b of bufs) {
    if (b.kind !== 'temp' || !first.has(b.id)) continue;
    const r = root(b.id);
    const bytes = { b: b.size.b * STORAGE_BYTES[b.dtype], c: b.size.c * STORAGE_BYTES[b.dtype] };
    const it = items.get(r);
    if (!it) items.set(r, { bufs: [b.id], start: first.get(b.id)!, end: last.get(b.id)!, bytes });
    else {
      it.bufs.push(b.id);
      it.start = Math.min(it.start, first.get(b.id)!);
      it.end = Math.max(it.end, last.get(b.id)!);
      it.bytes = { b: Math.max(it.bytes.b, bytes.b), c: Math.max(it.bytes.c, bytes.c) };
    }
  }
  const all = [...items.values()];
  const place = (group: Item[], size: (it: Item) => number) => {
    const offs = new Map<Item, number>();
    const sorted = [...group].sort((x, y) => size(y) - size(x) || x.start - y.start || x.bufs[0]! - y.bufs[0]!);
    let top = 0;
    for (const it of sorted) {
      const busy = [...offs].filter(([o]) => o.start <= it.end && it.start <= o.end).map(([o, off]) => [off, off + roundUp(size(o), align)] as const).sort((p, q) => p[0] - q[0]);
      let at = 0;
      for (const [lo, hi] of busy) {
        if (at + size(it) <= lo) break;
        at = Math.max(at, hi);
      }
      offs.set(it, at);
      top = Math.max(top, at + roundUp(size(it), align));
    }
    return { offs, top };
  };
  const batched = place(all.filter((it) => it.bytes.b > 0), (it) => it.bytes.b); // a batched size has no constant part: at most one dim is B
  const fixed = place(all.filter((it) => it.bytes.b === 0), (it) => it.bytes.c);
  const offsetOf = new Map<number, Affine>();
  for (const [it, off] of batched.offs) for (const b of it.bufs) offsetOf.set(b, { b: off, c: 0 });
  for (const [it, off] of fixed.offs) for (const b of it.bufs) offsetOf.set(b, { b: batched.top, c: off });
  return {
    bufs: bufs.map((b) => (offsetOf.has(b.id) ? { ...b, offset: offsetOf.get(b.id)! } : b)),
    arena: { perSample: batched.top, fixed: fixed.top, align },
  };
}

/** Arena bytes at a batch size. */
export function arenaBytes(a: Arena, batch: number): number {
  return atB({ b: a.perSample, c: a.fixed }, batch);
}
