// Golden fixtures (test/golden/<spec name>/): PyTorch logits for seeded weights and a batch of 3,
// produced by tools/golden (npm run golden). Shared by every target's golden test.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readNpy } from '../src/weights/npy.js';
import type { Precision } from '../src/backends/backend.js';

export interface Golden {
  readonly name: string;
  readonly spec: string;
  readonly weights: Uint8Array;
  readonly input: { readonly shape: readonly number[]; readonly data: Float32Array };
  readonly logits: { readonly shape: readonly number[]; readonly data: Float32Array };
}

export const GOLDEN_DIR = 'test/golden';
/** Where goldens come from: spec/tiny/tiny-*.yaml into test/golden/, the variant gallery's into test/golden/variants/. */
export const GOLDEN_SETS = [
  { specDir: 'spec/tiny', fixtureDir: GOLDEN_DIR },
  { specDir: 'spec/variants', fixtureDir: join(GOLDEN_DIR, 'variants') },
] as const;
const specsIn = (dir: string) => readdirSync(dir).filter((f) => /^tiny-.*\.yaml$/.test(f)).sort().map((f) => join(dir, f));
export const GOLDEN_SPECS = GOLDEN_SETS.flatMap((s) => specsIn(s.specDir));

/** Fixture names, sorted as names (tiny-r50 before tiny-r50-odd, as fixture directories sort). */
export function goldenNames(): string[] {
  return GOLDEN_SPECS.map((s) => basename(s, '.yaml')).sort();
}

/** The fixture directories there are, by name, in every set (the sets' own folders aside). */
export function fixtureDirs(): string[] {
  const sub = new Set(GOLDEN_SETS.map((s) => basename(s.fixtureDir)));
  return GOLDEN_SETS.flatMap((s) => (existsSync(s.fixtureDir) ? readdirSync(s.fixtureDir, { withFileTypes: true }) : [])
    .filter((e) => e.isDirectory() && !(s.fixtureDir === GOLDEN_DIR && sub.has(e.name)))
    .map((e) => e.name)).sort();
}

/** The spec and fixture directory of a golden, by name. */
export function goldenPaths(name: string): { spec: string; dir: string } {
  const set = GOLDEN_SETS.find((s) => existsSync(join(s.specDir, `${name}.yaml`)));
  if (!set) throw new Error(`no golden spec named ${name}`);
  return { spec: join(set.specDir, `${name}.yaml`), dir: join(set.fixtureDir, name) };
}

export function loadGolden(name: string): Golden {
  const { spec, dir } = goldenPaths(name);
  const npy = (f: string) => readNpy(join(dir, f), new Uint8Array(readFileSync(join(dir, f))));
  return {
    name,
    spec,
    weights: new Uint8Array(readFileSync(join(dir, 'weights.safetensors'))),
    input: npy('input.npy'),
    logits: npy('logits.npy'),
  };
}

/** max |got - ref| and max |ref|. */
export function compare(got: Float32Array, ref: Float32Array): { maxErr: number; maxRef: number; rel: number } {
  if (got.length !== ref.length) throw new Error(`length ${got.length} != ${ref.length}`);
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(got[i]! - ref[i]!));
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  }
  return { maxErr, maxRef, rel: maxErr / maxRef };
}

export interface GoldenRow {
  readonly target: string;
  readonly precision: Precision;
  readonly tolerance: number;
  /** Why this tolerance: what was measured. */
  readonly why: string;
  /** Also require the same top-1 class as PyTorch for every image (reduced precisions). */
  readonly top1?: boolean;
  /** The goldens this row runs, where not all (to keep the suite's time in bounds). */
  readonly only?: readonly string[];
  /** Target options of the build (`{ kernels: 'workgroup' }`), for a row that tests one variant of a target's kernels. */
  readonly targetArgs?: Readonly<Record<string, string>>;
  /** Environment of the runner where it is vitc's CUDA emulation: another legal schedule (docs/targets/cuda.md), so the row also hunts races. */
  readonly emulation?: Readonly<Record<string, string>>;
}

/**
 * Every target and precision matched against the PyTorch goldens (golden.test.ts), with the tolerance it
 * meets (max|err| <= tolerance * max|ref|) and why. bench/cuda-prep.ts reads the cuda rows for the GPU run.
 */
