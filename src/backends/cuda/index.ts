// The cuda target: a build directory a CUDA user can read, compile and embed (model.cu, model.h,
// vitc_api.h, main.cu, Makefile, README.md), rendered from the KernelProgram. See docs/targets/cuda.md.
import type { Backend, BuildContext, OpenRequest, OutputFile, Session } from '../backend.js';
import { renderModelCu, runtimeFile } from './emit.js';
import { sourceName } from '../../dsl/load.js';
import { cName, makefile, modelH, readme } from './files.js';
import { openCuda } from './runner.js';

export const cudaBackend: Backend = {
  name: 'cuda',
  description: 'CUDA C++ (model.cu with tensor-core kernels, model.h C API, main.cu runner, Makefile); runs on an NVIDIA GPU, or on the CPU under vitc\'s emulation',
  consumes: 'kernels',
  precisions: ['fp32', 'tf32', 'fp16', 'bf16'],
  // LayerNorm as a kernel of its own: the GEMMs stage A through shared memory by cp.async, which a
  // prologue normalizing each row would have to replace with loads, conversions and stores.
  capabilities: { nativeComposites: new Set(['attention']), embedsWeights: false, lnPrologue: false, features: true, narrowRows: true, threads: false },
  entry: 'model.cu',
  options: [],
  async emit(ctx: BuildContext): Promise<OutputFile[]> {
    const p = ctx.kernels!;
    const m = ctx.manifest;
    if (m.inputs.length !== 1 || m.outputs.length < 1) throw new Error('the cuda target builds models with one input and at least one output');
    if (p.outputs.some((o, i) => o.name !== m.outputs[i]?.name) || p.outputs.length !== m.outputs.length) throw new Error('the kernel program\'s outputs are not the manifest\'s');
    if (new Set(m.outputs.map((o) => cName(o.name))).size !== m.outputs.length) throw new Error(`outputs whose C names collide: ${m.outputs.map((o) => o.name).join(', ')}`);
    const r = renderModelCu(p, m, (file) => sourceName(file, ctx.spec.dir));
    return [
      { path: 'model.cu', contents: r.modelCu },
      { path: 'model.h', contents: modelH(p, m, r.maxBatch) },
      { path: 'vitc_api.h', contents: runtimeFile('vitc_api.h') },
      { path: 'main.cu', contents: runtimeFile('main.cu') },
      { path: 'Makefile', contents: makefile(m) },
      { path: 'README.md', contents: readme(p, m, r.functions.length) },
    ];
  },
  open(req: OpenRequest): Promise<Session> {
    return openCuda(req);
  },
};
