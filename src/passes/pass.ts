// A pass is a named pure function Graph -> Graph.
import type { Graph } from '../ir/graph.js';

/** What the passes ask of the target: a backend's Capabilities is one (compile and inspect pass it whole). */
export interface PassOptions {
  /** Composite ops the target implements natively; all others are decomposed. */
  readonly nativeComposites: ReadonlySet<string>;
  /** Compute only the rows the outputs read (narrow-rows.ts); targets opt in. */
  readonly narrowRows?: boolean;
}

export interface Pass {
  readonly name: string;
  readonly description: string;
  run(g: Graph, opts: PassOptions): Graph;
}
