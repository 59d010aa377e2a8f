// Generic access to a kernel's operands, for passes that do not care about the kind.
import type { Kernel, View } from './types.js';

/** Every view a kernel reads (its output excluded). */
export function kernelInputs(k: Kernel): View[] {
  switch (k.kind) {
    case 'gemm': return [k.a, k.b, ...(k.ln?.w ? [k.ln.w] : []), ...(k.ln?.b ? [k.ln.b] : []), ...k.epi.ins];
    case 'attention': return [k.q, k.k, k.v];
    case 'layernorm': return [k.x, ...(k.w ? [k.w] : []), ...(k.b ? [k.b] : [])];
    case 'groupnorm': return [k.x, ...(k.w ? [k.w] : []), ...(k.b ? [k.b] : []), ...k.epi.ins];
    case 'im2col': return [k.x];
    case 'softmax': case 'reduce': case 'copy': return [k.x];
    case 'elementwise': case 'generic': return [...k.ins];
  }
}
