// The tables a generated WGSL module carries (render.ts fills them, runtime/host.ts runs them).
// Types only: inlined into every model.mjs by module.ts.

/** b·B + c, B the batch size. */
export interface Aff { readonly b: number; readonly c: number }

/** A weight transform (manifest.json's weight_transforms; src/runtime/transforms.js applies it). */
export type HostWeightTransform = { readonly op: 'standardize'; readonly eps: number };

/** Where an operand lives: the weights buffer, the activation arena, or the f32 input/output buffer. */
export type Space = 'W' | 'A' | 'IO';

export interface HostOperand { readonly space: Space; readonly offset: Aff }

/** Workgroups to launch: Π ceil(count / per) work items over `items`, then ceil(items / per) groups; a string names an override. */
export interface HostVariant {
  readonly shader: number;
  readonly items: readonly (readonly [Aff, number | string])[];
  readonly per: number | string;
  /** Override constants this variant takes, chosen at load from the shape and the adapter's limits. */
  readonly tiles?: { readonly kind: 'gemm'; readonly M: Aff; readonly N: number } | { readonly kind: 'attention'; readonly T: number; readonly d: number; readonly dv: number };
}

export interface HostKernel {
  /** `k12 gemm blocks.0.attn.qkv`, for errors and the dump. */
  readonly label: string;
  readonly operands: readonly HostOperand[];
  /**
   * `any` serves every adapter; most kinds have a `workgroup` variant (GPUs) and a `register` one (CPU
   * adapters: no workgroup memory, no barriers), GEMMs and attention also a `subgroup` one (CPU adapters
   * with subgroups of 4 lanes); a kernel without the chosen variant falls back to register, then any.
   */
  readonly variants: { readonly any?: HostVariant; readonly register?: HostVariant; readonly subgroup?: HostVariant; readonly workgroup?: HostVariant };
}

/** A region of the weights buffer, in elements: a parameter as stored, a constant, or a GEMM weight repacked to [K, Npad]. */
export type WeightSegment =
  | { readonly kind: 'param'; readonly name: string; readonly at: number; readonly size: number }
  | { readonly kind: 'const'; readonly at: number; readonly data: string }
  | {
    readonly kind: 'pack'; readonly name: string; readonly at: number; readonly K: number; readonly N: number; readonly Npad: number;
    /** The weight's view: element (k, n) is at offset + Σ k-coords·kStrides + Σ n-coords·nStrides. */
    readonly offset: number; readonly kShape: readonly number[]; readonly kStrides: readonly number[]; readonly nShape: readonly number[]; readonly nStrides: readonly number[];
  };

export interface HostProgram {
  readonly name: string;
  /** Storage of weights and activations: f16 needs the adapter's shader-f16 (else f32 storage rounded to f16). */
  readonly storage: 'f32' | 'f16';
  /** WGSL prelude per storage mode: `native` (the storage type itself) and, for f16, `emulated` (f32 storage, f16 rounding). */
  readonly prelude: { readonly native: string; readonly emulated?: string };
  readonly shaders: readonly string[];
  readonly kernels: readonly HostKernel[];
  /** Weights buffer size in elements, and what goes where. */
  readonly weightElems: number;
  readonly segments: readonly WeightSegment[];
  /** Arena elements: B·perSample + fixed. */
  readonly arena: Aff;
  /** The f32 input/output buffer: input at 0, output after it (elements per sample). */
  readonly inputPerSample: number;
  readonly outputPerSample: number;
  /** Transforms the loader applies to a weight's values before placing them (folded StdConv standardization). */
  readonly transforms: Readonly<Record<string, readonly HostWeightTransform[]>>;
  /** The build's --kernels (load options override it). */
  readonly kernelChoice?: KernelChoice;
}

export type KernelChoice = 'auto' | 'register' | 'subgroup' | 'workgroup';

export interface LoadOptions {
  /** The WebGPU entry point: `navigator.gpu` by default; in Node, `create([...])` from the `webgpu` package. */
  readonly gpu?: GPU;
  /** Passed to requestAdapter (e.g. `{ forceFallbackAdapter: true }` for SwiftShader). */
  readonly adapter?: GPURequestAdapterOptions;
  /** Kernel variants: `register` tiles (CPU adapters), `subgroup` (CPU adapters with 4-lane subgroups), `workgroup`-memory tiles (GPUs); `auto` picks by adapter. */
  readonly kernels?: KernelChoice;
  /** Called with one line for each choice the loader made that changes how the model runs (a fallback, the kernel variant). */
  readonly onInfo?: (line: string) => void;
  /** Called as the pipelines compile (the long part of loading on a CPU adapter): `done` of `total`. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ModelInfo {
  readonly adapter: string;
  readonly kernels: 'register' | 'subgroup' | 'workgroup';
  readonly storage: 'f32' | 'f16' | 'f16 rounded in f32';
  readonly weightBytes: number;
}

