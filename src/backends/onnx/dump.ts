// A readable, deterministic text form of an ONNX model, one line per item, for review and snapshot
// diffs (`vitc inspect model.onnx` prints it). Weights show type, shape and size; small int64 and
// scalar constants show their values.
import { DT, onnx, type P } from './proto.js';
import { DiagnosticError, error, fileSpan } from '../../diag/diagnostic.js';
import { escapeText } from '../../diag/quote.js';

const ELEM: Readonly<Record<number, string>> = {
  [DT.FLOAT]: 'float32', [DT.FLOAT16]: 'float16', [DT.DOUBLE]: 'float64', [DT.INT64]: 'int64', [DT.INT32]: 'int32', [DT.BOOL]: 'bool',
};
const elemName = (e: number | null | undefined) => ELEM[e ?? 0] ?? `elem${e}`;

function typeText(t: P.ITypeProto | null | undefined): string {
  const tt = t?.tensorType;
  if (!tt) return '?';
  return `${elemName(tt.elemType)}[${(tt.shape?.dim ?? []).map((d) => d.dimParam || String(d.dimValue ?? '?')).join(',')}]`;
}

function attrText(a: P.IAttributeProto): string {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT: return `${a.name}=${a.i}`;
    case T.FLOAT: return `${a.name}=${a.f}`;
    case T.STRING: return `${a.name}="${Buffer.from(a.s ?? []).toString('utf8')}"`;
    case T.INTS: return `${a.name}=[${(a.ints ?? []).join(',')}]`;
    case T.FLOATS: return `${a.name}=[${(a.floats ?? []).join(',')}]`;
    default: return `${a.name}=<attribute type ${a.type}>`;
  }
}

function tensorText(t: P.ITensorProto): string {
  const type = `${elemName(t.dataType)}[${(t.dims ?? []).join(',')}]`;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
    return `${type} external ${kv.get('location')} offset ${kv.get('offset')} length ${kv.get('length')}`;
  }
  const raw = Buffer.from(t.rawData ?? []);
  if (t.dataType === DT.INT64 && raw.length <= 64) return `${type} = [${Array.from({ length: raw.length / 8 }, (_, i) => raw.readBigInt64LE(8 * i)).join(',')}]`;
  if (t.dataType === DT.FLOAT && raw.length === 4) return `${type} = ${raw.readFloatLE(0)}`;
  if (t.dataType === DT.FLOAT16 && raw.length === 2) return `${type} = half 0x${raw.readUInt16LE(0).toString(16).padStart(4, '0')}`;
  return `${type} ${raw.length} bytes`;
}

/** Decode a model file's bytes; bytes that are not an ONNX model are one error at `file`. */
export function decodeOnnx(file: string, bytes: Uint8Array): P.IModelProto {
  const notModel = (why: string): never => { throw new DiagnosticError([error('onnx/not-a-model', `not an ONNX model (${why})`, fileSpan(file))]); };
  let m: P.IModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    return notModel(`the protobuf does not decode: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!m.graph) return notModel('it has no graph');
  if (!m.opsetImport?.length) return notModel('it imports no opset');
  if (!(Number(m.irVersion ?? 0) > 0)) return notModel('it has no IR version');
  return m;
}

export function dumpOnnx(model: Uint8Array | P.IModelProto): string {
  const m = model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model;
  const g = m.graph!;
  const types = new Map<string, string>();
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) types.set(v.name!, typeText(v.type));
  const oneLine = (s: string) => { const t = s.replace(/\n/g, '; '); return t.length > 100 ? `${t.slice(0, 97)}...` : t; };
  const counts = new Map<string, number>();
  for (const n of g.node ?? []) {
    const op = n.domain ? `${n.domain}.${n.opType}` : n.opType!;
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  const nodeLine = (n: P.INodeProto) => {
    const outs = (n.output ?? []).map((o) => (o ? `${o}: ${types.get(o) ?? '?'}` : '_')).join(', ');
    const attrs = (n.attribute ?? []).map(attrText);
    const named = n.output?.length === 1 && n.output[0] === `${n.name}_out` ? '' : `  # ${n.name}`;
    const op = n.domain ? `${n.domain}.${n.opType}` : n.opType;
    return `  ${outs} = ${op}(${(n.input ?? []).map((i) => i || '_').join(', ')})${attrs.length ? ` {${attrs.join(', ')}}` : ''}${named}`;
  };
  return [
    `model "${g.name}": producer ${m.producerName} ${m.producerVersion}, ir_version ${m.irVersion}, opset ${(m.opsetImport ?? []).map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}`,
    ...(m.metadataProps ?? []).map((p) => `metadata ${p.key} = ${oneLine(p.value ?? '')}`),
    ...(g.input ?? []).map((v) => `input ${v.name}: ${typeText(v.type)}`),
    ...(g.output ?? []).map((v) => `output ${v.name}: ${typeText(v.type)}`),
    `initializers (${g.initializer?.length ?? 0}):`,
    ...(g.initializer ?? []).map((t) => `  ${t.name}: ${tensorText(t)}`),
    `nodes (${g.node?.length ?? 0}: ${[...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([op, k]) => `${op} ${k}`).join(', ')}):`,
    ...(g.node ?? []).map(nodeLine),
    '',
  ].map(escapeText).join('\n'); // names from any file: a line break or U+2028 in one must not start a line
}
