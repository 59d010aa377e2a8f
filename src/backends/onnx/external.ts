// ONNX external data: when a model would not fit a protobuf message (2 GiB), tensor bytes move to
// a file beside it. Each moved TensorProto keeps its name, type and dims, with data_location =
// EXTERNAL and external_data entries location / offset / length pointing into the file.
import { onnx, type P } from './proto.js';

/** When model.onnx would be larger than this (bytes), its tensors go to model.onnx.data: 2 GiB less a margin. */
export const DEFAULT_EXTERNAL_THRESHOLD = 1_900_000_000;
/** Tensors smaller than this stay in model.onnx (the onnx package's own default). */
const MIN_EXTERNAL_BYTES = 1024;
/** Offsets are page-aligned, so a runtime can map tensors straight from the file. */
const ALIGN = 4096;

/** model.onnx's size with every initializer inline: their bytes plus the graph around them (within a few KiB). */
export function estimatedSize(model: P.IModelProto): number {
  const inits = model.graph!.initializer!;
  const raw = inits.reduce((s, t) => s + t.rawData!.length, 0);
  const skeleton = { ...model, graph: { ...model.graph, initializer: inits.map((t) => ({ ...t, rawData: undefined })) } };
  return raw + 16 * inits.length + onnx.ModelProto.encode(onnx.ModelProto.create(skeleton)).len;
}

/** Move the initializers of at least 1 KiB into one data file named `location`; returns its bytes. */
export function externalize(initializers: P.ITensorProto[], location: string): Uint8Array {
  const moved = initializers.filter((t) => t.rawData!.length >= MIN_EXTERNAL_BYTES);
  const offsets: number[] = [];
  let size = 0;
  for (const t of moved) {
    offsets.push(size);
    size = Math.ceil((size + t.rawData!.length) / ALIGN) * ALIGN;
  }
  const data = new Uint8Array(size);
  moved.forEach((t, i) => {
    const raw = t.rawData!;
    data.set(raw, offsets[i]!);
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offsets[i]) },
      { key: 'length', value: String(raw.length) },
    ];
    t.rawData = undefined;
  });
  return data;
}
