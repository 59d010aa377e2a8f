// Builds one ONNX GraphProto: nodes in topological order with unique readable names
// ("blocks.0.attn.qkv/Gemm"), a value_info for every node output, and initializers, where
// constants (int64 shapes and indices, float scalars and tables) are shared by content.
import { attributes, int64Bytes, DT, type Attrs, type ElemType, type OnnxDim, type P, type Value } from './proto.js';

export class GraphBuilder {
  readonly nodes: P.INodeProto[] = [];
  readonly initializers: P.ITensorProto[] = [];
  /** Node outputs in creation order (value_info is written for each). */
  readonly values: Value[] = [];
  private readonly taken = new Map<string, number>();
  private readonly constants = new Map<string, Value>();

  /** `base` if unused, else `base_1`, `base_2`, ... */
  unique(base: string): string {
    const n = this.taken.get(base) ?? 0;
    this.taken.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  /**
   * A node named `scope/OpType`, with one typed output named after the node unless `name` is given;
   * `domain` names another operator set than ONNX's (com.microsoft).
   */
  node(scope: string, opType: string, inputs: readonly Value[], out: { readonly elem: ElemType; readonly dims: readonly OnnxDim[]; readonly name?: string }, attrs: Attrs = {}, domain = ''): Value {
    const name = this.unique(scope ? `${scope}/${opType}` : opType);
    const value: Value = { name: out.name === undefined ? this.unique(`${name}_out`) : this.claim(out.name), elem: out.elem, dims: out.dims };
    this.nodes.push({ name, opType, ...(domain ? { domain } : {}), input: inputs.map((v) => v.name), output: [value.name], attribute: attributes(attrs) });
    this.values.push(value);
    return value;
  }

  /** Take a name that must not be in use yet (graph inputs and outputs, weights). */
  claim(name: string): string {
    if (this.taken.has(name)) throw new Error(`duplicate ONNX name ${name}`);
    this.taken.set(name, 1);
    return name;
  }

  /** Rename the output of the node that produces `from` (and its uses); false if no node does. */
  rename(from: string, to: string): boolean {
    const producer = this.nodes.find((n) => n.output!.includes(from));
    if (!producer) return false;
    this.claim(to);
    const swap = (names: string[]) => names.map((x) => (x === from ? to : x));
    for (const n of this.nodes) {
      n.input = swap(n.input!);
      n.output = swap(n.output!);
    }
    const i = this.values.findIndex((v) => v.name === from);
    this.values[i] = { ...this.values[i]!, name: to };
    return true;
  }

  /** An initializer with a given name (the state-dict weights). */
  initializer(name: string, elem: ElemType, dims: readonly number[], raw: Uint8Array): Value {
    this.claim(name);
    this.initializers.push({ name, dataType: elem, dims: [...dims], rawData: raw });
    return { name, elem, dims };
  }

  /** A constant initializer, shared with every other constant of the same type, shape and bytes. */
  constant(label: string, elem: ElemType, dims: readonly number[], raw: Uint8Array): Value {
    const key = `${elem}|${dims.join(',')}|${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = this.unique(label);
    this.initializers.push({ name, dataType: elem, dims: [...dims], rawData: raw });
    const v: Value = { name, elem, dims };
    this.constants.set(key, v);
    return v;
  }

  /** int64 values, a 1-D tensor or a scalar index, named by their values: `const/ints_m1_768`, `const/int_0`. */
  int64(values: readonly number[], scalar = false): Value {
    const label = `const/${scalar ? 'int' : 'ints'}_${values.map((v) => (v < 0 ? `m${-v}` : String(v))).join('_')}`;
    return this.constant(label, DT.INT64, scalar ? [] : [values.length], int64Bytes(values));
  }
}
