// Canonical form: fold chains of reshapes and transposes, drop identity layout ops.
import type { Pass } from './pass.js';
import { any, cap, op } from './pattern.js';
import { rewriteToFixpoint, type Rule } from './rewrite.js';
import { sameShape } from '../ir/types.js';

const isIdentityPerm = (p: readonly number[]) => p.every((v, i) => v === i);

export const canonicalRules: readonly Rule[] = [
  {
    name: 'identity-layout',
    pattern: op(['reshape', 'expand'], [any('x')], { bind: 'r' }),
    rewrite: (c) => (sameShape(c.get('x')!.type.shape, c.get('r')!.type.shape) ? c.get('x') : undefined),
  },
  {
    name: 'identity-transpose',
    pattern: op('transpose', [any('x')], { bind: 't', where: (n) => n.op === 'transpose' && isIdentityPerm(n.attrs.perm) }),
    rewrite: (c) => c.get('x'),
  },
  {
    name: 'reshape-reshape',
    pattern: op('reshape', [op('reshape', [any('x')])], { bind: 'r' }),
    rewrite: (c, e) => e.op('reshape', [c.get('x')!], { shape: cap(c, 'r', 'reshape').attrs.shape }),
  },
  {
    name: 'transpose-transpose',
    pattern: op('transpose', [op('transpose', [any('x')], { bind: 'inner' })], { bind: 'outer' }),
    rewrite: (c, e) => {
      const p1 = cap(c, 'inner', 'transpose').attrs.perm;
      const p2 = cap(c, 'outer', 'transpose').attrs.perm;
      const perm = p2.map((i: number) => p1[i]!);
      return isIdentityPerm(perm) ? c.get('x') : e.op('transpose', [c.get('x')!], { perm });
    },
  },
];

export const canonicalize: Pass = {
  name: 'canonicalize',
  description: 'fold reshape/transpose chains; drop identity reshapes, expands and transposes',
  run: (g) => rewriteToFixpoint(g, canonicalRules),
};
