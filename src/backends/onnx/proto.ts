// The ONNX protobuf schema (onnx-proto, protobufjs) and the few conversions the target needs:
// element types, dims (static, or symbolic like "batch"), attributes, value infos.
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import { BATCH, type Shape } from '../../ir/types.js';

export const { onnx } = onnxProto;
export type { P };

/** TensorProto.DataType */
export const DT = onnx.TensorProto.DataType;
export type ElemType = P.TensorProto.DataType;

/** An ONNX dim: a size, or a symbolic dim_param ("batch", "batch*197"). */
export type OnnxDim = number | string;

/** The symbolic batch dim's name in every model (input, output and intermediate values). */
export const BATCH_DIM = 'batch';

/** An IR shape as ONNX dims. */
export function onnxDims(s: Shape): OnnxDim[] {
  return s.map((d) => (d === BATCH ? BATCH_DIM : d));
}

/** A typed value of the graph: a graph input, an initializer or a node output. */
export interface Value {
  readonly name: string;
  readonly elem: ElemType;
  readonly dims: readonly OnnxDim[];
}

/** A float attribute (plain numbers are ints). */
export interface FloatAttr { readonly float: number }
export const float = (v: number): FloatAttr => ({ float: v });
export type Attr = number | string | readonly number[] | FloatAttr;
export type Attrs = Readonly<Record<string, Attr>>;

function attribute(name: string, v: Attr): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: Buffer.from(v, 'utf8') };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.INTS, ints: [...(v as readonly number[])] };
}

/** Attributes sorted by name, so equal nodes encode to equal bytes. */
export function attributes(attrs: Attrs): P.IAttributeProto[] {
  return Object.keys(attrs).sort().map((k) => attribute(k, attrs[k]!));
}

export function valueInfo(v: Value): P.IValueInfoProto {
  const dim = v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: v.name, type: { tensorType: { elemType: v.elem, shape: { dim } } } };
}

/** Bytes per element of the element types the target writes. */
export function elemBytes(elem: ElemType): number {
  switch (elem) {
    case DT.FLOAT: return 4;
    case DT.FLOAT16: return 2;
    case DT.INT64: return 8;
    default: throw new Error(`no size for ONNX element type ${elem}`);
  }
}

/** The little-endian bytes of int64 values. */
export function int64Bytes(values: readonly number[]): Uint8Array {
  const out = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => out.writeBigInt64LE(BigInt(v), 8 * i));
  return out;
}
