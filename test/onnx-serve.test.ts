// --serve triton: the build directory is a Triton Inference Server model repository. Its
// config.pbtxt is read back with a small text-format parser and checked against model.onnx itself
// (graph inputs and outputs: names, element types, dims with the symbolic batch first) and against
// what onnxruntime reports for the file; the repository runs with `vitc run` like any build.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { tempDir, vitc } from './helpers.js';
import { compare } from './golden.js';
import { DT, onnx } from '../src/backends/onnx/proto.js';

type PbValue = string | number | { readonly enum: string } | PbMessage;
interface PbMessage { readonly [field: string]: PbValue[] }

/** The protobuf text format as config.pbtxt uses it: `f: v`, `f: [v, ...]`, `f { ... }`, `f [ {...}, ... ]`, # comments. */
function parsePbtxt(text: string): PbMessage {
  const tokens = text.replace(/#[^\n]*/g, '').match(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[{}[\]:,]/g) ?? [];
  let at = 0;
  const next = () => tokens[at++]!;
  const expectTok = (t: string) => { if (next() !== t) throw new Error(`expected ${t} at token ${at - 1}`); };
  const scalar = (t: string): PbValue => (t.startsWith('"') ? JSON.parse(t) as string : /^-?\d/.test(t) ? Number(t) : { enum: t });
  const value = (): PbValue => (tokens[at] === '{' ? (next(), body('}')) : scalar(next()));
  function body(end?: string): PbMessage {
    const m: Record<string, PbValue[]> = {};
    while (at < tokens.length && tokens[at] !== end) {
      const field = next();
      if (!/^[A-Za-z_]/.test(field)) throw new Error(`expected a field name, got ${field}`);
      const list = (m[field] ??= []);
      if (tokens[at] === ':') next();
      if (tokens[at] === '[') {
        next();
        while (tokens[at] !== ']') {
          list.push(value());
          if (tokens[at] === ',') next();
        }
        next();
      } else {
        list.push(value());
      }
    }
    if (end) expectTok(end);
    return m;
  }
  return body();
}

const one = (m: PbMessage, f: string): PbValue => {
  expect(m[f], f).toHaveLength(1);
  return m[f]![0]!;
};
const enumOf = (v: PbValue) => (v as { enum: string }).enum;

/** ModelConfig's fields that vitc writes, by message: anything else in the file is a typo. */
const FIELDS: Readonly<Record<string, readonly string[]>> = {
  config: ['name', 'platform', 'max_batch_size', 'input', 'output', 'dynamic_batching'],
  input: ['name', 'data_type', 'format', 'dims'],
  output: ['name', 'data_type', 'dims', 'label_filename'],
  dynamic_batching: ['max_queue_delay_microseconds'],
};

function labeledSpec(lines: number): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'classes.txt'), Array.from({ length: lines }, (_, i) => `class ${i}`).join('\n') + '\n');
  writeFileSync(join(dir, 'tiny-labeled.yaml'), `extends: ${resolve('spec/tiny/tiny-base.yaml')}\nname: tiny-labeled\nlabels: classes.txt\n`);
  return join(dir, 'tiny-labeled.yaml');
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => { for (const e of readdirSync(d)) (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : out.push(relative(dir, join(d, e)))); };
  walk(dir);
  return out.sort();
}

