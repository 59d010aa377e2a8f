// Static costs of a graph: parameters, multiply-accumulates, activation memory, per layer.
import { usersOf, type Graph, type Node } from '../ir/graph.js';
import { opDecl } from '../ir/ops/index.js';
import { bytesPerElement, numel, type Shape } from '../ir/types.js';

export function nodeMacs(n: Node, argShapes: readonly Shape[]): number {
  const decl = opDecl(n.op) as { macs?: (a: readonly Shape[], attrs: unknown, out: Shape) => number };
  return decl.macs ? decl.macs(argShapes, n.attrs, n.type.shape) : 0;
}

export function countParams(g: Graph): number {
  return g.nodes.reduce((s, n) => s + (n.op === 'param' ? numel(n.type.shape) : 0), 0);
}

/** Multiply-accumulates of matmuls and convolutions for one image (batch 1). */
export function countMacs(g: Graph): number {
  const shapes = new Map(g.nodes.map((n) => [n.id, n.type.shape]));
  return g.nodes.reduce((s, n) => s + nodeMacs(n, n.args.map((a) => shapes.get(a)!)), 0);
}

const isActivation = (n: Node) => n.op !== 'param' && n.op !== 'const';

/**
 * Peak bytes of simultaneously live activations (each value lives from its definition to its last
 * use), each element of the size `elementBytes` gives it (by default its IR dtype's).
 */
export function peakActivationBytes(g: Graph, batch = 1, elementBytes: (n: Node) => number = (n) => bytesPerElement(n.type.dtype)): number {
  const lastUse = new Map<number, number>();
  g.nodes.forEach((n, i) => n.args.forEach((a) => lastUse.set(a, i)));
  const outs = new Set(g.outputs.map((o) => o.id));
  let live = 0, peak = 0;
  const dying: number[][] = g.nodes.map(() => []);
  g.nodes.forEach((n) => { const e = lastUse.get(n.id); if (e !== undefined && !outs.has(n.id)) dying[e]!.push(n.id); });
  const size = new Map(g.nodes.map((n) => [n.id, isActivation(n) ? numel(n.type.shape, batch) * elementBytes(n) : 0]));
  g.nodes.forEach((n, i) => {
    live += size.get(n.id)!;
    peak = Math.max(peak, live);
    for (const d of dying[i]!) live -= size.get(d)!;
  });
  return peak;
}

export interface LayerRow {
  readonly layer: string;
  readonly output: Shape;
  readonly params: number;
  readonly macs: number;
  readonly ops: number;
}

/** The module path of a node (timm naming): a parameter's owner, else the scope that made it. */
function pathOf(n: Node): string {
  return n.op === 'param' ? n.attrs.name.split('.').slice(0, -1).join('.') || n.attrs.name : n.scope;
}

/** A path up to and including its first numbered part ("blocks.3", "patch_embed.backbone.stages.0"), if any. */
function numberedPrefix(path: string): string | undefined {
  const parts = path.split('.');
  const i = parts.findIndex((p) => /^\d+$/.test(p));
  return i > 0 ? parts.slice(0, i + 1).join('.') : undefined;
}

/**
 * Layer keys: a numbered module ("blocks.N", a backbone's "stages.N") is a layer; any other path is
 * cut at its first part, or deeper while that prefix also holds numbered layers, so that a hybrid's
 * patch_embed splits into patch_embed.backbone.stem, patch_embed.backbone.stages.N and patch_embed.proj.
 */
function layerKeys(g: Graph): (n: Node) => string {
  const numbered = new Set(g.nodes.map((n) => numberedPrefix(pathOf(n))).filter((p): p is string => p !== undefined));
  const holdsNumbered = (prefix: string) => [...numbered].some((k) => k.startsWith(`${prefix}.`));
  return (n) => {
    const path = pathOf(n);
    if (!path) return n.op === 'input' ? 'input' : '(top)';
    const own = numberedPrefix(path);
    if (own) return own;
    const parts = path.split('.');
    let depth = 1;
    while (depth < parts.length && holdsNumbered(parts.slice(0, depth).join('.'))) depth++;
    return parts.slice(0, depth).join('.');
  };
}

export function layerTable(g: Graph): LayerRow[] {
  // Ops outside any module (token concat, pooling) belong to the layer of their latest operand: the
  // distillation token's concat to dist_token, the pooling of each head's token to the norm before it,
  // the average of two heads to the second; ops on no layer's value to the layer before them.
  const layerOf = layerKeys(g);
  const keyOf = new Map<number, string>();
  let prev = '';
  for (const n of g.nodes) {
    if (n.op === 'input') continue;
    const own = layerOf(n);
    const latest = Math.max(-1, ...n.args.filter((a) => keyOf.has(a)));
    const key = own !== '(top)' ? own : latest >= 0 ? keyOf.get(latest)! : prev || own;
    keyOf.set(n.id, key);
    prev = key;
  }
  const rows = new Map<string, { output: Shape; params: number; macs: number; ops: number }>();
  const shapes = new Map(g.nodes.map((n) => [n.id, n.type.shape]));
  const users = usersOf(g);
  const outs = new Set(g.outputs.map((o) => o.id));
  for (const n of g.nodes) {
    const key = keyOf.get(n.id);
    if (key === undefined) continue;
    const r = rows.get(key) ?? { output: n.type.shape, params: 0, macs: 0, ops: 0 };
    if (n.op === 'param') r.params += numel(n.type.shape);
    else if (n.op !== 'const') {
      r.macs += nodeMacs(n, n.args.map((a) => shapes.get(a)!));
      r.ops += 1;
    }
    // The layer's output: its last value used by another layer (or a graph output).
    if (n.op !== 'param' && n.op !== 'const' && ((users.get(n.id) ?? []).some((u) => keyOf.get(u) !== key) || outs.has(n.id))) r.output = n.type.shape;
    rows.set(key, r);
  }
  return [...rows].map(([layer, r]) => ({ layer, ...r }));
}

/**
 * The token counts the model's layers see: T of every numbered layer's [B, T, D] output (blocks.N),
 * in layer order without repeats; one count for a plain ViT, whatever tokens its model adds.
 */
export function tokenCounts(g: Graph): { tokens: number; width: number }[] {
  const seen = new Set<string>();
  return layerTable(g)
    .filter((r) => /\.\d+$/.test(r.layer) && r.output.length === 3 && typeof r.output[1] === 'number' && typeof r.output[2] === 'number')
    .map((r) => ({ tokens: r.output[1] as number, width: r.output[2] as number }))
    .filter((t) => { const k = `${t.tokens}x${t.width}`; if (seen.has(k)) return false; seen.add(k); return true; });
}
