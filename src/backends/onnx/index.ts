// The ONNX target: model.onnx for ONNX Runtime and other ONNX consumers.
import type { Backend, BuildContext, OutputFile } from '../backend.js';
import { fail } from '../../diag/diagnostic.js';
import { didYouMean } from '../../util/suggest.js';
import { DEFAULT_OPSET, entryFile, IR_VERSION_OF_OPSET, MODEL_FILE, modelFiles, ONNX_OPS_CHOICES } from './model.js';
import { DEFAULT_MAX_BATCH, SERVE_CHOICES } from './triton.js';
import { DEFAULT_EXTERNAL_THRESHOLD } from './external.js';
import { openOnnx } from './runner.js';

export const onnxBackend: Backend = {
  name: 'onnx',
  description: 'model.onnx (opset 17-23, symbolic batch, weights included; model.onnx.data for big models) for ONNX Runtime',
  consumes: 'graph',
  precisions: ['fp32', 'fp16'],
  capabilities: { nativeComposites: new Set(['attention']), embedsWeights: true, features: true, narrowRows: true },
  entry: MODEL_FILE,
  entryFor: entryFile,
  options: [
    {
      flag: 'opset', type: 'string', value: 'N',
      help: `opset ${DEFAULT_OPSET} (default; GELU as Erf) to 23 (from 20: one Gelu node; from 23: the Attention operator)`,
      parse: (raw) => {
        const n = Number(raw);
        if (IR_VERSION_OF_OPSET[n] === undefined) fail('cli/opset', `--opset must be one of ${Object.keys(IR_VERSION_OF_OPSET).join(', ')}; got "${String(raw)}"`);
        return n;
      },
    },
    {
      flag: 'onnx-ops', type: 'string', value: 'SET',
      help: 'standard (default) or ort: also onnxruntime\'s operators where its CPU provider is faster (com.microsoft.Attention); such a model needs onnxruntime, and its metadata says so',
      parse: (raw) => {
        if (!(ONNX_OPS_CHOICES as readonly unknown[]).includes(raw)) fail('cli/option-value', `--onnx-ops must be one of ${ONNX_OPS_CHOICES.join(', ')}; got "${String(raw)}"`, undefined, didYouMean(String(raw), ONNX_OPS_CHOICES));
        return raw;
      },
    },
    {
      flag: 'serve', type: 'string', layoutOnly: true, value: 'SERVER',
      help: 'triton: lay the build out as a Triton Inference Server model repository (NAME/config.pbtxt, NAME/1/model.onnx)',
      parse: (raw) => {
        if (!(SERVE_CHOICES as readonly unknown[]).includes(raw)) fail('cli/option-value', `--serve must be one of ${SERVE_CHOICES.join(', ')}; got "${String(raw)}"`, undefined, didYouMean(String(raw), SERVE_CHOICES));
        return raw;
      },
    },
    {
      flag: 'max-batch-size', type: 'string', layoutOnly: true, value: 'N',
      help: `with --serve triton: the largest batch Triton's dynamic batcher forms (default ${DEFAULT_MAX_BATCH})`,
      parse: (raw) => {
        const n = Number(raw);
        if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < 1) fail('cli/option-value', `--max-batch-size must be a positive integer; got "${String(raw)}"`);
        return n;
      },
    },
    {
      flag: 'external-data-threshold', type: 'string', layoutOnly: true, value: 'BYTES',
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
