// The ONNX target: model.onnx for ONNX Runtime and other ONNX consumers.
import type { Backend, BuildContext, OutputFile } from '../backend.js';
import { fail } from '../../diag/diagnostic.js';
import { DEFAULT_OPSET, IR_VERSION_OF_OPSET, MODEL_FILE, modelFiles } from './model.js';
import { DEFAULT_EXTERNAL_THRESHOLD } from './external.js';
import { openOnnx } from './runner.js';

export const onnxBackend: Backend = {
  name: 'onnx',
  description: 'model.onnx (opset 17-22, symbolic batch, weights included; model.onnx.data for big models) for ONNX Runtime',
  consumes: 'graph',
  precisions: ['fp32', 'fp16'],
  capabilities: { nativeComposites: new Set(), embedsWeights: true, features: true },
  entry: MODEL_FILE,
  options: [
    {
      flag: 'opset', type: 'string', value: 'N',
      help: `opset ${DEFAULT_OPSET} (default; GELU as Erf) to 22 (from 20: one Gelu node)`,
      parse: (raw) => {
        const n = Number(raw);
        if (IR_VERSION_OF_OPSET[n] === undefined) fail('cli/opset', `--opset must be one of ${Object.keys(IR_VERSION_OF_OPSET).join(', ')}; got "${String(raw)}"`);
        return n;
      },
    },
    {
      flag: 'external-data-threshold', type: 'string', value: 'BYTES',
      help: `move tensors to model.onnx.data when model.onnx would exceed BYTES (default ${DEFAULT_EXTERNAL_THRESHOLD.toExponential(1).replace('+', '')})`,
      parse: (raw) => {
        if (typeof raw !== 'string' || !/^\d+(\.\d+)?(e\d+)?$/i.test(raw) || !Number.isSafeInteger(Math.round(Number(raw)))) {
          fail('cli/option-value', `--external-data-threshold must be a number of bytes (e.g. 1.9e9); got "${String(raw)}"`);
        }
        return Math.round(Number(raw));
      },
    },
  ],
  emit: async (ctx: BuildContext): Promise<OutputFile[]> => modelFiles(ctx),
  open: openOnnx,
};
