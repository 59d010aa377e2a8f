// The ONNX target: model.onnx (opset 20, symbolic batch, weights as initializers named by their
// state-dict names), with external data in model.onnx.data past a size threshold.
import { join } from 'node:path';
import { nodeIndex, params, type Graph, type NodeOf } from '../../ir/graph.js';
import type { OpName } from '../../ir/ops/index.js';
import { BATCH, staticNumel, type Dim } from '../../ir/types.js';
import { vitcVersion } from '../../paths.js';
import { canonicalJson } from '../../spec/load.js';
import { fail } from '../../diag/diagnostic.js';
import { bindWeightsOrFail } from '../../weights/safetensors.js';
import { randomWeights } from '../../weights/random.js';
import type { Backend, BuildContext, OpenRequest, OutputFile, Session } from '../backend.js';
import { toHalf } from './fp16.js';
import { DT, onnx, OnnxGraph, valueInfo, type ElemType, type OnnxValue, type P } from './graph.js';
import { ONNX_OPS, type EmitCtx } from './ops.js';

export const DEFAULT_OPSET = 17;
export const OPSETS = [17, 18, 19, 20, 21, 22] as const;
/** The IR version that goes with an opset (ONNX's versioning table). */
const irVersionFor = (opset: number) => (opset <= 18 ? 8 : opset <= 20 ? 9 : 10);
/** Past this many bytes of weights, they go to model.onnx.data (protobuf messages stop at 2 GiB). */
export const DEFAULT_EXTERNAL_THRESHOLD = 1_900_000_000;
const ALIGN = 64;

/** The weights to embed: the user's (checked against the model) or seeded random ones. */
function weightValues(ctx: BuildContext, g: Graph): Map<string, Float32Array> {
  const ps = params(g);
  const expected = ps.map((p) => [p.attrs.name, p.attrs.shape as number[]] as const);
  const w = ctx.options.weights;
  if (w) {
    const values = bindWeightsOrFail(w.file, w.bytes, expected);
    return new Map(expected.map(([name], i) => [name, values[i]!]));
  }
  return new Map(randomWeights(ps.map((p) => ({ name: p.attrs.name, shape: p.attrs.shape as number[], init: p.attrs.init })), ctx.options.seed).map((t) => [t.name, t.data]));
}

function rawOf(data: Float32Array, elem: ElemType): Uint8Array {
  const typed = elem === DT.FLOAT16 ? toHalf(data) : data;
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

export function buildOnnxGraph(ctx: BuildContext): { graph: P.IGraphProto; weightNames: Set<string> } {
  const ir = ctx.graph;
  const elem = ctx.options.precision === 'fp16' ? DT.FLOAT16 : DT.FLOAT;
  const opset = ctx.options.opset ?? DEFAULT_OPSET;
  const g = new OnnxGraph();
  const weights = weightValues(ctx, ir);
  const byId = nodeIndex(ir);
  const vals = new Map<number, OnnxValue>();
  const inputs: P.IValueInfoProto[] = [];
  const shapeTensors = new Map<string, OnnxValue>();
  let batch: OnnxValue | undefined;
  let graphInput: OnnxValue | undefined;

  for (const n of ir.nodes) {
    const scope = n.scope;
    const ctxFor: EmitCtx = {
      g, scope, elem, opset, out: n.type.shape,
      emit: (opType, ins, attrs = {}, shape = n.type.shape, e = elem) => g.node(scope, opType, ins, { elem: e, shape }, attrs),
      scalar: (v) => g.float('scalar', [], rawOf(new Float32Array([v]), elem), elem),
      shapeTensor: (shape) => {
        const key = shape.join(',');
        const hit = shapeTensors.get(key);
        if (hit) return hit;
        let t: OnnxValue;
        if (!shape.includes(BATCH)) t = g.int64(shape as number[]);
        else {
          batch ??= g.node('', 'Shape', [graphInput!], { elem: DT.INT64, shape: [1] }, { start: 0, end: 1 });
          const parts = shape.map((d) => (d === BATCH ? batch! : g.int64([d])));
          t = g.node('', 'Concat', parts, { elem: DT.INT64, shape: [shape.length] }, { axis: 0 });
        }
        shapeTensors.set(key, t);
        return t;
      },
    };
    switch (n.op) {
      case 'input': {
        const v: OnnxValue = { name: 'input', elem: DT.FLOAT, shape: n.type.shape };
        inputs.push(valueInfo(v));
        graphInput = v;
        vals.set(n.id, elem === DT.FLOAT ? v : g.node('', 'Cast', [v], { elem, shape: n.type.shape }, { to: elem }));
        break;
      }
      case 'param': {
        const name = n.attrs.name;
        const v: OnnxValue = { name, elem, shape: n.type.shape };
        vals.set(n.id, g.initializer({ name, dataType: elem, dims: n.type.shape as number[], rawData: rawOf(weights.get(name)!, elem) }, v));
        break;
      }
      case 'const': {
        const data = new Float32Array(n.attrs.data);
        const label = staticNumel(n.type.shape) === 1 ? 'scalar' : `${scope ? scope + '/' : ''}${n.attrs.label.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/_+$/, '')}`;
        vals.set(n.id, g.float(label, n.type.shape as number[], rawOf(data, elem), elem));
        break;
      }
      default: {
        const emit = ONNX_OPS[n.op] as (n: NodeOf<OpName>, a: readonly OnnxValue[], c: EmitCtx) => OnnxValue;
        if (typeof emit !== 'function') throw new Error(`the onnx target cannot emit ${n.op} (composite ops are lowered first)`);
        vals.set(n.id, emit(n as NodeOf<OpName>, n.args.map((a) => vals.get(a)!), ctxFor));
      }
    }
  }

  // The graph output is "logits" (float32): rename the producing node's output, or cast to it.
  const outputs: P.IValueInfoProto[] = [];
  for (const o of ir.outputs) {
    const v = vals.get(o.id)!;
    const shape = byId.get(o.id)!.type.shape;
    if (elem === DT.FLOAT) {
      for (const node of g.nodes) {
        node.output = node.output!.map((x) => (x === v.name ? o.name : x));
        node.input = node.input!.map((x) => (x === v.name ? o.name : x));
      }
      g.values.splice(g.values.findIndex((x) => x.name === v.name), 1);
    } else {
      g.node('', 'Cast', [v], { elem: DT.FLOAT, shape, name: o.name }, { to: DT.FLOAT });
    }
    outputs.push(valueInfo({ name: o.name, elem: DT.FLOAT, shape }));
  }
  return {
    graph: {
      name: ir.name,
      node: g.nodes,
      input: inputs,
      output: outputs,
      initializer: g.initializers,
      valueInfo: g.values.map(valueInfo),
    },
    weightNames: new Set(weights.keys()),
  };
}

/** Move the state-dict initializers into one data file (64-byte aligned) when they are too big to embed. */
function externalize(graph: P.IGraphProto, weightNames: ReadonlySet<string>, location: string): Uint8Array {
  const moved = graph.initializer!.filter((t) => weightNames.has(t.name!));
  let size = 0;
  const offsets = moved.map((t) => { const at = size; size += Math.ceil(t.rawData!.length / ALIGN) * ALIGN; return at; });
  const data = new Uint8Array(size);
  moved.forEach((t, i) => {
    data.set(t.rawData!, offsets[i]!);
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offsets[i]) },
      { key: 'length', value: String(t.rawData!.length) },
    ];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.rawData = undefined;
  });
  return data;
}

