// The C-style renderer base shared by the cuda and wgsl targets (docs/architecture.md, "C-style
// renderers"): a Dialect is the data that differs between the languages; the kernel kinds that need
// no hand tuning are written here once over it. GEMM and attention templates stay per target.
import { InternalCompilerError } from '../../passes/pipeline.js';
import type { Kernel, KernelProgram } from '../../kernel/types.js';
import type { Dialect, KernelSource } from './dialect.js';
import { elementwiseKernel, im2colKernel, reduceKernel } from './elementwise.js';
import { genericKernel } from './generic.js';
import { groupnormKernel, layernormKernel, softmaxKernel } from './norm.js';

export type { Dialect, Grid, KernelSource, MathFn, Operand, Scalar } from './dialect.js';
export { renderExpr, exprInputs } from './expr.js';
export { affine, coordinates, mergeDims, offsetOf, paren } from './views.js';
export { operand, ELEMENTWISE_WORKGROUP } from './elementwise.js';
export { rowWorkgroup } from './norm.js';
export { dedupeKernels, NAME_PLACEHOLDER, type Deduped } from './dedupe.js';

/** The kinds this base renders; the rest (gemm, attention) are the target's own templates. */
export type CommonKind = 'elementwise' | 'copy' | 'reduce' | 'layernorm' | 'groupnorm' | 'softmax' | 'im2col' | 'generic';

export function isCommonKind(k: Kernel): k is Extract<Kernel, { kind: CommonKind }> {
  return k.kind !== 'gemm' && k.kind !== 'attention';
}

/** One kernel of a common kind, as a KernelSource named `name`, in dialect `d`; `serial` rows normalize a row per thread (no barriers). */
export function renderCommonKernel(d: Dialect, p: KernelProgram, k: Kernel, name: string, serial = false): KernelSource {
  switch (k.kind) {
    case 'elementwise': case 'copy': return elementwiseKernel(d, p, k, name);
    case 'reduce': return reduceKernel(d, p, k, name);
    case 'layernorm': return layernormKernel(d, p, k, name, serial);
    case 'groupnorm': return groupnormKernel(d, p, k, name);
    case 'softmax': return softmaxKernel(d, p, k, name, serial);
    case 'im2col': return im2colKernel(d, p, k, name);
    case 'generic': return genericKernel(d, p, k, name, d.name);
    case 'gemm': case 'attention': throw new InternalCompilerError(`${k.kind} kernels are the ${d.name} target's own templates`);
  }
}
