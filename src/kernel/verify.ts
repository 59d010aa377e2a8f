// The KernelProgram verifier: runs after lowering, like the graph verifier between passes. Checks
// buffers and views (in bounds for every batch size, at most one factor of B), each kernel's operand
// shapes, that every activation is written before it is read, and that the memory plan never puts two
// live activations in the same bytes.
import { atB, eqA, fmtA, type Affine } from '../ir/strided.js';
import { kernelInputs } from './walk.js';
import { STORAGE_BYTES, type Kernel, type KernelProgram, type View } from './types.js';

/** The lowest and highest element index a view touches, at a batch size. */
function extent(v: View, batch: number): [number, number] {
  let lo = atB(v.offset, batch), hi = lo;
  v.shape.forEach((d, i) => {
    const n = atB(d, batch), s = atB(v.strides[i]!, batch);
    if (n <= 0) return;
    if (s >= 0) hi += (n - 1) * s; else lo += (n - 1) * s;
  });
  return [lo, hi];
}

const sameDims = (x: readonly Affine[], y: readonly Affine[]) => x.length === y.length && x.every((d, i) => eqA(d, y[i]!));
const dims = (x: readonly Affine[]) => `[${x.map(fmtA).join(',')}]`;

function kernelShapes(k: Kernel): string[] {
  const p: string[] = [];
  const want = (ok: boolean, msg: () => string) => { if (!ok) p.push(msg()); };
  switch (k.kind) {
    case 'gemm': {
      const { g, m, k: kk, n } = k.rank;
      want(k.a.shape.length === g + m + kk && k.b.shape.length === g + kk + n && k.out.shape.length === g + m + n, () => `ranks a${dims(k.a.shape)} b${dims(k.b.shape)} out${dims(k.out.shape)} do not fit g=${g} m=${m} k=${kk} n=${n}`);
      want(sameDims(k.a.shape.slice(0, g + m), k.out.shape.slice(0, g + m)), () => `a${dims(k.a.shape)} and out${dims(k.out.shape)} differ in g/m dims`);
      want(sameDims(k.a.shape.slice(g + m), k.b.shape.slice(g, g + kk)), () => `a${dims(k.a.shape)} and b${dims(k.b.shape)} differ in k dims`);
      want(sameDims(k.b.shape.slice(g + kk), k.out.shape.slice(g + m)), () => `b${dims(k.b.shape)} and out${dims(k.out.shape)} differ in n dims`);
      for (const e of k.epi.ins) want(sameDims(e.shape, k.out.shape), () => `epilogue input ${dims(e.shape)} is not shaped like out${dims(k.out.shape)}`);
      if (k.ln) for (const x of [k.ln.w, k.ln.b]) if (x) want(kk === 1 && sameDims(x.shape, k.a.shape.slice(-1)), () => `LayerNorm prologue parameter ${dims(x.shape)} does not match k`);
      break;
    }
    case 'attention': {
      const r = k.q.shape.length;
      const lead = k.q.shape.slice(0, -2);
      want(r >= 2 && [k.k, k.v, k.out].every((v) => v.shape.length === r && sameDims(v.shape.slice(0, -2), lead)), () => 'attention operands differ in rank or leading dims');
      want(eqA(k.q.shape[r - 1]!, k.k.shape[r - 1]!) && eqA(k.k.shape[r - 2]!, k.v.shape[r - 2]!) && eqA(k.out.shape[r - 2]!, k.q.shape[r - 2]!) && eqA(k.out.shape[r - 1]!, k.v.shape[r - 1]!), () => 'attention q/k/v/out sizes disagree');
      break;
    }
    case 'layernorm':
      want(sameDims(k.x.shape, k.out.shape), () => `layernorm x${dims(k.x.shape)} vs out${dims(k.out.shape)}`);
      for (const x of [k.w, k.b]) if (x) want(sameDims(x.shape, k.x.shape.slice(-1)), () => 'layernorm parameter does not match the last dim');
      break;
    case 'groupnorm':
      want(sameDims(k.x.shape, k.out.shape), () => `groupnorm x${dims(k.x.shape)} vs out${dims(k.out.shape)}`);
      want(k.x.shape.length >= 2 && k.x.shape[1]!.b === 0 && k.x.shape[1]!.c % k.groups === 0, () => `groupnorm groups ${k.groups} do not divide the channels`);
      for (const e of k.epi.ins) want(sameDims(e.shape, k.out.shape), () => `groupnorm epilogue input ${dims(e.shape)} vs out${dims(k.out.shape)}`);
      break;
    case 'im2col': {
      want(k.x.shape.length === 4 && k.out.shape.length === 6, () => `im2col x${dims(k.x.shape)} -> out${dims(k.out.shape)} must be [N,C,H,W] -> [N,OH,OW,C,kh,kw]`);
      const [n, c] = k.x.shape;
      want(eqA(k.out.shape[0]!, n!) && eqA(k.out.shape[3]!, c!) && k.out.shape[4]!.c === k.kernel[0] && k.out.shape[5]!.c === k.kernel[1], () => 'im2col sizes disagree');
      break;
    }
    case 'softmax': case 'copy':
      want(sameDims(k.x.shape, k.out.shape), () => `${k.kind} x${dims(k.x.shape)} vs out${dims(k.out.shape)}`);
      break;
    case 'reduce':
      want(sameDims(k.x.shape.filter((_, i) => !k.axes.includes(i)), k.out.shape), () => `reduce x${dims(k.x.shape)} over [${k.axes}] vs out${dims(k.out.shape)}`);
      break;
    case 'elementwise':
      for (const e of k.ins) want(sameDims(e.shape, k.out.shape), () => `elementwise input ${dims(e.shape)} vs out${dims(k.out.shape)}`);
      break;
    case 'generic': break;
  }
  return p;
}