export const onnxBackend: Backend = {
  name: 'onnx',
  description: 'model.onnx (opset 17-22, weights included; model.onnx.data past --external-data-threshold) for ONNX Runtime',
  precisions: ['fp32', 'fp16'],
  entry: 'model.onnx',
  nativeComposites: new Set(),
  embedsWeights: true,
  options: ['externalDataThreshold', 'opset'],
  async emit(ctx: BuildContext): Promise<OutputFile[]> {
    const opset = ctx.options.opset ?? DEFAULT_OPSET;
    if (!(OPSETS as readonly number[]).includes(opset)) fail('cli/opset', `--opset must be one of ${OPSETS.join(', ')}; got ${opset}`);
    const { graph, weightNames } = buildOnnxGraph(ctx);
    const weightBytes = graph.initializer!.reduce((s, t) => s + (weightNames.has(t.name!) ? t.rawData!.length : 0), 0);
    const threshold = ctx.options.externalDataThreshold ?? DEFAULT_EXTERNAL_THRESHOLD;
    const files: OutputFile[] = [];
    if (weightBytes > threshold) files.push({ path: 'model.onnx.data', contents: externalize(graph, weightNames, 'model.onnx.data') });
    const m = ctx.manifest;
    const model: P.IModelProto = {
      irVersion: irVersionFor(opset),
      opsetImport: [{ domain: '', version: opset }],
      producerName: 'vitc',
      producerVersion: vitcVersion,
      docString: m.spec.description,
      graph,
      metadataProps: [
        { key: 'vitc.spec.name', value: m.spec.name },
        { key: 'vitc.spec.sha256', value: m.spec.sha256 },
        { key: 'vitc.spec', value: canonicalJson(ctx.spec.data) },
        { key: 'vitc.sources', value: m.sources.map((s) => `${s.name} ${s.sha256}`).join('\n') },
        { key: 'vitc.precision', value: m.precision },
      ],
    };
    files.unshift({ path: 'model.onnx', contents: onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish() });
    return files;
  },
  async open(req: OpenRequest): Promise<Session> {
    const ort = (await import('onnxruntime-node')).default;
    const session = await ort.InferenceSession.create(join(req.dir, req.manifest.entry), {
      intraOpNumThreads: req.threads ?? 2,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const shape = req.manifest.inputs[0]!.shape;
    return {
      async forward(input: Float32Array, batch: number) {
        const dims = shape.map((d: Dim) => (d === BATCH ? batch : d));
        const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, dims) });
        return out[session.outputNames[0]!]!.data as Float32Array;
      },
      close: () => session.release(),
    };
  },
};
