// The spatial ops one at a time against PyTorch (test/fixtures/ops, written by
// tools/golden/make_op_goldens.py): each case is built as a one-op graph and run on every target
// through the target's own emit and runner, so the op table entries, the kernels and the loader
// (weight transforms) are what is tested.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, type Value } from '../src/ir/builder.js';
import type { Graph } from '../src/ir/graph.js';
import { samePads, type Pads, type Pair } from '../src/ir/ops/conv.js';
import { BATCH } from '../src/ir/types.js';
import { runPipeline } from '../src/passes/pipeline.js';
import { getBackend } from '../src/backends/registry.js';
import { buildKernelProgram } from '../src/kernel/index.js';
import { makeManifest } from '../src/backends/manifest.js';
import { writeBuildDir } from '../src/compile.js';
import type { Spec } from '../src/spec/load.js';
import { parseSafetensors, tensorToFloat32 } from '../src/weights/safetensors.js';
import { compare } from './golden.js';
import { PY, pythonHas, runAsync, tempDir } from './helpers.js';

const DIR = 'test/fixtures/ops';

interface Case {
  readonly name: string;
  readonly op: 'conv2d' | 'stdconv2d' | 'maxpool2d' | 'groupnorm';
  readonly stride?: Pair;
  readonly dilation?: Pair;
  readonly groups?: number;
  readonly kernel?: Pair;
  readonly padding?: Pads | 'same';
  readonly eps?: number;
}

const CASES: readonly Case[] = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8'));

function fixture(name: string) {
  const bytes = new Uint8Array(readFileSync(join(DIR, `${name}.safetensors`)));
  const t = parseSafetensors(bytes);
  const get = (k: string) => (t[k] ? { shape: t[k]!.shape, data: tensorToFloat32(t[k]!) } : undefined);
  return { bytes, input: get('input')!, output: get('output')!, weight: get('weight'), bias: get('bias') };
}

/** The case as a graph: input [B, C, H, W], parameters "weight" and "bias", one op (two when `unfolded`). */
function caseGraph(c: Case, unfolded = false): Graph {
  const f = fixture(c.name);
  const b = new GraphBuilder(c.name);
  const x = b.input('input', [BATCH, ...f.input.shape.slice(1)]);
  const w = f.weight && b.param('weight', f.weight.shape, { kind: 'constant', value: 0 });
  const bias = f.bias && b.param('bias', f.bias.shape, { kind: 'constant', value: 0 });
  const hw = f.input.shape.slice(2) as unknown as Pair;
  const pads = (k: Pair): Pads => (c.padding === 'same' ? samePads(hw, k, c.stride!, c.dilation ?? [1, 1]) : c.padding!);
  let y: Value;
  switch (c.op) {
    case 'conv2d': case 'stdconv2d': {
      let weight = w!;
      // stdconv: standardize the parameter (folded into the weight at load), or something computed
      // from it (not foldable: the decomposition runs in the graph); both must give PyTorch's result.
      if (c.op === 'stdconv2d') weight = b.op('standardize', [unfolded ? b.op('mul', [w!, b.scalar(1)], {}) : w!], { eps: c.eps! });
      const k = f.weight!.shape.slice(2) as unknown as Pair;
      y = b.op('conv2d', [x, weight, ...(bias ? [bias] : [])], { stride: c.stride!, pad: pads(k), dilation: c.dilation!, groups: c.groups! });
      break;
    }
    case 'maxpool2d': y = b.op('maxpool2d', [x], { kernel: c.kernel!, stride: c.stride!, pad: pads(c.kernel!) }); break;
    case 'groupnorm': y = b.op('groupnorm', [x, w!, bias!], { groups: c.groups!, eps: c.eps! }); break;
  }
  b.output('logits', y);
  return b.build();
}

/** What a build needs of a spec, for a graph made without one. */
const SPEC = { config: { name: 'op', description: 'one op', preprocess: {} }, hash: '0'.repeat(64), data: {} } as unknown as Spec;

/** Build the graph for a target as `vitc build` does (pipeline, kernels, emit), open it with its runner, run the fixture's input. */
async function run(g0: Graph, target: string, weights: Uint8Array, input: { shape: readonly number[]; data: Float32Array }): Promise<{ out: Float32Array; graph: Graph }> {
  const backend = getBackend(target);
  const { graph } = runPipeline(g0, { nativeComposites: backend.capabilities.nativeComposites });
  const kernels = backend.consumes === 'kernels' ? buildKernelProgram(graph, { precision: 'fp32', lnPrologue: backend.capabilities.lnPrologue ?? false }) : undefined;
  const manifest = makeManifest(SPEC, graph, target, 'fp32', backend.entry, []);
  const files = await backend.emit({ spec: SPEC, graph, kernels, options: { precision: 'fp32', seed: 0, weights: { bytes: weights, file: 'w.safetensors' } }, targetOptions: {}, manifest });
  const dir = join(tempDir(), 'build');
  writeBuildDir(dir, [...files, { path: 'manifest.json', contents: JSON.stringify(manifest) }]);
  const session = await backend.open({ dir, manifest, weights });
  try {
    return { out: await session.forward(input.data, input.shape[0]!), graph };
  } finally {
    await session.close();
  }
}

describe('spatial ops match PyTorch (test/fixtures/ops)', () => {
  it('every fixture file has its case', () => {
    expect(readdirSync(DIR).filter((f) => f.endsWith('.safetensors')).map((f) => f.replace(/\.safetensors$/, '')).sort()).toEqual(CASES.map((c) => c.name).sort());
  });

  const runs = CASES.flatMap((c) => ['js', 'onnx', 'cuda'].flatMap((target) => [
    { c, target, unfolded: false },
    ...(c.op === 'stdconv2d' ? [{ c, target, unfolded: true }] : []),
  ]));
  it.each(runs.map((r) => [`${r.c.name}${r.unfolded ? ' (standardize not folded)' : ''} on ${r.target}`, r] as const))('%s', async (_label, { c, target, unfolded }) => {
    const f = fixture(c.name);
    const { out, graph } = await run(caseGraph(c, unfolded), target, f.bytes, f.input);
    expect(compare(out, f.output.data).rel).toBeLessThan(1e-5);
    if (c.op === 'stdconv2d') {
      // Folded: no standardize left and the parameter carries it; not folded: the decomposition instead.
      const w = graph.nodes.find((n) => n.op === 'param' && n.attrs.name === 'weight')!;
      expect(w.op === 'param' && w.attrs.transforms).toEqual(unfolded ? undefined : [{ op: 'standardize', eps: c.eps }]);
      expect(graph.nodes.some((n) => n.op === 'standardize')).toBe(false);
    }
  });

  const hasTorch = pythonHas('torch', 'the op golden reproduction');
  it.skipIf(!hasTorch)('are what tools/golden/make_op_goldens.py writes (byte for byte)', async () => {
    const out = tempDir();
    const r = await runAsync(PY, ['tools/golden/make_op_goldens.py', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const f of readdirSync(DIR)) expect(readFileSync(join(out, f)).equals(readFileSync(join(DIR, f))), f).toBe(true);
  });
});
