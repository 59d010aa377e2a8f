// What imported weights are for: the parameters a model expects (timm names and shapes), its input
// size, and where its spec sets each key. Built from a spec or from a build directory's manifest.
import type { Span } from '../diag/diagnostic.js';
import type { Manifest } from '../backends/manifest.js';
import { buildModel } from '../models/bind.js';
import { inputs, params } from '../ir/graph.js';
import { withSpecOrigins, type Spec } from '../spec/load.js';

export interface ExpectedModel {
  readonly specName: string;
  readonly weights: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>;
  /** The input image [H, W]. */
  readonly imageSize: readonly [number, number];
  /** Where the spec sets a key (spec runs); absent for a build directory, whose spec is not at hand. */
  readonly spanOf?: (key: string) => Span;
  /** Run `fn`, its diagnostics at a base spec's lines saying which file extended it (spec runs). */
  readonly annotate?: <T>(fn: () => T) => T;
  /**
   * Which parts are the spec's own model-language code (`block:`, a `global_pool:` block, `model:`):
   * their tensors say nothing certain about the stdlib hyperparameters (a GLU's packed fc1 is not
   * mlp_ratio). Unknown for a build directory: taken as none.
   */
  readonly own?: { readonly block: boolean; readonly pool: boolean; readonly model: boolean };
}

export function expectedFromSpec(spec: Spec): ExpectedModel {
  const { graph } = buildModel(spec);
  // The model's own input, [B, C, H, W]: a model of one's own need not have an img_size key.
  const shape = inputs(graph)[0]!.type.shape;
  return {
    specName: spec.config.name,
    weights: params(graph).map((p) => ({ name: p.attrs.name, shape: p.attrs.shape as number[] })),
    imageSize: [shape[2] as number, shape[3] as number],
    spanOf: (key) => spec.spans.value(`/${key}`),
    annotate: (fn) => withSpecOrigins(spec, fn),
    own: { block: spec.config.block !== null, pool: spec.config.pool !== null, model: spec.config.model !== null },
  };
}

export function expectedFromManifest(m: Manifest): ExpectedModel {
  const shape = m.inputs[0]!.shape;
  return {
    specName: m.spec.name,
    weights: m.weights.map((w) => ({ name: w.name, shape: w.shape })),
    imageSize: [shape[2] as number, shape[3] as number],
  };
}
