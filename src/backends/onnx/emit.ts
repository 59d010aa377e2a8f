// IR graph -> ONNX GraphProto: walks the IR in order, lowers each node through the op table
// (ops.ts), and keeps each value in the forms its users need (views.ts). Sources become the graph
// input (Cast to float16 for fp16), state-dict initializers and deduplicated constants; outputs are
// float32 under the IR's output names.
import type { Graph, Node, NodeOf } from '../../ir/graph.js';
import type { OpName } from '../../ir/ops/index.js';
import type { Shape } from '../../ir/types.js';
import { fmtNum } from '../../ir/op.js';
import { GraphBuilder } from './builder.js';
import { BATCH_DIM, DT, onnxDims, valueInfo, type ElemType, type P, type Value } from './proto.js';
import { ONNX_OPS, ROW_OPS, type Lowered, type OpCtx } from './ops.js';
import { reshapeTarget, rowDims, Views } from './views.js';
import { MS_DOMAIN, ortLowering } from './ort.js';
import type { OnnxOps } from './model.js';

export interface LowerOptions {
  /** FLOAT, or FLOAT16 for --precision fp16 (the graph's input and output stay FLOAT). */
  readonly elem: ElemType;
  readonly opset: number;
  /** The bytes of a state-dict weight in the compute type. */
  weight(name: string): Uint8Array;
  /** The bytes of float32 values in the compute type. */
  encode(data: Float32Array): Uint8Array;
  /** 'standard' ONNX operators, or 'ort': onnxruntime's contrib operators where they are faster (ort.ts). */
  readonly ops: OnnxOps;
}

/** A constant's initializer name: `const/float_0.5` for scalars, else `const/<scope>.<label>`. */
function constName(n: NodeOf<'const'>): string {
  if (n.attrs.data.length === 1 && n.type.shape.length === 0) return `const/float_${fmtNum(n.attrs.data[0]!)}`;
  return `const/${[n.scope, n.attrs.label].filter(Boolean).join('.').replace(/[^A-Za-z0-9_.]+/g, '_').replace(/^_+|_+$/g, '')}`;
}

