// Fuse scaled dot-product attention: matmul(softmax(scale * q @ k^T), v) -> attention(q, k, v).
// Written as patterns, so it fires on any block that computes attention this way (the scale may be
// applied to the scores or to q, or be absent).
import type { Pass } from './pass.js';
import { any, cap, op, type Captures } from './pattern.js';
import { rewriteToFixpoint, type Emitter, type Ref, type Rule } from './rewrite.js';
import type { Node } from '../ir/graph.js';

const isScalarConst = (n: Node) => n.op === 'const' && n.attrs.data.length === 1;
const scalarOf = (n: Node) => (n.op === 'const' ? n.attrs.data[0]! : NaN);
const lastAxis = (n: Node) => n.op === 'softmax' && n.attrs.axis === n.type.shape.length - 1;
const scalar = (name: string) => op('const', [], { bind: name, where: isScalarConst });
/** k^T: a transpose whose last two output dims come from swapping the input's last two. */
const kT = op('transpose', [any('k0')], { bind: 'kT', single: true });

/** k in [..., S, d] from the matched k^T = transpose(k0, p). */
function keyFromTranspose(c: Captures, e: Emitter): Ref | undefined {
  const p = cap(c, 'kT', 'transpose').attrs.perm;
  const r = p.length;
  const perm = [...p];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  const k0 = c.get('k0')!;
  return perm.every((v, i) => v === i) ? k0 : e.op('transpose', [k0], { perm });
}

function fuse(c: Captures, e: Emitter, q: Ref, scale: number): Ref | undefined {
  const k = keyFromTranspose(c, e);
  const v = c.get('v')!;
  if (!k || q.type.shape.length !== v.type.shape.length) return undefined;
  return e.op('attention', [q, k, v], { scale });
}

const softmaxOf = (scores: ReturnType<typeof op>) => op('matmul', [op('softmax', [scores], { where: lastAxis, single: true }), any('v')]);

export const attentionRules: readonly Rule[] = [
  {
    name: 'attention-scaled-scores',
    pattern: softmaxOf(op('mul', [op('matmul', [any('q'), kT], { single: true }), scalar('s')], { single: true })),
    rewrite: (c, e) => fuse(c, e, c.get('q')!, scalarOf(c.get('s')!)),
  },
  {
    name: 'attention-scaled-query',
    pattern: softmaxOf(op('matmul', [op('mul', [any('q'), scalar('s')], { single: true }), kT], { single: true })),
    rewrite: (c, e) => fuse(c, e, c.get('q')!, scalarOf(c.get('s')!)),
  },
  {
    name: 'attention-unscaled',
    pattern: softmaxOf(op('matmul', [any('q'), kT], { single: true })),
    rewrite: (c, e) => fuse(c, e, c.get('q')!, 1),
  },
];

export const fuseAttention: Pass = {
  name: 'fuse-attention',
  description: 'replace softmax(q k^T * scale) v with the composite attention op',
  run: (g) => rewriteToFixpoint(g, attentionRules),
};
