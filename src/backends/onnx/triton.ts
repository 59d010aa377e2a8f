// --serve triton: the build directory is a Triton Inference Server model repository holding one
// model, named after the spec:
//   NAME/config.pbtxt          the model configuration (text protobuf, Triton's ModelConfig)
//   NAME/1/model.onnx          version 1 (and model.onnx.data beside it for big models)
//   NAME/labels.txt            the spec's labels file, when it has one
//   manifest.json              vitc's manifest (Triton looks at directories only)
// The configuration names the model's real inputs and outputs with their dims without the batch
// dim (Triton adds it, up to max_batch_size), and turns on dynamic batching: the ONNX file's batch
// dim is symbolic, so Triton may combine queued requests into one run.
import { fail } from '../../diag/diagnostic.js';
import { displayPath } from '../../spec/load.js';
import type { Manifest, TensorSig } from '../manifest.js';
import type { Spec } from '../../spec/load.js';
import type { OutputFile } from '../backend.js';
import { BATCH } from '../../ir/types.js';

export const SERVE_CHOICES = ['triton'] as const;
export type Serve = (typeof SERVE_CHOICES)[number];
export const DEFAULT_MAX_BATCH = 32;
/** How long Triton's dynamic batcher may hold a request to batch it with the next ones. */
const QUEUE_DELAY_US = 100;
const LABELS_FILE = 'labels.txt';
const VERSION = '1';

/** Where the model file goes in the repository: NAME/1/model.onnx. */
export function tritonModelDir(spec: Spec): string {
  return `${spec.config.name}/${VERSION}`;
}

function tensorConfig(t: TensorSig, before: readonly string[], after: readonly string[] = []): string {
  if (t.shape[0] !== BATCH || t.shape.slice(1).includes(BATCH)) throw new Error(`${t.name}: Triton batching needs the batch dim first and only there; got [${t.shape.join(',')}]`);
  return [
    '  {',
    `    name: ${JSON.stringify(t.name)}`,
    // The ONNX model's inputs and outputs are float32 at every precision (fp16 casts inside).
    '    data_type: TYPE_FP32',
    ...before.map((l) => `    ${l}`),
    `    dims: [ ${t.shape.slice(1).join(', ')} ]`,
    ...after.map((l) => `    ${l}`),
    '  }',
  ].join('\n');
}

/** config.pbtxt for the model's inputs and outputs (float32 at the interface, whatever the precision inside). */
export function tritonConfig(m: Manifest, maxBatch: number, labels: boolean): string {
  const list = (key: string, items: readonly string[]) => `${key} [\n${items.join(',\n')}\n]`;
  return [
    `# Triton Inference Server model configuration, written by vitc ${m.vitc} for ${m.spec.name} (spec sha256 ${m.spec.sha256}).`,
    `# Start a server on this repository (the directory that holds ${m.spec.name}/): see docs/targets/onnx.md.`,
    `name: ${JSON.stringify(m.spec.name)}`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${maxBatch}`,
    list('input', m.inputs.map((t) => tensorConfig(t, t.shape.length === 4 ? ['format: FORMAT_NCHW'] : []))),
    list('output', m.outputs.map((t, i) => tensorConfig(t, [], labels && i === 0 ? [`label_filename: ${JSON.stringify(LABELS_FILE)}`] : []))),
    'dynamic_batching {',
    `  max_queue_delay_microseconds: ${QUEUE_DELAY_US}`,
    '}',
    '',
  ].join('\n');
}

/** The manifest's class names (the spec's labels file), one per line as Triton reads them. */
function labelsFile(spec: Spec, m: Manifest): string | undefined {
  if (!m.labels) return undefined;
  const broken = m.labels.findIndex((n) => /[\r\n]/.test(n));
  if (broken >= 0) fail('build/labels', `the name of class ${broken} in ${displayPath(spec.config.labels!)} has a line break, and Triton reads one name per line`, spec.spans.value('/labels'));
  return m.labels.join('\n') + '\n';
}

/** The model's files moved into a repository layout, plus config.pbtxt and the labels. */
export function tritonRepository(files: readonly OutputFile[], spec: Spec, m: Manifest, maxBatch: number): OutputFile[] {
  const labels = labelsFile(spec, m);
  const name = spec.config.name;
  return [
    { path: `${name}/config.pbtxt`, contents: tritonConfig(m, maxBatch, labels !== undefined) },
    ...(labels === undefined ? [] : [{ path: `${name}/${LABELS_FILE}`, contents: labels }]),
    ...files.map((f) => ({ ...f, path: `${tritonModelDir(spec)}/${f.path}` })),
  ];
}
