// The IR: an immutable SSA graph. Each node is one op application producing one tensor value;
// nodes are stored in topological order and carry the span of the spec/DSL text that created them.
import type { Span } from '../diag/diagnostic.js';
import type { AttrsOf, OpName } from './ops/index.js';
import type { TensorType } from './types.js';

export interface NodeOf<K extends OpName> {
  readonly id: number;
  readonly op: K;
  readonly args: readonly number[];
  readonly attrs: AttrsOf<K>;
  readonly type: TensorType;
  /** Module path (timm naming, e.g. "blocks.3.attn") used for per-layer reports. */
  readonly scope: string;
  readonly span?: Span;
}

/** One discriminated union keyed by `op`, derived from the op catalog. */
export type Node = { [K in OpName]: NodeOf<K> }[OpName];

export interface GraphOutput {
  readonly name: string;
  readonly id: number;
}

export interface Graph {
  readonly name: string;
  readonly nodes: readonly Node[];
  readonly outputs: readonly GraphOutput[];
}

export function nodeIndex(g: Graph): Map<number, Node> {
  return new Map(g.nodes.map((n) => [n.id, n]));
}

/** For each node id, the ids of the nodes that use it (in order). */
export function usersOf(g: Graph): Map<number, number[]> {
  const users = new Map<number, number[]>(g.nodes.map((n) => [n.id, []]));
  for (const n of g.nodes) for (const a of n.args) users.get(a)?.push(n.id);
  return users;
}

export type ParamNode = NodeOf<'param'>;
export type InputNode = NodeOf<'input'>;

export function params(g: Graph): ParamNode[] {
  return g.nodes.filter((n): n is ParamNode => n.op === 'param');
}

export function inputs(g: Graph): InputNode[] {
  return g.nodes.filter((n): n is InputNode => n.op === 'input');
}

export function outputNodes(g: Graph): Node[] {
  const idx = nodeIndex(g);
  return g.outputs.map((o) => idx.get(o.id)!);
}

/** Renumber ids 0..n-1 in node order (deterministic ids after rewriting). */
export function compact(g: Graph): Graph {
  const map = new Map(g.nodes.map((n, i) => [n.id, i]));
  return {
    name: g.name,
    nodes: g.nodes.map((n, i) => ({ ...n, id: i, args: n.args.map((a) => map.get(a)!) }) as Node),
    outputs: g.outputs.map((o) => ({ name: o.name, id: map.get(o.id)! })),
  };
}
