// model.mjs and model.d.mts of a WGSL build, generated with ts-morph: the host runtime
// (runtime/host.ts, with its table types from runtime/program.ts) and the program's tables (shaders,
// kernels, weight layout, manifest) are assembled as one TypeScript module, which the TypeScript
// compiler then emits as JavaScript and declarations. The shared plain-JS runtime (safetensors
// parsing, f16 conversion) is inlined before it, as the JS target does. The module targets
// @webgpu/types and ES2022 only (module.test.ts typechecks it so).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Project, StructureKind, ts, VariableDeclarationKind, type SourceFile } from 'ts-morph';
import { packageRoot } from '../../paths.js';
import type { Manifest } from '../manifest.js';
import { runtimeSource } from '../js/emit.js';
import type { HostProgram } from './runtime/program.js';

/** Shared plain-JS runtime inlined into model.mjs (paths under src/). */
const JS_RUNTIME = ['runtime/dtype.js', 'runtime/transforms.js', 'runtime/safetensors.js'];
/** Their declarations, made ambient in the module's TypeScript (so they typecheck and emit nothing). */
const JS_RUNTIME_TYPES = ['runtime/dtype.d.ts', 'runtime/transforms.d.ts', 'runtime/safetensors.d.ts'];
const HOST_FILES = ['backends/wgsl/runtime/program.ts', 'backends/wgsl/runtime/host.ts'];

/** What the module may use besides ES2022 and @webgpu/types: a browser's or Node's globals, declared minimally. */
const AMBIENT = `/// <reference types="@webgpu/types" />
declare const navigator: { readonly gpu?: GPU } | undefined;
declare const process: { readonly versions?: { readonly node?: string } } | undefined;
declare function atob(data: string): string;
declare const performance: { now(): number };
declare function fetch(url: string): Promise<{ readonly ok: boolean; readonly status: number; readonly statusText: string; arrayBuffer(): Promise<ArrayBuffer> }>;
`;

/** The exported names of the module; everything else in the runtime is internal. */
const PUBLIC = new Set(['Model', 'LoadOptions', 'ModelInfo', 'KernelChoice']);

/** @webgpu/types' declarations, when installed. */
export function webgpuTypesText(): string | undefined {
  try {
    return readFileSync(createRequire(import.meta.url).resolve('@webgpu/types/dist/index.d.ts'), 'utf8');
  } catch {
    return undefined;
  }
}

const src = (f: string) => readFileSync(join(packageRoot, 'src', f), 'utf8');

const inMemory = (): Project => new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true, compilerOptions: { noLib: true, types: [] } });

let staticText: string | undefined;

/**
 * The host part of every module, as TypeScript: runtime/program.ts and runtime/host.ts in one file,
 * their imports replaced by ambient declarations of the shared JS runtime, only the public API
 * exported. The same for every build, so made once per process.
 */
function hostSource(): string {
  if (staticText !== undefined) return staticText;
  const project = inMemory();
  const file = project.createSourceFile('/host.ts', [AMBIENT, ...HOST_FILES.map(src)].join('\n'));
  file.getImportDeclarations().forEach((d) => d.remove());
  for (const f of JS_RUNTIME_TYPES) {
    // Their types from elsewhere in vitc are the table types' own copies (program.ts).
    const decl = project.createSourceFile(`/decl/${f}`, src(f).replace(/\bWeightTransform\b/g, 'HostWeightTransform'));
    decl.getImportDeclarations().forEach((d) => d.remove());
    for (const s of decl.getInterfaces()) file.insertInterface(1, { ...s.getStructure(), isExported: false });
    for (const s of decl.getFunctions()) file.insertFunction(1, { ...s.getStructure(), kind: StructureKind.Function, isExported: false, hasDeclareKeyword: true });
  }
  for (const s of file.getStatements()) {
    if (!('isExported' in s) || !('setIsExported' in s) || !('getName' in s)) continue;
    const named = s as unknown as { isExported(): boolean; setIsExported(v: boolean): void; getName(): string | undefined };
    if (named.isExported() && !PUBLIC.has(named.getName() ?? '')) named.setIsExported(false);
  }
  return (staticText = file.getFullText());
}

