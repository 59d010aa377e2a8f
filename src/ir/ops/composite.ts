// Composite ops: created by fusion passes, never by the builder's users directly. Each has a
// decomposition into primitives, so a backend without a special kernel still compiles the graph.
import { defineOp, formatPlainAttrs, type OpDecl } from '../op.js';
import { fmtShape, shapeCheck, tensor } from '../types.js';

export interface AttentionAttrs { readonly scale: number }

export const attention: OpDecl<AttentionAttrs> = defineOp<AttentionAttrs>({
  name: 'attention', kind: 'composite', arity: 3, fusion: 'opaque',
  doc: 'Scaled dot-product attention softmax(q k^T * scale) v over [..., T, d] operands.',
  infer: ([q, k, v]) => {
    const r = q!.shape.length;
    shapeCheck(r >= 2 && k!.shape.length === r && v!.shape.length === r, () => `attention operands must have the same rank >= 2; got ${fmtShape(q!.shape)}, ${fmtShape(k!.shape)}, ${fmtShape(v!.shape)}`);
    shapeCheck(q!.shape.slice(0, -2).every((d, i) => d === k!.shape[i] && d === v!.shape[i]), () => `attention operands must share leading dims; got ${fmtShape(q!.shape)}, ${fmtShape(k!.shape)}, ${fmtShape(v!.shape)}`);
    shapeCheck(q!.shape[r - 1] === k!.shape[r - 1], () => `attention q and k widths differ: ${fmtShape(q!.shape)} vs ${fmtShape(k!.shape)}`);
    shapeCheck(k!.shape[r - 2] === v!.shape[r - 2], () => `attention k and v lengths differ: ${fmtShape(k!.shape)} vs ${fmtShape(v!.shape)}`);
    return tensor([...q!.shape.slice(0, -1), v!.shape[r - 1]!], q!.dtype);
  },
  macs: ([q, k, v]) => {
    const r = q!.length;
    const lead = q!.slice(0, -2).reduce<number>((n, d) => n * (typeof d === 'number' ? d : 1), 1);
    const [t, d] = q!.slice(-2) as [number, number];
    const s = k![r - 2] as number;
    const dv = v![r - 1] as number;
    return lead * t * s * (d + dv);
  },
  formatAttrs: formatPlainAttrs,
  decompose: (b, [q, k, v], a) => {
    const r = q!.type.shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    const s = b.op('matmul', [q!, b.op('transpose', [k!], { perm })], {});
    const p = b.op('softmax', [b.op('mul', [s, b.scalar(a.scale)], {})], { axis: r - 1 });
    return b.op('matmul', [p, v!], {});
  },
});
