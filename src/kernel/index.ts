// The kernel layer's pipeline: graph -> views and fused kernels -> precision -> memory plan -> verify.
import type { Graph } from '../ir/graph.js';
import type { Precision } from '../backends/backend.js';
import { InternalCompilerError } from '../passes/pipeline.js';
import { lowerGraph } from './lower.js';
import { planMemory, DEFAULT_ALIGN } from './memory.js';
import { precisionPolicy, storageOf } from './precision.js';
import { verifyKernels } from './verify.js';
import type { KernelProgram, View } from './types.js';

export interface KernelOptions {
  readonly precision: Precision;
  /** Compute a LayerNorm inside the GEMMs it feeds (targets that pack A anyway) rather than as a kernel. */
  readonly lnPrologue: boolean;
  /** Arena offset alignment in bytes. */
  readonly align?: number;
}

export function buildKernelProgram(g: Graph, opts: KernelOptions): KernelProgram {
  return buildKernelProgramWithValues(g, opts).program;
}

/** The program, and where each graph value lives in it (tests compare kernels with the unfused graph through this). */
export function buildKernelProgramWithValues(g: Graph, opts: KernelOptions): { program: KernelProgram; values: ReadonlyMap<number, View> } {
  const low = lowerGraph(g, { lnPrologue: opts.lnPrologue });
  const precision = precisionPolicy(opts.precision);
  const typed = low.bufs.map((b) => ({ ...b, dtype: storageOf(b.kind, precision) }));
  const { bufs, arena } = planMemory(typed, low.kernels, opts.align ?? DEFAULT_ALIGN);
  const program: KernelProgram = { name: g.name, precision, bufs, kernels: low.kernels, inputs: low.inputs, outputs: low.outputs, arena };
  const problems = verifyKernels(program);
  if (problems.length) throw new InternalCompilerError(`KernelProgram verification failed:\n  ${problems.join('\n  ')}`);
  return { program, values: low.values };
}

export type * from './types.js';
export { printKernels, fmtExpr } from './print.js';
