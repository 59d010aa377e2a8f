// The compilation pipeline: one ordered list of named passes, with the verifier between them.
import type { Graph } from '../ir/graph.js';
import { verifyGraph } from '../ir/verify.js';
import { printGraph } from '../ir/print.js';
import { canonicalize } from './canonicalize.js';
import { fuseAttention } from './fuse-attention.js';
import { cse } from './cse.js';
import { lowerComposites } from './lower.js';
import { narrowRows } from './narrow-rows.js';
import { foldWeightTransforms } from './fold-weights.js';
import type { Pass, PassOptions } from './pass.js';

export const PIPELINE: readonly Pass[] = [foldWeightTransforms, canonicalize, fuseAttention, cse, narrowRows, lowerComposites, canonicalize];

/** Names accepted by --dump-ir: "build" (the graph as built) and every pass. */
export const DUMP_POINTS: readonly string[] = ['build', ...new Set(PIPELINE.map((p) => p.name))];

export class InternalCompilerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalCompilerError';
  }
}

function check(g: Graph, after: string): void {
  const problems = verifyGraph(g);
  if (problems.length) throw new InternalCompilerError(`IR verification failed after ${after}:\n  ${problems.join('\n  ')}`);
}

export interface PipelineResult {
  readonly graph: Graph;
  /** IR text after the requested dump point (the last occurrence of a repeated pass). */
  readonly dump?: string;
}

export function runPipeline(g: Graph, opts: PassOptions, dumpAfter?: string): PipelineResult {
  check(g, 'build');
  let dump = dumpAfter === 'build' ? printGraph(g) : undefined;
  let cur = g;
  for (const p of PIPELINE) {
    cur = p.run(cur, opts);
    check(cur, `pass "${p.name}"`);
    if (dumpAfter === p.name) dump = printGraph(cur);
  }
  return { graph: cur, dump };
}