/** The module's TypeScript source: the host, then the program's tables and `load`. */
export function moduleSource(m: Manifest, program: HostProgram): string {
  const file = inMemory().createSourceFile('/model.ts', hostSource());
  const inp = m.inputs[0]!, out = m.outputs[0]!;
  file.addInterface({
    name: 'ModelManifest', isExported: true, docs: ['What a build says about its model (a part of manifest.json).'],
    properties: [
      { name: 'name', type: 'string', isReadonly: true },
      { name: 'sha256', type: 'string', isReadonly: true },
      { name: 'precision', type: 'string', isReadonly: true },
      { name: 'inputs', type: 'readonly { readonly name: string; readonly dtype: string; readonly shape: readonly (number | "B")[] }[]', isReadonly: true },
      { name: 'outputs', type: 'readonly { readonly name: string; readonly dtype: string; readonly shape: readonly (number | "B")[] }[]', isReadonly: true },
      { name: 'preprocess', type: '{ readonly resize?: number; readonly crop?: number; readonly interpolation?: string; readonly mean?: readonly number[]; readonly std?: readonly number[] }', isReadonly: true },
    ],
  });
  file.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const, docs: [`${m.spec.name}: input ${inp.name} [${inp.shape.join(', ')}] float32 NCHW, output ${out.name} [${out.shape.join(', ')}].`],
    declarations: [{ name: 'manifest', type: 'ModelManifest', initializer: JSON.stringify({ name: m.spec.name, sha256: m.spec.sha256, precision: m.precision, inputs: m.inputs, outputs: m.outputs, preprocess: m.preprocess }) }],
  });
  file.addVariableStatement({
    isExported: true, declarationKind: VariableDeclarationKind.Const, docs: ['[state-dict name, shape] of every weight the model binds.'],
    declarations: [{ name: 'weightShapes', type: 'ReadonlyArray<readonly [string, readonly number[]]>', initializer: `[\n${m.weights.map((w) => `  [${JSON.stringify(w.name)}, [${w.shape.join(', ')}]],`).join('\n')}\n]` }],
  });
  file.addFunction({
    name: 'load', isExported: true, isAsync: true,
    docs: ['Create the WebGPU device, check and upload the weights (safetensors bytes; a path in Node, a URL in a browser), compile the pipelines.'],
    parameters: [{ name: 'weights', type: 'Uint8Array | ArrayBuffer | string' }, { name: 'options', type: 'LoadOptions', initializer: '{}' }],
    returnType: 'Promise<Model>',
    statements: 'return loadProgram(PROGRAM, weightShapes, weights, options);',
  });
  // Last, as it is large (every later edit would parse it again).
  file.addVariableStatement({
    declarationKind: VariableDeclarationKind.Const, docs: [`${program.kernels.length} kernels, ${program.shaders.length} distinct shaders (files in shaders/), the weights buffer layout.`],
    declarations: [{ name: 'PROGRAM', type: 'HostProgram', initializer: JSON.stringify(program) }],
  });
  return file.getFullText();
}

/** A project that typechecks a module source as the module test does: ES2022 and @webgpu/types, strict. */
export function checkingProject(source: string): { project: Project; file: SourceFile } {
  const project = new Project({
    useInMemoryFileSystem: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, lib: ['lib.es2022.d.ts'], types: [], strict: true, noUnusedLocals: true, skipLibCheck: true },
  });
  const types = webgpuTypesText();
  if (types === undefined) throw new Error('@webgpu/types is not installed');
  project.createSourceFile('/node_modules/@webgpu/types/package.json', JSON.stringify({ name: '@webgpu/types', types: 'dist/index.d.ts' }));
  project.createSourceFile('/node_modules/@webgpu/types/dist/index.d.ts', types);
  return { project, file: project.createSourceFile('/model.ts', source) };
}

/** model.mjs and model.d.mts: the module source emitted by TypeScript (each file on its own, no type checking needed). */
export function emitModule(m: Manifest, program: HostProgram): { mjs: string; dts: string } {
  const source = moduleSource(m, program);
  const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, declaration: true, stripInternal: true, newLine: ts.NewLineKind.LineFeed };
  const strip = (t: string) => t.replace(/^\/\/\/ <reference types="@webgpu\/types" \/>\n/, '');
  const js = strip(ts.transpileModule(source, { compilerOptions: options }).outputText);
  const dts = strip(ts.transpileDeclaration(source, { compilerOptions: options }).outputText);
  const head = [
    `// ${m.spec.name}: generated by vitc ${m.vitc} (target wgsl, ${m.precision}) from a spec with sha256 ${m.spec.sha256}.`,
    '// Do not edit: regenerate with `vitc build`. Standalone ES module: WebGPU from navigator.gpu, or { gpu } in Node.',
    '',
  ].join('\n');
  return {
    mjs: `${head}// ---- shared runtime ----\n${runtimeSource(JS_RUNTIME)}\n\n// ---- WebGPU host and program ----\n${js}`,
    dts: `// Types of model.mjs (${m.spec.name}), generated by vitc ${m.vitc}.\n/// <reference types="@webgpu/types" />\n${dts}`,
  };
}
