// The pre-head features as a second graph output: the input of the first layer that fine-tuning
// trains (timm's `pre_logits.fc` when the model has one, else `head`), found in the graph by its
// parameter's state-dict name. Being a graph output, every target emits it without knowing why.
import { nodeIndex, type Graph } from '../ir/graph.js';

/** The output's name in the graph, the manifest and every target's files. */
export const FEATURES_OUTPUT = 'features';

/** The trainable layers, in the order the features flow through them (timm names). */
export const TRAINABLE_LAYERS = ['pre_logits.fc', 'head'] as const;
export type TrainableLayer = (typeof TRAINABLE_LAYERS)[number];

export interface FeaturesSite {
  /** The value that the first trainable layer reads: [B, D]. */
  readonly id: number;
  /** Which layer reads it. */
  readonly layer: TrainableLayer;
}

/** Where the features are: the input of the linear whose weight is `pre_logits.fc.weight`, else `head.weight`. */
export function featuresSite(g: Graph): FeaturesSite | undefined {
  const byId = nodeIndex(g);
  for (const layer of TRAINABLE_LAYERS) {
    const lin = g.nodes.find((n) => {
      if (n.op !== 'linear') return false;
      const w = byId.get(n.args[1]!);
      return w?.op === 'param' && w.attrs.name === `${layer}.weight`;
    });
    if (lin) return { id: lin.args[0]!, layer };
  }
  return undefined;
}

/** The graph with `features` as its last output; undefined when it has no head to find them at. */
export function withFeaturesOutput(g: Graph): Graph | undefined {
  const site = featuresSite(g);
  if (!site) return undefined;
  return { ...g, outputs: [...g.outputs, { name: FEATURES_OUTPUT, id: site.id }] };
}
