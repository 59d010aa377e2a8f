// manifest.json: what every build directory says about itself (design note 5).
import { createHash } from 'node:crypto';
import { inputs, outputNodes, params, type Graph } from '../ir/graph.js';
import type { Init, WeightTransform } from '../ir/ops/index.js';
import { numel, type Dim } from '../ir/types.js';
import { displayPath, type Spec } from '../spec/load.js';
import { fail } from '../diag/diagnostic.js';
import { readLabels } from '../image/labels.js';
import { vitcVersion } from '../paths.js';
import { countParams, countMacs } from '../analysis/cost.js';
import type { Precision } from './backend.js';

export interface TensorSig { readonly name: string; readonly dtype: string; readonly shape: readonly Dim[] }
/** A weight the build expects; `init` is how seeded random weights fill it. */
export interface WeightSig { readonly name: string; readonly shape: readonly number[]; readonly init: Init }

export interface Manifest {
  readonly format: 'vitc-build/1';
  readonly vitc: string;
  readonly spec: { readonly name: string; readonly sha256: string; readonly description: string };
  /** Model-language files the model was built from. */
  readonly sources: readonly { readonly name: string; readonly sha256: string }[];
  readonly target: string;
  readonly precision: Precision;
  readonly entry: string;
  readonly inputs: readonly TensorSig[];
  readonly outputs: readonly TensorSig[];
  readonly weights: readonly WeightSig[];
  /**
   * Transforms folded into weights, in the order each weight applies them when it is loaded (e.g.
   * `{ name, op: 'standardize', eps }` for a weight-standardized convolution): the weights file holds
   * the checkpoint's values, the kernels read the transformed ones. Targets that embed weights have
   * applied them already; runtimes that load a weights file apply them (src/runtime/transforms.js).
   */
  readonly weight_transforms: readonly ({ readonly name: string } & WeightTransform)[];
  /** largest_tensor_elements: the largest activation of one image (bounds the batch a runner may take). */
  readonly stats: { readonly parameters: number; readonly macs_per_image: number; readonly largest_tensor_elements?: number };
  readonly preprocess: Spec['config']['preprocess'];
  /** The class names of the first output, from the spec's `labels` file, so a build directory runs with them as its spec does. */
  readonly labels?: readonly string[];
  readonly files: readonly { readonly path: string; readonly sha256: string; readonly bytes: number }[];
}

/**
 * The spec's labels file, read as vitc run reads it (one name per line, or class_indices.json) and
 * checked against the first output's classes; undefined without one, or for a features build.
 */
function specLabels(spec: Spec, out: TensorSig): string[] | undefined {
  const file = spec.config.labels;
  if (!file) return undefined;
  const at = spec.spans.value('/labels');
  if (out.shape.length !== 2) fail('build/labels', `labels need an output of class scores [B, classes]; the model's output ${out.name} is [${out.shape.join(',')}]`, at);
  return readLabels(displayPath(file), out.shape[1] as number, at);
}

export function makeManifest(spec: Spec, g: Graph, target: string, precision: Precision, entry: string, sources: Manifest['sources'], features = false): Manifest {
  const sig = (name: string, t: { dtype: string; shape: readonly Dim[] }): TensorSig => ({ name, dtype: t.dtype, shape: [...t.shape] });
  const outs = outputNodes(g);
  const outputs = g.outputs.map((o, i) => sig(o.name, outs[i]!.type));
  const labels = features ? undefined : specLabels(spec, outputs[0]!);
  return {
    format: 'vitc-build/1',
    vitc: vitcVersion,
    spec: { name: spec.config.name, sha256: spec.hash, description: spec.config.description },
    sources,
    target,
    precision,
    entry,
    inputs: inputs(g).map((n) => sig(n.attrs.name, n.type)),
    outputs,
    weights: params(g).map((p) => ({ name: p.attrs.name, shape: p.attrs.shape as number[], init: p.attrs.init })),
    weight_transforms: params(g).flatMap((p) => (p.attrs.transforms ?? []).map((t) => ({ name: p.attrs.name, ...t }))),
    stats: { parameters: countParams(g), macs_per_image: countMacs(g), largest_tensor_elements: g.nodes.reduce((m, n) => (n.op === 'param' || n.op === 'const' ? m : Math.max(m, numel(n.type.shape, 1))), 0) },
    preprocess: spec.config.preprocess,
    ...(labels ? { labels } : {}),
    files: [],
  };
}

/** sha256 of any size (crypto's update takes at most 2 GiB at a time). */
function sha256(bytes: Uint8Array): string {
  const h = createHash('sha256');
  const CHUNK = 1 << 30;
  for (let i = 0; i < bytes.length; i += CHUNK) h.update(bytes.subarray(i, Math.min(bytes.length, i + CHUNK)));
  return h.digest('hex');
}

export function withFiles(m: Manifest, files: readonly { path: string; contents: string | Uint8Array }[]): Manifest {
  return {
    ...m,
    files: files.map((f) => {
      const bytes = typeof f.contents === 'string' ? Buffer.from(f.contents, 'utf8') : f.contents;
      return { path: f.path, sha256: sha256(bytes), bytes: bytes.length };
    }),
  };
}

export function manifestJson(m: Manifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}