export const GOLDEN_MATRIX: readonly GoldenRow[] = [
  { target: 'js', precision: 'fp32', tolerance: 1e-5, why: 'f32 storage, f64 accumulation: measured at most 7e-7 on the plain ViTs, 1.4e-6 on the 16-unit hybrid tiny-r50' },
  { target: 'onnx', precision: 'fp32', tolerance: 1e-4, why: 'onnxruntime f32: measured at most 7.9e-7 on the plain ViTs (tiny-mlp-ratio; the last block narrowed), 1.9e-6 on the hybrids (tiny-r50; tiny-r50-odd 6.2e-7, tiny-r50-short 3.2e-7)' },
  { target: 'onnx', precision: 'fp16', tolerance: 5e-3, why: 'fp16 weights and activations, f32 statistics: measured at most 1.5e-3 on the plain ViTs (tiny-mlp-ratio), 3.0e-3 on tiny-r50' },
  { target: 'onnx', precision: 'fp32', targetArgs: { opset: '23' }, tolerance: 1e-4, why: 'the Attention operator: measured at most 7.9e-7 on the plain ViTs, 1.9e-6 on tiny-r50' },
  { target: 'onnx', precision: 'fp16', targetArgs: { opset: '23' }, tolerance: 5e-3, why: 'the Attention operator, softmax in f32: measured at most 1.6e-3 on the plain ViTs, 3.1e-3 on tiny-r50' },
  { target: 'onnx', precision: 'fp32', targetArgs: { 'onnx-ops': 'ort' }, tolerance: 1e-4, why: 'onnxruntime\'s fused Attention: measured at most 7.9e-7 on the plain ViTs, 1.9e-6 on tiny-r50' },
  { target: 'onnx', precision: 'fp16', targetArgs: { 'onnx-ops': 'ort' }, tolerance: 5e-3, why: 'onnxruntime\'s fused Attention in fp16: measured at most 1.8e-3 on the plain ViTs, 3.0e-3 on tiny-r50' },
  { target: 'cuda', precision: 'fp32', tolerance: 1e-5, why: 'model.cu under the CPU emulation, exact f32 FMA, online softmax: measured at most 6.1e-7 on the plain ViTs (tiny-p14), 1.6e-6 on tiny-r50' },
  { target: 'cuda', precision: 'tf32', top1: true, tolerance: 5e-3, only: ['tiny-base', 'tiny-p14', 'tiny-r50'], why: 'TF32 mma (10-bit mantissas), f32 attention: measured at most 1.1e-3 on the plain ViTs (tiny-p14), 1.8e-3 on tiny-r50, in the emulation, on all 18 goldens (bench/gpu/goldens.py); the others share its kernels with fp32 and fp16' },
  { target: 'cuda', precision: 'fp16', top1: true, tolerance: 1e-2, why: 'fp16 storage and mma, f32 accumulation and statistics: measured at most 1.7e-3 on the plain ViTs (tiny-mlp-ratio), 2.8e-3 on tiny-r50, in the emulation (a GPU sums in another order)' },
  { target: 'cuda', precision: 'bf16', top1: true, tolerance: 5e-2, only: ['tiny-base', 'tiny-distilled', 'tiny-mlp-ratio', 'tiny-p14', 'tiny-r50', 'tiny-r50-odd'], why: 'bf16 storage and mma (8-bit mantissas), f32 accumulation and statistics: measured at most 1.4e-2 on the plain ViTs (tiny-mlp-ratio), 2.5e-2 on tiny-r50, in the emulation, on all 18 goldens (bench/gpu/goldens.py); bf16 differs from the fp16 row only in the storage type, so it runs the worst and the odd-sized goldens, and under the racing schedule (each warp as far as it gets, cp.async copies when issued), where the other rows run the default', emulation: { VITC_EMU_SCHEDULE: 'warps', VITC_EMU_COPIES: 'eager' } },
  { target: 'wgsl', precision: 'fp32', tolerance: 1e-4, why: 'WebGPU through Dawn in Node on SwiftShader, with the kernels it picks for that CPU adapter (register tiles shared across 4-lane subgroups), f32: measured at most 7.4e-7 on the plain ViTs (tiny-mlp-ratio), 1.9e-6 on the hybrids (tiny-r50; tiny-r50-odd 8.9e-7, tiny-r50-short 5.0e-7)' },
  { target: 'wgsl', precision: 'fp32', targetArgs: { kernels: 'register' }, tolerance: 1e-4, only: ['tiny-base', 'tiny-r50-short'], why: 'the register-tile kernels without subgroups (other CPU adapters): measured 4.0e-7 (tiny-base), 5.0e-7 (tiny-r50-short); the other goldens share these templates with the subgroup kernels' },
  { target: 'wgsl', precision: 'fp32', targetArgs: { kernels: 'workgroup' }, tolerance: 1e-4, only: ['tiny-base'], why: 'the GPU kernels (workgroup-memory GEMM and attention tiles, workgroup reductions), forced on SwiftShader, which compiles them slowly (one golden): measured 3.3e-7' },
  { target: 'wgsl', precision: 'fp16', top1: true, tolerance: 1e-2, only: ['tiny-base', 'tiny-mlp-ratio', 'tiny-r50'], why: 'SwiftShader has no shader-f16, so the host stores f32 rounded to f16 after every kernel (the same values as f16 storage): measured at most 2.0e-3 on the plain ViTs (tiny-mlp-ratio), 2.6e-3 on tiny-r50 (im2col + GEMM convolutions, GroupNorm kernels)' },
];
