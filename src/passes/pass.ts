// A pass is a named pure function Graph -> Graph.
import type { Graph } from '../ir/graph.js';

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