export function lowerGraph(ir: Graph, opts: LowerOptions): P.IGraphProto {
  const b = new GraphBuilder();
  const views = new Views(b, ir, ROW_OPS);
  const { elem, opset } = opts;
  const inputs: Value[] = [];
  const shapeTensors = new Map<string, Value>();
  const types = new Map(ir.nodes.map((n) => [n.id, n.type]));
  const ort = opts.ops === 'ort' ? ortLowering(ir) : undefined;

  /** int64 [rank] for a shape; its batch dim, if any, is read from the graph input at run time. */
  const shapeTensor = (shape: Shape): Value => {
    const dims = onnxDims(shape);
    const key = dims.join(',');
    let v = shapeTensors.get(key);
    if (v) return v;
    if (!dims.includes(BATCH_DIM)) v = b.int64(dims as number[]);
    else {
      const input = inputs.find((i) => i.dims.includes(BATCH_DIM))!;
      const at = input.dims.indexOf(BATCH_DIM);
      const batch = shapeTensors.get('batch') ?? b.node('input', 'Shape', [input], { elem: DT.INT64, dims: [1], name: 'batch_size' }, { start: at, end: at + 1 });
      shapeTensors.set('batch', batch);
      // Runs of static dims become one constant each: [B, 1, 768] = Concat(batch_size, [1, 768]).
      const parts: Value[] = [];
      let run: number[] = [];
      for (const d of dims) {
        if (typeof d === 'number') { run.push(d); continue; }
        if (run.length) parts.push(b.int64(run));
        run = [];
        parts.push(batch);
      }
      if (run.length) parts.push(b.int64(run));
      v = b.node('input', 'Concat', parts, { elem: DT.INT64, dims: [dims.length], name: `shape_${dims.join('_')}` }, { axis: 0 });
    }
    shapeTensors.set(key, v);
    return v;
  };

  const ctx = (n: Node): OpCtx => ({
    elem, opset,
    full: (i) => views.get(n.args[i]!, 'full', n.scope),
    rows: (i) => views.get(n.args[i]!, 'rows', n.scope),
    held: (i) => views.any(n.args[i]!, n.scope),
    pendingTranspose: (i) => views.pendingTranspose(n.args[i]!),
    value: (s) => views.value(s, n.scope),
    get: (id, view) => views.get(id, view, n.scope),
    contrib: (opType, ins, attrs, dims) => b.node(n.scope, opType, ins, { elem, dims }, attrs, MS_DOMAIN),
    argDims: (i) => onnxDims(types.get(n.args[i]!)!.shape),
    reshape: (x, dims) => (x.dims.length === dims.length && x.dims.every((d, i) => d === dims[i]) ? x : b.node(n.scope, 'Reshape', [x, b.int64(reshapeTarget(x.dims, dims))], { elem: x.elem, dims })),
    rowwise: () => views.rowwise(n),
    dims: (view = 'full') => (view === 'rows' ? rowDims(n.type.shape) : onnxDims(n.type.shape)),
    node: (opType, ins, attrs = {}, dims = onnxDims(n.type.shape), e = elem) => b.node(n.scope, opType, ins, { elem: e, dims }, attrs),
    scalar: (v) => b.constant(`const/float_${fmtNum(Math.fround(v))}`, elem, [], opts.encode(new Float32Array([v]))),
    ints: (values, scalar = false) => b.int64(values, scalar),
    tensor: (label, dims, data) => b.constant(`const/${label}`, elem, dims, opts.encode(data)),
    shapeOf: shapeTensor,
  });

  for (const n of ir.nodes) {
    let r: Lowered;
    switch (n.op) {
      case 'input': {
        const v: Value = { name: b.claim(n.attrs.name), elem: DT.FLOAT, dims: onnxDims(n.type.shape) };
        inputs.push(v);
        r = { view: 'full', value: elem === DT.FLOAT ? v : b.node(v.name, 'Cast', [v], { elem, dims: v.dims }, { to: elem }) };
        break;
      }
      case 'param':
        r = { view: 'full', value: b.initializer(n.attrs.name, elem, n.type.shape as number[], opts.weight(n.attrs.name)) };
        break;
      case 'const':
        r = { view: 'full', value: b.constant(constName(n), elem, n.type.shape as number[], opts.encode(new Float32Array(n.attrs.data))) };
        break;
      default: {
        // The qkv projection and head split of a fused attention: the attention computes them.
        if (ort?.absorbed.has(n.id)) continue;
        const c = ctx(n);
        const lower = ONNX_OPS[n.op] as (n: NodeOf<OpName>, c: OpCtx) => Lowered;
        if (typeof lower !== 'function') throw new Error(`the onnx target cannot emit ${n.op}: composite ops are lowered before emission`);
        r = ort?.lower(n, c) ?? lower(n as NodeOf<OpName>, c);
      }
    }
    views.set(n, r);
  }

  // Outputs are float32 under the IR's names: the producing node's output is renamed (fp32), or a
  // Cast (fp16) or Identity (an output that is a graph input, or that another output already took) writes it.
  const taken = new Map<string, string>();
  const output = ir.outputs.map((o) => {
    const v = views.get(o.id, 'full', '');
    const name = taken.get(v.name) ?? v.name;
    if (elem !== DT.FLOAT) b.node(o.name, 'Cast', [{ ...v, name }], { elem: DT.FLOAT, dims: v.dims, name: o.name }, { to: DT.FLOAT });
    else if (taken.has(v.name) || !b.rename(v.name, o.name)) b.node(o.name, 'Identity', [{ ...v, name }], { elem: DT.FLOAT, dims: v.dims, name: o.name });
    else taken.set(v.name, o.name);
    return valueInfo({ name: o.name, elem: DT.FLOAT, dims: v.dims });
  });
  const outputNames = new Set(ir.outputs.map((o) => o.name));
  return {
    name: ir.name,
    node: b.nodes,
    input: inputs.map(valueInfo),
    output,
    initializer: b.initializers,
    valueInfo: b.values.filter((v) => !outputNames.has(v.name)).map(valueInfo),
  };
}
