// The interface every target implements, and what a build hands to it.
import type { Graph } from '../ir/graph.js';
import type { KernelProgram } from '../kernel/types.js';
import type { Spec } from '../spec/load.js';
import type { Manifest } from './manifest.js';

/** Every precision a target may offer. fp32 is every target's default (and exact); the others are opt-in. */
export const PRECISIONS = ['fp32', 'tf32', 'fp16', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/**
 * An option of one target (`--opset 20` for onnx): declared by the backend, parsed by it, and refused
 * with a clear message when given for another target.
 */
export interface TargetOption {
  /** The flag without dashes: `opset` for `--opset`. */
  readonly flag: string;
  /** 'string' options take a value (`--opset 20`); 'boolean' ones do not (`--page`). */
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in --help (`N`, `BYTES`); unused for booleans. */
  readonly value?: string;
  readonly help: string;
  /**
   * The option shapes only the files of the build directory (their layout, an extra page), not the
   * model that runs. vitc run SPEC and vitc finetune build into directories nobody sees, so they
   * refuse such an option instead of ignoring it, and their --help leaves it out.
   */
  readonly layoutOnly?: boolean;
  /** The typed value from the command-line text; reports a bad value with fail() (exit 1). */
  parse(raw: string | true): unknown;
}

export interface BuildOptions {
  readonly precision: Precision;
  /** safetensors bytes to embed (targets that embed weights); seeded random weights otherwise. */
  readonly weights?: { readonly bytes: Uint8Array; readonly file: string };
  readonly seed: number;
  /** Also output the pre-head features as `features` [B, D] (models/features.ts), after `logits`. */
  readonly features?: boolean;
  /** Target options as given on the command line, by flag (`{ opset: '20' }`); compile() checks and parses them. */
  readonly targetArgs?: Readonly<Record<string, string | true>>;
}

export interface BuildContext {
  readonly spec: Spec;
  readonly graph: Graph;
  /** The planned program, for targets that consume 'kernels'. */
  readonly kernels?: KernelProgram;
  readonly options: BuildOptions;
  /** The target's own options, parsed by its TargetOption declarations (absent flags are absent). */
  readonly targetOptions: Readonly<Record<string, unknown>>;
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
  /** Where the runner reports what it chose (a GPU or the emulation, a fallback), one line each. */
  readonly info?: (line: string) => void;
}

/** A loaded model, ready to run batches. */
export interface Session {
  /** The first output (the logits), [batch, ...]. */
  forward(input: Float32Array, batch: number): Promise<Float32Array>;
  /**
   * Every output, in the manifest's order (logits, then features in a build made with them). Targets
   * whose runner returns only the first output leave it out (`vitc finetune` needs it).
   */
  forwardAll?(input: Float32Array, batch: number): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** What a target can do, declared once so that drivers and tests ask instead of special-casing names. */
export interface Capabilities {
  /** Composite ops this target has kernels for; the rest are decomposed before emit. */
  readonly nativeComposites: ReadonlySet<string>;
  /** Whether the build embeds weights (so `vitc run` must rebuild with the weights given). */
  readonly embedsWeights: boolean;
  /**
   * Whether the pipeline may compute only the rows the outputs read (passes/narrow-rows.ts): the
   * target's kernels then see attention with fewer queries than keys, and slices of any axis.
   */
  readonly narrowRows?: boolean;
  /** Targets that consume 'kernels': compute a LayerNorm inside the GEMMs it feeds rather than as a kernel of its own. */
  readonly lnPrologue?: boolean;
  /** Whether the target emits a second graph output (the `features` build option) and its runner returns it (forwardAll). */
  readonly features?: boolean;
  /** Whether the runner takes intra-op threads (OpenRequest.threads, `vitc run --threads`); default true. */
  readonly threads?: boolean;
}

export interface Backend {
  readonly name: string;
  readonly description: string;
  /**
   * Which level the target renders: 'graph' (the pass pipeline's IR, as ONNX does, whose runtime fuses
   * and plans memory itself) or 'kernels' (the planned KernelProgram, as code-generating targets do).
   */
  readonly consumes: 'graph' | 'kernels';
  /** Precisions the target builds, the first being its default. */
  readonly precisions: readonly Precision[];
  readonly capabilities: Capabilities;
  /** The main file of a build directory (manifest.entry). */
  readonly entry: string;
  /** The main file when the target's options move it (onnx --serve triton); `entry` otherwise. */
  entryFor?(targetOptions: Readonly<Record<string, unknown>>, spec: Spec): string;
  /** The target's own command-line options. */
  readonly options: readonly TargetOption[];
  emit(ctx: BuildContext): Promise<OutputFile[]>;
  /** The runner behind `vitc run`: load a built directory for execution. */
  open(req: OpenRequest): Promise<Session>;
}
