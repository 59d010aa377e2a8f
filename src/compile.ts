// The compiler driver: spec -> IR -> passes -> backend files (io/build-dir.ts writes them).
import { loadSpec, type Spec } from './spec/load.js';
import { buildModel } from './models/bind.js';
import { runPipeline } from './passes/pipeline.js';
import type { Graph } from './ir/graph.js';
import { BACKENDS, featureTargets, getBackend, parseTargetOptions } from './backends/registry.js';
import { buildKernelProgram, printKernels, type KernelProgram } from './kernel/index.js';
import type { Backend, BuildOptions, OutputFile } from './backends/backend.js';
export { writeBuildDir } from './io/build-dir.js';
import { makeManifest, manifestJson, withFiles, type Manifest } from './backends/manifest.js';
import { fail } from './diag/diagnostic.js';
import { countMacs } from './analysis/cost.js';

export interface Compiled {
  readonly spec: Spec;
  readonly backend: Backend;
  readonly graph: Graph;
  readonly kernels?: KernelProgram;
  readonly manifest: Manifest;
  /** Multiply-adds per image of the model as written (what vitc inspect reports); the manifest counts the optimized graph's. */
  readonly modelMacs: number;
  readonly files: readonly OutputFile[];
  readonly dump?: string;
}

/** Spec -> IR as built (before passes), through the model language's stdlib model. */
export function buildGraph(spec: Spec): Graph {
  return buildModel(spec).graph;
}


/** The target, its options, the precision, the features option and --dump-kernels, checked before anything is built. */
export function checkBuildOptions(target: string, options: Pick<BuildOptions, 'precision' | 'features' | 'targetArgs'>, dumpKernels = false) {
  const backend = getBackend(target);
  if (dumpKernels && backend.consumes !== 'kernels') fail('cli/dump-kernels', `--dump-kernels: the ${target} target renders the graph, not a KernelProgram`, undefined, `targets with kernels: ${BACKENDS.filter((b) => b.consumes === 'kernels').map((b) => b.name).join(', ')}`);
  const targetOptions = parseTargetOptions(backend, options.targetArgs ?? {});
  if (!backend.precisions.includes(options.precision)) {
    fail('cli/precision', `target ${target} does not support --precision ${options.precision}`, undefined, `supported: ${backend.precisions.join(', ')}`);
  }
  if (options.features && !backend.capabilities.features) {
    fail('cli/features', `the ${target} target does not output the features yet`, undefined, `targets with features: ${featureTargets().join(', ')}`);
  }
  return { backend, targetOptions };
}

export async function compile(specPath: string, target: string, options: BuildOptions, dumpAfter?: string, dumpKernels = false): Promise<Compiled> {
  const { backend, targetOptions } = checkBuildOptions(target, options, dumpKernels);
  const spec = loadSpec(specPath);
  const built = buildModel(spec, { features: options.features });
  const { graph, dump } = runPipeline(built.graph, backend.capabilities, dumpAfter);
  const kernels = backend.consumes === 'kernels'
    ? buildKernelProgram(graph, { precision: options.precision, lnPrologue: backend.capabilities.lnPrologue ?? false })
    : undefined;
  const manifest0 = makeManifest(spec, graph, target, options.precision, backend.entryFor?.(targetOptions, spec) ?? backend.entry, built.sources, options.features);
  const emitted = await backend.emit({ spec, graph, kernels, options, targetOptions, manifest: manifest0 });
  const manifest = withFiles(manifest0, emitted);
  const files = [...emitted, { path: 'manifest.json', contents: manifestJson(manifest) }];
  return { spec, backend, graph, kernels, manifest, modelMacs: countMacs(built.graph), files, dump: dumpKernels && kernels ? (dump ?? '') + printKernels(kernels) : dump };
}
