// model.onnx: the lowered graph in a ModelProto with its opset, IR version, producer and metadata
// (the spec that was compiled), plus model.onnx.data when the weights are too big to embed.
import { vitcVersion } from '../../paths.js';
import { canonicalJson } from '../../spec/load.js';
import type { BuildContext, OutputFile } from '../backend.js';
import { lowerGraph } from './emit.js';
import { DEFAULT_EXTERNAL_THRESHOLD, estimatedSize, externalize } from './external.js';
import { DT, onnx, type P } from './proto.js';
import { encoder, weightBytes } from './weights.js';
import { MS_DOMAIN } from './ort.js';
import { DEFAULT_MAX_BATCH, tritonModelDir, tritonRepository } from './triton.js';
import type { Spec } from '../../spec/load.js';
import { fail } from '../../diag/diagnostic.js';

export const DEFAULT_OPSET = 17;
/** Opsets the target writes; each maps to the IR version ONNX released with it. */
export const IR_VERSION_OF_OPSET: Readonly<Record<number, number>> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11 };
/** Which operators the graph uses: the standard ONNX ones, or also onnxruntime's contrib operators (ort.ts). */
export const ONNX_OPS_CHOICES = ['standard', 'ort'] as const;
export type OnnxOps = (typeof ONNX_OPS_CHOICES)[number];
export const MODEL_FILE = 'model.onnx';
export const DATA_FILE = 'model.onnx.data';

export function buildModel(ctx: BuildContext): P.IModelProto {
  const opset = (ctx.targetOptions.opset as number | undefined) ?? DEFAULT_OPSET;
  const irVersion = IR_VERSION_OF_OPSET[opset]!;
  const elem = ctx.options.precision === 'fp16' ? DT.FLOAT16 : DT.FLOAT;
  const encode = encoder(elem);
  const weight = weightBytes(ctx.graph, ctx.options, encode);
  const ops = (ctx.targetOptions['onnx-ops'] as OnnxOps | undefined) ?? 'standard';
  const graph = lowerGraph(ctx.graph, { elem, opset, encode, weight, ops });
  const contrib = [...new Set(graph.node!.filter((n) => n.domain === MS_DOMAIN).map((n) => n.opType!))].sort();
  const m = ctx.manifest;
  return {
    irVersion,
    opsetImport: [{ domain: '', version: opset }, ...(contrib.length ? [{ domain: MS_DOMAIN, version: 1 }] : [])],
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
      { key: 'vitc.onnx_ops', value: ops },
      ...(ops === 'ort' ? [{ key: 'vitc.requires', value: contrib.length ? `onnxruntime: ${MS_DOMAIN} operators ${contrib.join(', ')}` : 'nothing beyond the standard operators (no onnxruntime operator applied)' }] : []),
    ],
  };
}

/**
 * model.onnx, and model.onnx.data when the model would pass the external-data threshold; with
 * --serve triton, laid out as a Triton model repository (triton.ts).
 */
export function modelFiles(ctx: BuildContext): OutputFile[] {
  const model = buildModel(ctx);
  const threshold = (ctx.targetOptions['external-data-threshold'] as number | undefined) ?? DEFAULT_EXTERNAL_THRESHOLD;
  const files: OutputFile[] = [];
  if (estimatedSize(model) > threshold) files.push({ path: DATA_FILE, contents: externalize(model.graph!.initializer!, DATA_FILE) });
  files.unshift({ path: MODEL_FILE, contents: onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish() });
  if (ctx.targetOptions.serve !== 'triton') {
    if (ctx.targetOptions['max-batch-size'] !== undefined) fail('cli/option', '--max-batch-size applies only with --serve triton');
    return files;
  }
  return tritonRepository(files, ctx.spec, ctx.manifest, (ctx.targetOptions['max-batch-size'] as number | undefined) ?? DEFAULT_MAX_BATCH);
}

/** The build directory's main file: model.onnx, or NAME/1/model.onnx in a Triton repository. */
export function entryFile(targetOptions: Readonly<Record<string, unknown>>, spec: Spec): string {
  return targetOptions.serve === 'triton' ? `${tritonModelDir(spec)}/${MODEL_FILE}` : MODEL_FILE;
}
