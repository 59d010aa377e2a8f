// The runner behind `vitc run --target onnx`: model.onnx in onnxruntime-node (CPU), float32 in and out.
import { join } from 'node:path';
import { BATCH } from '../../ir/types.js';
import type { OpenRequest, Session } from '../backend.js';

export async function openOnnx(req: OpenRequest): Promise<Session> {
  const ort = (await import('onnxruntime-node')).default;
  const session = await ort.InferenceSession.create(join(req.dir, req.manifest.entry), {
    intraOpNumThreads: req.threads ?? 2,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const [input] = session.inputNames;
  const outputs = req.manifest.outputs.map((o) => o.name);
  const shape = req.manifest.inputs[0]!.shape;
  const run = async (x: Float32Array, batch: number, names: readonly string[]): Promise<Float32Array[]> => {
    const dims = shape.map((d) => (d === BATCH ? batch : d));
    const result = await session.run({ [input!]: new ort.Tensor('float32', x, dims) }, [...names]);
    return names.map((n) => result[n]!.data as Float32Array);
  };
  return {
    forward: async (x, batch) => (await run(x, batch, outputs.slice(0, 1)))[0]!,
    forwardAll: (x, batch) => run(x, batch, outputs),
    close: () => session.release(),
  };
}