export function verifyKernels(p: KernelProgram): string[] {
  const problems: string[] = [];
  const written = new Set<number>();
  p.kernels.forEach((k, i) => {
    const where = `kernel ${i} (${k.kind} ${k.scope || '-'})`;
    if (k.id !== i) problems.push(`${where}: id ${k.id} is not its position`);
    for (const msg of kernelShapes(k)) problems.push(`${where}: ${msg}`);
    for (const [role, v] of [...kernelInputs(k).map((v) => ['input', v] as const), ['output', k.out] as const]) {
      const b = p.bufs[v.buf];
      if (!b) { problems.push(`${where}: ${role} view of unknown buffer #${v.buf}`); continue; }
      if (v.shape.length !== v.strides.length) problems.push(`${where}: view of #${b.id} has ${v.shape.length} dims and ${v.strides.length} strides`);
      if (v.shape.filter((d) => d.b !== 0).length > 1 || v.shape.some((d, j) => d.b !== 0 && v.strides[j]!.b !== 0)) {
        problems.push(`${where}: view of #${b.id} ${dims(v.shape)} has more than one factor of B`);
      }
      const [lo1, hi1] = extent(v, 1), [lo2, hi2] = extent(v, 2);
      const size1 = atB(b.size, 1), size2 = atB(b.size, 2);
      if (lo1 < 0 || lo2 < lo1 || hi1 >= size1 || (size2 - hi2) < (size1 - hi1)) problems.push(`${where}: view ${dims(v.shape)} of #${b.id} ${b.name} (${fmtA(b.size)} elements) is out of bounds`);
      if (role === 'output' && !(b.kind === 'temp' || b.kind === 'output')) problems.push(`${where}: writes to ${b.kind} buffer #${b.id}`);
      if (role === 'input' && b.kind === 'temp' && !written.has(b.id)) problems.push(`${where}: reads #${b.id} before any kernel writes it`);
    }
    written.add(k.out.buf);
  });
  // The memory plan: temps that are live at the same time never share bytes (unless one is the other's in-place alias).
  const live = new Map<number, [number, number]>();
  p.kernels.forEach((k, i) => {
    for (const v of [...kernelInputs(k), k.out]) {
      const l = live.get(v.buf);
      live.set(v.buf, l ? [l[0], i] : [i, i]);
    }
  });
  const temps = p.bufs.filter((b) => b.kind === 'temp' && live.has(b.id));
  for (const b of temps) if (!b.offset) problems.push(`temp #${b.id} has no arena offset`);
  for (const batch of [1, 64]) {
    const total = p.arena.perSample * batch + p.arena.fixed;
    const span = (b: (typeof temps)[number]) => { const o = atB(b.offset!, batch); return [o, o + atB(b.size, batch) * STORAGE_BYTES[b.dtype]] as const; };
    for (const b of temps) {
      if (!b.offset) continue;
      const [lo, hi] = span(b);
      if (lo % p.arena.align !== 0 || hi > total) problems.push(`temp #${b.id} [${lo}, ${hi}) is misaligned or outside the arena (${total} bytes) at B=${batch}`);
    }
    for (let x = 0; x < temps.length; x++) for (let y = x + 1; y < temps.length; y++) {
      const a = temps[x]!, c = temps[y]!;
      if (!a.offset || !c.offset) continue;
      const [la, ha] = live.get(a.id)!, [lc, hc] = live.get(c.id)!;
      const [sa, ea] = span(a), [sc, ec] = span(c);
      const sameStart = sa === sc;
      if (la <= hc && lc <= ha && sa < ec && sc < ea && !(sameStart && (ha === lc || hc === la))) {
        problems.push(`temps #${a.id} and #${c.id} are live together (kernels ${la}-${ha} and ${lc}-${hc}) and overlap at B=${batch}`);
      }
    }
  }
  return problems;
}
