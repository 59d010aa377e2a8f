// A readable, deterministic text form of an ONNX model (for review and snapshot tests):
// `vitc inspect model.onnx` prints it.
import { DT, onnx, type P } from './graph.js';

const ELEM: Record<number, string> = { [DT.FLOAT]: 'float32', [DT.FLOAT16]: 'float16', [DT.INT64]: 'int64', [DT.DOUBLE]: 'float64', [DT.INT32]: 'int32' };

function typeText(t: P.ITypeProto | null | undefined): string {
  const tt = t?.tensorType;
  if (!tt) return '?';
  const dims = (tt.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : String(d.dimValue)));
  return `${ELEM[tt.elemType ?? 0] ?? `type${tt.elemType}`}[${dims.join(',')}]`;
}

function attrText(a: P.IAttributeProto): string {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT: return `${a.name}=${a.i}`;
    case T.FLOAT: return `${a.name}=${a.f}`;
    case T.STRING: return `${a.name}="${Buffer.from(a.s ?? []).toString('utf8')}"`;
    case T.INTS: return `${a.name}=[${(a.ints ?? []).join(',')}]`;
    default: return `${a.name}=<${a.type}>`;
  }
}

function tensorSummary(t: P.ITensorProto): string {
  const shape = `${ELEM[t.dataType ?? 0] ?? t.dataType}[${(t.dims ?? []).join(',')}]`;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
    return `${shape} external ${kv.location}@${kv.offset}+${kv.length}`;
  }
  const raw = t.rawData ?? new Uint8Array();
  if (t.dataType === DT.INT64 && raw.length <= 64) {
    const b = Buffer.from(raw);
    return `${shape} = [${Array.from({ length: raw.length / 8 }, (_, i) => b.readBigInt64LE(8 * i)).join(',')}]`;
  }
  if (t.dataType === DT.FLOAT && raw.length === 4) return `${shape} = ${Buffer.from(raw).readFloatLE(0)}`;
  return `${shape} (${raw.length} bytes)`;
}

export function dumpOnnx(bytes: Uint8Array): string {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph!;
  const [inputs, outputs, inits, nodes] = [g.input ?? [], g.output ?? [], g.initializer ?? [], g.node ?? []];
  const types = new Map<string, string>();
  for (const v of [...inputs, ...outputs, ...(g.valueInfo ?? [])]) types.set(v.name!, typeText(v.type));
  const meta = (v: string) => { const one = v.replace(/\n/g, '; '); return one.length > 120 ? `${one.slice(0, 117)}...` : one; };
  const lines = [
    `model ir_version=${m.irVersion} opset=${(m.opsetImport ?? []).map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(',')} producer="${m.producerName} ${m.producerVersion}" graph="${g.name}"`,
    ...(m.metadataProps ?? []).map((p) => `metadata ${p.key} = ${meta(p.value ?? '')}`),
    ...inputs.map((v) => `input ${v.name}: ${typeText(v.type)}`),
    ...outputs.map((v) => `output ${v.name}: ${typeText(v.type)}`),
    ...inits.map((t) => `initializer ${t.name}: ${tensorSummary(t)}`),
    ...nodes.map((n) => {
      const attrs = n.attribute ?? [];
      return `node ${n.name}: ${n.opType}(${(n.input ?? []).join(', ')})${attrs.length ? ' ' + attrs.map(attrText).join(' ') : ''} -> ${(n.output ?? []).map((o) => `${o}: ${types.get(o) ?? '?'}`).join(', ')}`;
    }),
  ];
  return lines.join('\n') + '\n';
}
