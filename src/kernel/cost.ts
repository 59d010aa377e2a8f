// Static costs of a KernelProgram, per kernel at a batch size: FLOPs, bytes read and written, and
// arithmetic intensity (what `vitc inspect SPEC --kernels` prints).
import { opDecl } from '../ir/ops/index.js';
import { atB } from '../ir/strided.js';
import type { Shape } from '../ir/types.js';
import { kernelInputs } from './walk.js';
import { STORAGE_BYTES, type Expr, type Kernel, type KernelProgram, type View } from './types.js';

export interface KernelCost {
  readonly flops: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const dims = (v: View, batch: number, from = 0, to = v.shape.length) => v.shape.slice(from, to).map((d) => atB(d, batch));

/** Distinct elements a view touches: broadcast (stride 0) dims count once. */
function touched(v: View, batch: number): number {
  return prod(v.shape.map((d, i) => (atB(v.strides[i]!, batch) === 0 ? 1 : atB(d, batch))));
}

function exprOps(e: Expr): number {
  switch (e.k) {
    case 'in': case 'acc': case 'const': return 0;
    case 'un': return (e.fn === 'gelu' || e.fn === 'gelu_tanh' ? 8 : 1) + exprOps(e.x);
    case 'bin': return 1 + exprOps(e.a) + exprOps(e.b);
  }
}

function flops(k: Kernel, batch: number): number {
  const out = prod(dims(k.out, batch));
  switch (k.kind) {
    case 'gemm': {
      const { g, m } = k.rank;
      const K = prod(dims(k.a, batch, g + m));
      return 2 * out * K + out * exprOps(k.epi.expr) + (k.ln ? 8 * prod(dims(k.a, batch)) : 0);
    }
    case 'attention': {
      const r = k.q.shape.length;
      const [T, d] = dims(k.q, batch, r - 2), S = atB(k.k.shape[r - 2]!, batch), dv = atB(k.v.shape[r - 1]!, batch);
      const G = prod(dims(k.q, batch, 0, r - 2));
      return G * (2 * T! * S * d! + 2 * T! * S * dv + 5 * T! * S);
    }
    case 'layernorm': return 8 * out;
    case 'groupnorm': return 8 * out + out * exprOps(k.epi.expr);
    case 'im2col': return 0;
    case 'softmax': return 5 * out;
    case 'reduce': return prod(dims(k.x, batch));
    case 'elementwise': return out * Math.max(1, exprOps(k.expr));
    case 'copy': return 0;
    case 'generic': {
      const decl = opDecl(k.op) as { macs?: (a: readonly Shape[], attrs: unknown, o: Shape) => number };
      return decl.macs ? 2 * decl.macs(k.ins.map((v) => dims(v, 1)), k.attrs, dims(k.out, 1)) * batch : out;
    }
  }
}

export function kernelCost(p: KernelProgram, k: Kernel, batch: number): KernelCost {
  const bytes = (v: View) => touched(v, batch) * STORAGE_BYTES[p.bufs[v.buf]!.dtype];
  return { flops: flops(k, batch), bytesRead: kernelInputs(k).reduce((s, v) => s + bytes(v), 0), bytesWritten: bytes(k.out) };
}
