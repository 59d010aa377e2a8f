// A small writer of ONNX graphs over onnx-proto: nodes with unique readable names, typed values
// (every intermediate gets value_info with its shape, the batch as the symbolic dim "batch"),
// initializers, and deduplicated int64 constants.
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import { BATCH, type Dim } from '../../ir/types.js';

export const { onnx } = onnxProto;
export type { P };
export const DT = onnx.TensorProto.DataType;
export type ElemType = number;

/** An ONNX dim: static, the batch B (dim_param "batch"), or another symbolic size such as "batch*197". */
export type OnnxDim = Dim | string;

export interface OnnxValue {
  readonly name: string;
  readonly elem: ElemType;
  readonly shape: readonly OnnxDim[];
}

export type AttrValue = number | string | readonly number[] | { readonly float: number };

function attribute(name: string, v: AttrValue): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: Buffer.from(v, 'utf8') };
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: [...v] };
  return { name, type: T.FLOAT, f: (v as { float: number }).float };
}

export function valueInfo(v: OnnxValue): P.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: v.elem, shape: { dim: v.shape.map((d) => (d === BATCH ? { dimParam: 'batch' } : typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

export class OnnxGraph {
  readonly nodes: P.INodeProto[] = [];
  readonly initializers: P.ITensorProto[] = [];
  readonly values: OnnxValue[] = [];
  private readonly used = new Map<string, number>();
  private readonly consts = new Map<string, OnnxValue>();

  /** A unique name: `base`, then `base_1`, `base_2`, ... */
  unique(base: string): string {
    const n = this.used.get(base) ?? 0;
    this.used.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  /** Add a node with one output; returns the output value (typed, recorded for value_info). */
  node(scope: string, opType: string, inputs: readonly (OnnxValue | string)[], out: { elem: ElemType; shape: readonly OnnxDim[]; name?: string }, attrs: Record<string, AttrValue> = {}): OnnxValue {
    const name = this.unique(`${scope ? scope + '/' : ''}${opType}`);
    const output: OnnxValue = { name: out.name ?? `${name}_out`, elem: out.elem, shape: out.shape };
    this.nodes.push({
      name,
      opType,
      input: inputs.map((i) => (typeof i === 'string' ? i : i.name)),
      output: [output.name],
      attribute: Object.keys(attrs).sort().map((k) => attribute(k, attrs[k]!)),
    });
    if (out.name === undefined) this.values.push(output);
    return output;
  }

  initializer(t: P.ITensorProto, v: OnnxValue): OnnxValue {
    this.initializers.push(t);
    return v;
  }

  /** An int64 constant (shapes, axes, indices), shared by every node that needs the same values. */
  int64(values: readonly number[], scalar = false): OnnxValue {
    const key = `i64:${scalar ? 's' : ''}${values.join(',')}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const name = scalar ? `const_i64_${values[0]}`.replace('-', 'm') : `const_i64_[${values.join(',')}]`.replace(/-/g, 'm');
    const buf = Buffer.alloc(8 * values.length);
    values.forEach((x, i) => buf.writeBigInt64LE(BigInt(x), 8 * i));
    const v: OnnxValue = { name, elem: DT.INT64, shape: scalar ? [] : [values.length] };
    this.initializer({ name, dataType: DT.INT64, dims: scalar ? [] : [values.length], rawData: buf }, v);
    this.consts.set(key, v);
    return v;
  }

  /** A float constant of the given element type, deduplicated by content. */
  float(label: string, shape: readonly number[], raw: Uint8Array, elem: ElemType): OnnxValue {
    const key = `f:${elem}:${shape.join(',')}:${Buffer.from(raw).toString('base64')}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const v: OnnxValue = { name: this.unique(label), elem, shape };
    this.initializer({ name: v.name, dataType: elem, dims: [...shape], rawData: raw }, v);
    this.consts.set(key, v);
    return v;
  }
}
