// The WGSL target: the planned KernelProgram as WebGPU compute shaders plus a standalone ES module
// (model.mjs + model.d.mts) that runs them in a browser or, through Dawn, in Node; `--page` adds a
// web page (index.html) that classifies an image with it.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fail } from '../../diag/diagnostic.js';
import type { Backend, BuildContext, OpenRequest, OutputFile, Session } from '../backend.js';
import { nodeGpu } from './dawn.js';
import { pageHtml } from './page.js';
import { emitModule } from './module.js';
import { renderProgram } from './render.js';
import type { HostProgram, HostWeightTransform, KernelChoice, LoadOptions } from './runtime/program.js';

const KERNEL_CHOICES: readonly KernelChoice[] = ['auto', 'register', 'subgroup', 'workgroup'];

interface LoadedModel {
  forward(x: Float32Array, batch: number): Promise<Float32Array>;
  destroy(): void;
}

/** `label 5/19` on stderr, rewritten in place, only when stderr is a terminal. */
function ttyCount(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => process.stderr.write(`\r${label} ${done}/${total}${done === total ? '\n' : ''}`);
}

export const wgslBackend: Backend = {
  name: 'wgsl',
  description: 'WebGPU compute shaders (WGSL) and a standalone ES module (model.mjs + model.d.mts); runs in browsers and, through Dawn, in Node',
  consumes: 'kernels',
  precisions: ['fp32', 'fp16'],
  capabilities: { nativeComposites: new Set(['attention']), embedsWeights: false, lnPrologue: false, narrowRows: true, threads: false },
  entry: 'model.mjs',
  options: [
    { flag: 'page', type: 'boolean', layoutOnly: true, help: 'also write index.html: a page that classifies a picked or dropped image (serve it with vitc serve DIR)', parse: (raw) => raw === true },
    {
      flag: 'kernels', type: 'string', value: 'KIND',
      help: 'kernel variants: auto (default: workgroup-memory tiles on GPUs; register tiles on CPU adapters, shared across 4-lane subgroups where they have them), register, subgroup or workgroup',
      parse: (raw) => {
        if (typeof raw !== 'string' || !(KERNEL_CHOICES as readonly string[]).includes(raw)) fail('cli/option', `--kernels must be one of ${KERNEL_CHOICES.join(', ')}; got ${String(raw)}`);
        return raw;
      },
    },
  ],
  async emit(ctx: BuildContext): Promise<OutputFile[]> {
    const { host, files } = renderProgram(ctx.kernels!);
    const transforms: Record<string, HostWeightTransform[]> = {};
    for (const { name, ...t } of ctx.manifest.weight_transforms) (transforms[name] ??= []).push(t);
    const program: HostProgram = { ...host, transforms, kernelChoice: (ctx.targetOptions.kernels as KernelChoice | undefined) ?? 'auto' };
    const { mjs, dts } = emitModule(ctx.manifest, program);
    return [
      { path: 'model.mjs', contents: mjs },
      { path: 'model.d.mts', contents: dts },
      ...files.map((f) => ({ path: f.path, contents: f.text })),
      ...(ctx.targetOptions.page === true ? [{ path: 'index.html', contents: pageHtml(ctx.manifest) }] : []),
    ];
  },
  async open(req: OpenRequest): Promise<Session> {
    const { gpu, adapter } = await nodeGpu(req.info);
    const mod = await import(pathToFileURL(join(req.dir, req.manifest.entry)).href) as { load(w: Uint8Array, o: LoadOptions): Promise<LoadedModel> };
    const model = await mod.load(req.weights, { gpu, adapter, onInfo: req.info, onProgress: ttyCount('compiling the pipelines') });
    return { forward: (input, batch) => model.forward(input, batch), close: async () => model.destroy() };
  },
};
