// The interface every target implements, and what a build hands to it.
import type { Graph } from '../ir/graph.js';
import type { Spec } from '../spec/load.js';
import type { Manifest } from './manifest.js';

export type Precision = 'fp32' | 'fp16';

export interface BuildOptions {
  readonly precision: Precision;
  /** safetensors bytes to embed (targets that embed weights); seeded random weights otherwise. */
  readonly weights?: { readonly bytes: Uint8Array; readonly file: string };
  readonly seed: number;
  /** ONNX: write weights as external data when they exceed this many bytes. */
  readonly externalDataThreshold?: number;
  /** ONNX: the opset to target. */
  readonly opset?: number;
}

export interface BuildContext {
  readonly spec: Spec;
  readonly graph: Graph;
  readonly options: BuildOptions;
  readonly manifest: Manifest;
}

export interface OutputFile {
  readonly path: string;
  readonly contents: string | Uint8Array;
}

export interface OpenRequest {
  readonly dir: string;
  readonly manifest: Manifest;
  /** safetensors bytes (already validated against the manifest); unused by targets that embed weights. */
  readonly weights: Uint8Array;
  /** Intra-op threads for runtimes that have them. */
  readonly threads?: number;
}

/** A loaded model, ready to run batches. */
export interface Session {
  forward(input: Float32Array, batch: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  readonly description: string;
  readonly precisions: readonly Precision[];
  /** The main file of a build directory (manifest.entry). */
  readonly entry: string;
  /** Composite ops this target has kernels for; the rest are decomposed before emit. */
  readonly nativeComposites: ReadonlySet<string>;
  /** Whether the build embeds weights (so `vitc run` must rebuild with the weights given). */
  readonly embedsWeights: boolean;
  /** Build options (keys of BuildOptions beyond precision, weights and seed) that this target reads. */
  readonly options: readonly ('externalDataThreshold' | 'opset')[];
  emit(ctx: BuildContext): Promise<OutputFile[]>;
  /** The runner behind `vitc run`: load a built directory for execution. */
  open(req: OpenRequest): Promise<Session>;
}
