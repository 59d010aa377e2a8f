// The ONNX target: model.onnx for ONNX Runtime and other ONNX consumers.
import type { Backend, BuildContext, OutputFile } from '../backend.js';
import { MODEL_FILE, modelFiles } from './model.js';
import { openOnnx } from './runner.js';

export const onnxBackend: Backend = {
  name: 'onnx',
  description: 'model.onnx (opset 17-22, symbolic batch, weights included; model.onnx.data for big models) for ONNX Runtime',
  precisions: ['fp32', 'fp16'],
  entry: MODEL_FILE,
  nativeComposites: new Set(),
  embedsWeights: true,
  options: ['externalDataThreshold', 'opset'],
  emit: async (ctx: BuildContext): Promise<OutputFile[]> => modelFiles(ctx),
  open: openOnnx,
};
