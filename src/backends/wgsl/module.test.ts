// The generated host module is TypeScript checked against @webgpu/types (strict, ES2022, no DOM),
// and model.d.mts is usable by a consumer with @webgpu/types: both through the TypeScript compiler.
import { describe, expect, it } from 'vitest';
import { Project, ts } from 'ts-morph';
import { compile } from '../../compile.js';
import { buildKernelProgram } from '../../kernel/index.js';
import { checkingProject, moduleSource, webgpuTypesText } from './module.js';
import { renderProgram } from './render.js';

const diagnostics = (project: Project) => project.getPreEmitDiagnostics().map((d) => {
  const m = d.getMessageText();
  return `${d.getSourceFile()?.getBaseName() ?? '?'}:${d.getLineNumber() ?? 0}: ${typeof m === 'string' ? m : ts.flattenDiagnosticMessageText(m.compilerObject, '\n')}`;
});

async function tinyModule(precision: 'fp32' | 'fp16') {
  const c = await compile('spec/tiny/tiny-distilled.yaml', 'js', { precision: 'fp32', seed: 0 });
  const host = renderProgram(buildKernelProgram(c.graph, { precision, lnPrologue: false })).host;
  return { manifest: { ...c.manifest, precision }, host: { ...host, transforms: {} } };
}

describe('wgsl model.mjs', () => {
  it('typechecks against @webgpu/types, strict, with no unused locals', async () => {
    // fp16: its table has both preludes (the types are the same for every build).
    const { manifest, host } = await tinyModule('fp16');
    const { project } = checkingProject(moduleSource(manifest, host));
    expect(diagnostics(project)).toEqual([]);
  }, 120_000);

  it('a type error in the module is caught (the check can fail)', async () => {
    const { manifest, host } = await tinyModule('fp32');
    const bad = moduleSource(manifest, host).replace('readonly adapter: string;', 'readonly adapter: number;');
    expect(diagnostics(checkingProject(bad).project).length).toBeGreaterThan(0);
  }, 60_000);

  it('model.d.mts types a consumer that imports ./model.mjs as the docs say: load, forward, profile, info', async () => {
    // The files where the build writes them: TypeScript looks for the types of model.mjs in model.d.mts
    // (a model.d.ts next to it is never read for that import, whatever the module resolution).
    const { files } = await compile('spec/tiny/tiny-base.yaml', 'wgsl', { precision: 'fp32', seed: 0 });
    for (const [module, moduleResolution] of [[ts.ModuleKind.NodeNext, ts.ModuleResolutionKind.NodeNext], [ts.ModuleKind.ESNext, ts.ModuleResolutionKind.Bundler]] as const) {
      const project = new Project({
        useInMemoryFileSystem: true,
        compilerOptions: { target: ts.ScriptTarget.ES2022, module, moduleResolution, lib: ['lib.es2022.d.ts'], types: [], strict: true, skipLibCheck: true },
      });
      project.createSourceFile('/node_modules/@webgpu/types/package.json', JSON.stringify({ name: '@webgpu/types', types: 'dist/index.d.ts' }));
      project.createSourceFile('/node_modules/@webgpu/types/dist/index.d.ts', webgpuTypesText()!);
      for (const f of files) project.getFileSystem().writeFileSync(`/out/${f.path}`, f.contents as string);
      project.createSourceFile('/use.mts', [
        "import { load, manifest, weightShapes, type Model } from './out/model.mjs';",
        'declare const gpu: GPU;',
        'export async function run(bytes: Uint8Array): Promise<number> {',
        "  const m: Model = await load(bytes, { gpu, kernels: 'auto', onInfo: (line) => void line });",
        '  const per = manifest.inputs[0]!.shape.slice(1).reduce<number>((a, d) => a * (d as number), 1);',
        '  const y: Float32Array = await m.forward(new Float32Array(per), 1);',
        '  const p = await m.profile(new Float32Array(per), 1);',
        '  m.destroy();',
        '  return y.length + p.kernels.length + weightShapes.length + m.info.weightBytes;',
        '}',
        "// @ts-expect-error: forward takes a Float32Array",
        'export const bad = (m: Model) => m.forward([1, 2, 3], 1);',
        "// @ts-expect-error: no such kernel variant",
        "export const badKernels = (b: Uint8Array) => load(b, { gpu, kernels: 'fast' });",
      ].join('\n'));
      expect(diagnostics(project)).toEqual([]);
    }
  }, 60_000);
});
