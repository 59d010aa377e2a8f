// model.onnx: the lowered graph in a ModelProto with its opset, IR version, producer and metadata
// (the spec that was compiled), plus model.onnx.data when the weights are too big to embed.
import { vitcVersion } from '../../paths.js';
import { canonicalJson } from '../../spec/load.js';
import type { BuildContext, OutputFile } from '../backend.js';
import { lowerGraph } from './emit.js';
import { DEFAULT_EXTERNAL_THRESHOLD, estimatedSize, externalize } from './external.js';
import { DT, onnx, type P } from './proto.js';
import { encoder, weightBytes } from './weights.js';

export const DEFAULT_OPSET = 17;
/** Opsets the target writes; each maps to the IR version ONNX released with it. */
export const IR_VERSION_OF_OPSET: Readonly<Record<number, number>> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10 };
export const MODEL_FILE = 'model.onnx';
export const DATA_FILE = 'model.onnx.data';

export function buildModel(ctx: BuildContext): P.IModelProto {
  const opset = (ctx.targetOptions.opset as number | undefined) ?? DEFAULT_OPSET;
  const irVersion = IR_VERSION_OF_OPSET[opset]!;
  const elem = ctx.options.precision === 'fp16' ? DT.FLOAT16 : DT.FLOAT;
  const encode = encoder(elem);
  const weight = weightBytes(ctx.graph, ctx.options, encode);
  const graph = lowerGraph(ctx.graph, { elem, opset, encode, weight });
  const m = ctx.manifest;
  return {
    irVersion,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'vitc',
    producerVersion: vitcVersion,
    docString: m.spec.description,
    graph,
    metadataProps: [
      { key: 'vitc.version', value: vitcVersion },
      { key: 'vitc.spec.name', value: m.spec.name },
      { key: 'vitc.spec.sha256', value: m.spec.sha256 },
      { key: 'vitc.spec', value: canonicalJson(ctx.spec.data) },
      { key: 'vitc.sources', value: m.sources.map((s) => `${s.name} ${s.sha256}`).join('\n') },
      { key: 'vitc.precision', value: m.precision },
    ],
  };
}

/** model.onnx, and model.onnx.data when the model would pass the external-data threshold. */
export function modelFiles(ctx: BuildContext): OutputFile[] {
  const model = buildModel(ctx);
  const threshold = (ctx.targetOptions['external-data-threshold'] as number | undefined) ?? DEFAULT_EXTERNAL_THRESHOLD;
  const files: OutputFile[] = [];
  if (estimatedSize(model) > threshold) files.push({ path: DATA_FILE, contents: externalize(model.graph!.initializer!, DATA_FILE) });
  files.unshift({ path: MODEL_FILE, contents: onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish() });
  return files;
}