describe('onnx --serve triton', () => {
  it('writes a model repository whose config.pbtxt matches the model: names, types, dims, batching, labels', async () => {
    const dir = join(tempDir(), 'repo');
    const r = await vitc('build', labeledSpec(10), '--target', 'onnx', '--serve', 'triton', '--max-batch-size', '8', '--weights', 'test/golden/tiny-base/weights.safetensors', '-o', dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(files(dir)).toEqual(['manifest.json', 'tiny-labeled/1/model.onnx', 'tiny-labeled/config.pbtxt', 'tiny-labeled/labels.txt']);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.entry).toBe('tiny-labeled/1/model.onnx');

    const cfg = parsePbtxt(readFileSync(join(dir, 'tiny-labeled/config.pbtxt'), 'utf8'));
    for (const f of Object.keys(cfg)) expect(FIELDS.config, f).toContain(f);
    expect(one(cfg, 'name')).toBe('tiny-labeled');
    expect(one(cfg, 'platform')).toBe('onnxruntime_onnx');
    expect(one(cfg, 'max_batch_size')).toBe(8);
    const batching = one(cfg, 'dynamic_batching') as PbMessage;
    for (const f of Object.keys(batching)) expect(FIELDS.dynamic_batching, f).toContain(f);

    // Against the model file: every graph input and output, in order, with its type and non-batch dims.
    const model = onnx.ModelProto.decode(readFileSync(join(dir, manifest.entry)));
    for (const [kind, values] of [['input', model.graph!.input!], ['output', model.graph!.output!]] as const) {
      const entries = cfg[kind] as PbMessage[];
      expect(entries.map((e) => one(e, 'name'))).toEqual(values.map((v) => v.name));
      values.forEach((v, i) => {
        const e = entries[i]!;
        for (const f of Object.keys(e)) expect(FIELDS[kind], f).toContain(f);
        const t = v.type!.tensorType!;
        expect(t.elemType).toBe(DT.FLOAT);
        expect(enumOf(one(e, 'data_type'))).toBe('TYPE_FP32');
        const [batch, ...dims] = t.shape!.dim!;
        expect(batch!.dimParam).toBe('batch');
        expect(e.dims).toEqual(dims.map((d) => Number(d.dimValue)));
      });
    }
    const input = (cfg.input as PbMessage[])[0]!;
    expect(enumOf(one(input, 'format'))).toBe('FORMAT_NCHW');
    const logits = (cfg.output as PbMessage[])[0]!;
    expect(one(logits, 'label_filename')).toBe('labels.txt');
    const labels = readFileSync(join(dir, 'tiny-labeled/labels.txt'), 'utf8').trimEnd().split('\n');
    expect(labels).toHaveLength(logits.dims![0] as number);
    expect(labels[3]).toBe('class 3');

    // onnxruntime sees the same names, and runs a batch of the size Triton may form.
    const session = await ort.InferenceSession.create(join(dir, manifest.entry));
    expect(session.inputNames).toEqual([one(input, 'name')]);
    expect(session.outputNames).toEqual([one(logits, 'name')]);
    const x = new Float32Array(8 * 3 * 32 * 32).fill(0.25);
    const y = (await session.run({ input: new ort.Tensor('float32', x, [8, ...(input.dims as number[])]) })).logits!;
    expect(y.dims).toEqual([8, ...(logits.dims as number[])]);
    await session.release();
  });

  it('runs with vitc run like a plain build, and keeps external data beside the model', async () => {
    const base = tempDir();
    const plain = join(base, 'plain');
    const repo = join(base, 'repo');
    const w = ['--weights', 'test/golden/tiny-base/weights.safetensors'];
    expect((await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', ...w, '-o', plain)).code).toBe(0);
    expect((await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', ...w, '--serve', 'triton', '--external-data-threshold', '10000', '-o', repo)).code).toBe(0);
    expect(files(repo)).toEqual(['manifest.json', 'tiny-base/1/model.onnx', 'tiny-base/1/model.onnx.data', 'tiny-base/config.pbtxt']);
    expect(readFileSync(join(repo, 'tiny-base/config.pbtxt'), 'utf8')).not.toMatch(/label_filename/);
    const out = (dir: string) => `${dir}.npy`;
    for (const dir of [plain, repo]) {
      const r = await vitc('run', dir, '--input', 'test/golden/tiny-base/input.npy', '--output', out(dir), '--top', '0');
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(`${dir}: using the weights built into it`); // nothing about random ones
    }
    const npy = (f: string) => { const b = readFileSync(f); return new Float32Array(b.buffer.slice(b.byteOffset + 10 + b.readUInt16LE(8), b.byteOffset + b.length)); };
    expect(compare(npy(out(repo)), npy(out(plain))).maxErr).toBe(0);
  });

  it('reports a labels file that does not fit the model, and options that do not apply, in one line', async () => {
    const spec = labeledSpec(9);
    const dir = join(tempDir(), 'repo');
    const bad = await vitc('build', spec, '--target', 'onnx', '--serve', 'triton', '-o', dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^\S+classes\.txt: error: 9 class names, but the model has 10 classes \(give one name per class\)$/);
    expect(existsSync(dir)).toBe(false);
    // The labels vitc run takes, Triton gets one name a line: class_indices.json too.
    const json = join(dirname(spec), 'class_indices.json');
    writeFileSync(json, JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), `flower ${i}`])), null, 4));
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('classes.txt', 'class_indices.json'));
    const repo = join(dirname(spec), 'repo-json');
    expect((await vitc('build', spec, '--target', 'onnx', '--serve', 'triton', '-o', repo)).code).toBe(0);
    expect(readFileSync(join(repo, 'tiny-labeled/labels.txt'), 'utf8')).toBe(Array.from({ length: 10 }, (_, i) => `flower ${i}\n`).join(''));
    const cases: [string[], string][] = [
      [['--max-batch-size', '8'], 'error: --max-batch-size applies only with --serve triton'],
      [['--serve', 'tritn'], 'error: --serve must be one of triton; got "tritn" (did you mean "triton"?)'],
      [['--serve', 'triton', '--max-batch-size', '0'], 'error: --max-batch-size must be a positive integer; got "0"'],
    ];
    for (const [args, message] of cases) {
      const r = await vitc('build', 'spec/tiny/tiny-base.yaml', '--target', 'onnx', ...args, '-o', dir);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(message);
    }
  });
});
