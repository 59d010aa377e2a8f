import { loadSpec } from '../../spec/load.js';
import { decodeOnnx, dumpOnnx } from '../../backends/onnx/dump.js';
import { readFileOrFail } from '../../weights/safetensors.js';
import { derived, featureSize } from '../../spec/config.js';
import { buildGraph } from '../../compile.js';
import { verifyGraph } from '../../ir/verify.js';
import { countMacs, countParams, layerTable, peakActivationBytes, tokenCounts } from '../../analysis/cost.js';
import { inputs, outputNodes, params, type Node } from '../../ir/graph.js';
import { fmtShape, numel } from '../../ir/types.js';
import { flag, positionals, str, type Parsed } from '../args.js';
import { fail } from '../../diag/diagnostic.js';
import { getBackend } from '../../backends/registry.js';
import { runPipeline } from '../../passes/pipeline.js';
import { buildKernelProgram } from '../../kernel/index.js';
import { kernelCost } from '../../kernel/cost.js';
import { arenaBytes } from '../../kernel/memory.js';
import { precisionPolicy, storageOf } from '../../kernel/precision.js';
import { STORAGE_BYTES } from '../../kernel/types.js';
import type { Spec } from '../../spec/load.js';
import type { ModelConfig } from '../../spec/config.js';
import type { Precision } from '../../backends/backend.js';
import type { Command, Io } from '../command.js';
import { fmtBytes, fmtGmacs, fmtInt, precisionOption } from './shared.js';

export const inspect: Command = {
  name: 'inspect',
  summary: 'per-layer table, parameters, GMACs, activation memory',
  help: `usage: vitc inspect SPEC [--json]
       vitc inspect SPEC --kernels [--target T] [--precision P] [--json]
       vitc inspect MODEL.onnx

Builds the spec's IR and reports, per layer (patch_embed, blocks.N, norm, head, ...; a hybrid's
backbone per stage: patch_embed.backbone.stem, patch_embed.backbone.stages.N), the output
shape, parameter count and multiply-accumulates, then totals: parameters, GMACs per image (matmuls
and convolutions; FLOPs = 2 x MACs), weight bytes, and the peak memory of live activations at batch 1.
Given a .onnx file (from vitc build --target onnx), prints its graph as text: metadata, inputs,
outputs, initializers, and every node with its attributes and output types.

With --kernels, reports the planned KernelProgram instead (the level the js, cuda and wgsl targets
render): one row per fused kernel with its kind, scope, the IR nodes it covers, GFLOPs, bytes read
and written, and arithmetic intensity (FLOPs per byte), at batch 1; then the kernel count and arena
size at batch 1 and 64, side by side with the unfused graph (one kernel per op, every value in memory).

options:
  --json          print the same report as JSON
  --kernels       the fused kernel table (see above)
  --target T      with --kernels: whose plan to show (default js; e.g. the GPU targets keep LayerNorm
                  as a kernel of its own)
  --precision P   with --kernels: fp32 (default), tf32, fp16 or bf16 (storage sizes follow it)
  -h, --help      this help

examples:
  vitc inspect spec/vit-b16.yaml             # 86,567,656 parameters, 17.56 GMACs
  vitc inspect spec/vit-b16.yaml --kernels   # 5 kernels per encoder block`,
  options: { json: { type: 'boolean' }, kernels: { type: 'boolean' }, target: { type: 'string', short: 't' }, precision: { type: 'string' } },
  async run(p: Parsed, io: Io) {
    const [file] = positionals('inspect', p, ['SPEC']);
    if (file!.endsWith('.onnx')) {
      io.out(dumpOnnx(decodeOnnx(file!, readFileOrFail(file!, 'model'))).trimEnd());
      return 0;
    }
    const spec = loadSpec(file!);
    if (flag(p, 'kernels')) return kernelReport(spec, str(p, 'target') ?? 'js', precisionOption(p), flag(p, 'json'), io);
    for (const o of ['target', 'precision']) if (str(p, o) !== undefined) fail('cli/option', `--${o} applies to vitc inspect --kernels only`);
    const g = buildGraph(spec);
    const problems = verifyGraph(g);
    if (problems.length) throw new Error(`IR verification failed: ${problems.join('; ')}`);
    const c = spec.config;
    const d = derived(c);
    const rows = layerTable(g);
    // The tokens the blocks see, from the graph: true whatever tokens the model adds.
    const seq = tokenCounts(g);
    const own = c.model !== null;
    const paramsN = countParams(g);
    const macs = countMacs(g);
    const report = {
      name: c.name,
      description: c.description,
      spec: spec.file,
      sha256: spec.hash,
      input: { name: inputs(g)[0]!.attrs.name, shape: inputs(g)[0]!.type.shape },
      output: { name: g.outputs[0]!.name, shape: outputNodes(g)[0]!.type.shape },
      ...(c.backbone ? { backbone: { ...c.backbone, feature_map: featureSize(c) } } : {}),
      tokens: seq[0]?.tokens ?? null,
      ...(seq.length > 1 ? { tokens_per_stage: seq } : {}),
      ...(own ? {} : {
        prefix_tokens: { class: c.class_token || c.distilled ? 1 : 0, distillation: c.distilled ? 1 : 0, registers: c.reg_tokens },
        head_dim: d.headDim,
        mlp_hidden: d.mlpHidden,
      }),
      layers: rows.map((r) => ({ layer: r.layer, output: r.output, params: r.params, macs: r.macs })),
      parameters: paramsN,
      parameter_tensors: params(g).length,
      weight_bytes_fp32: paramsN * 4,
      macs_per_image: macs,
      gmacs_per_image: Number((macs / 1e9).toPrecision(6)),
      peak_activation_bytes_batch1: peakActivationBytes(g, 1),
      largest_activation_bytes_batch1: Math.max(...g.nodes.filter((n) => n.op !== 'param' && n.op !== 'const').map((n) => numel(n.type.shape, 1) * 4)),
    };
    if (flag(p, 'json')) {
      io.out(JSON.stringify(report, null, 2));
      return 0;
    }
    const head = ['layer', 'output', 'params', 'MMACs'];
    const table = rows.map((r) => [r.layer, fmtShape(r.output), fmtInt(r.params), (r.macs / 1e6).toFixed(1)]);
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
    const line = (cells: string[]) => cells.map((s, i) => (i >= 2 ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join('  ').trimEnd();
    io.out(`${c.name}${c.description ? ` - ${c.description}` : ''}`);
    io.out(`input ${fmtShape(report.input.shape)} -> ${report.output.name} ${fmtShape(report.output.shape)}${tokenText(seq, own ? undefined : c)}${own ? '' : `, ${c.num_heads} heads of ${d.headDim}, MLP ${d.mlpHidden}`}`);
    if (c.backbone) {
      const b = c.backbone;
      io.out(`backbone: ResNet-v2, stages of [${b.layers.join(', ')}] bottleneck units (stem ${b.stem_width}, channels ${b.channels.join(', ')}) -> a ${featureSize(c).join('x')} feature map of ${b.channels[b.channels.length - 1]}; patches ${c.patch_size}x${c.patch_size}`);
    }
    io.out('');
    io.out(line(head));
    for (const t of table) io.out(line(t));
    io.out('');
    io.out(`parameters:        ${fmtInt(paramsN)} (${fmtBytes(paramsN * 4)} in fp32)`);
    io.out(`GMACs per image:   ${fmtGmacs(macs)} (matmuls and convolutions; FLOPs = 2 x MACs)`);
    io.out(`activations (batch 1): peak live ${fmtBytes(report.peak_activation_bytes_batch1)}, largest tensor ${fmtBytes(report.largest_activation_bytes_batch1)}`);
    return 0;
  },
};

/** "; 21 tokens (1 class, 4 registers, 16 patches) of 48": what the blocks see, split by kind for the stdlib model. */
function tokenText(seq: readonly { tokens: number; width: number }[], c?: ModelConfig): string {
  if (!seq.length) return '';
  const first = seq[0]!;
  const counts = seq.map((t) => `${t.tokens} tokens of ${t.width}`).join(', then ');
  if (!c || seq.length > 1) return `; ${counts}`;
  const kinds: [number, string][] = [[c.class_token || c.distilled ? 1 : 0, 'class'], [c.distilled ? 1 : 0, 'distillation'], [c.reg_tokens, c.reg_tokens === 1 ? 'register' : 'registers']];
  const prefix = kinds.reduce((s, [n]) => s + n, 0);
  if (prefix === 0) return `; ${counts}`;
  const parts = [...kinds.filter(([n]) => n > 0).map(([n, w]) => `${n} ${w}`), `${first.tokens - prefix} patches`];
  return `; ${first.tokens} tokens (${parts.join(', ')}) of ${first.width}`;
}

/** `vitc inspect SPEC --kernels`: the fused kernels of a target's plan, against the unfused graph. */
function kernelReport(spec: Spec, target: string, precision: Precision, json: boolean, io: Io): number {
  const backend = getBackend(target);
  if (backend.consumes !== 'kernels') fail('cli/target', `the ${target} target renders the graph, not kernels`, undefined, 'use --target js, cuda or wgsl');
  const g = buildGraph(spec);
  const { graph } = runPipeline(g, backend.capabilities);
  const prog = buildKernelProgram(graph, { precision, lnPrologue: backend.capabilities.lnPrologue ?? false });
  // The unfused reference: every op its own kernel and every value in memory (composites decomposed).
  const unfused = runPipeline(g, { nativeComposites: new Set() }).graph;
  const unfusedOps = unfused.nodes.filter((n) => !['input', 'param', 'const'].includes(n.op)).length;
  // Its values stored as the precision stores the plan's (the input and output in f32), so the two compare.
  const outs = new Set(unfused.outputs.map((o) => o.id));
  const policy = precisionPolicy(precision);
  const storedBytes = (n: Node) => STORAGE_BYTES[storageOf(n.op === 'input' ? 'input' : outs.has(n.id) ? 'output' : 'temp', policy)];
  const rows = prog.kernels.map((k) => {
    const c = kernelCost(prog, k, 1);
    return { id: k.id, kind: k.kind, scope: k.scope, covers: k.covers.length, flops: c.flops, bytes_read: c.bytesRead, bytes_written: c.bytesWritten, intensity: c.flops / Math.max(1, c.bytesRead + c.bytesWritten) };
  });
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + f(r), 0);
  const report = {
    name: spec.config.name, target, precision, kernels: rows.length, unfused_ops: unfusedOps,
    arena_bytes: { batch1: arenaBytes(prog.arena, 1), batch64: arenaBytes(prog.arena, 64) },
    unfused_activation_bytes: { batch1: peakActivationBytes(unfused, 1, storedBytes), batch64: peakActivationBytes(unfused, 64, storedBytes) },
    gflops_batch1: sum((r) => r.flops) / 1e9,
    rows,
  };
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return 0;
  }
  const head = ['#', 'kind', 'scope', 'nodes', 'GFLOP', 'MB read', 'MB written', 'FLOP/B'];
  const table = rows.map((r) => [String(r.id), r.kind, r.scope || '-', String(r.covers), (r.flops / 1e9).toFixed(3), (r.bytes_read / 1e6).toFixed(2), (r.bytes_written / 1e6).toFixed(2), r.intensity.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  io.out(`${spec.config.name}: kernels for ${target} (${precision}), batch 1`);
  io.out('');
  io.out(line(head));
  for (const t of table) io.out(line(t));
  io.out('');
  io.out(`kernels: ${rows.length} (unfused graph: ${unfusedOps} ops); ${(report.gflops_batch1).toFixed(2)} GFLOP per image`);
  io.out(`memory:  arena ${fmtBytes(report.arena_bytes.batch1)} at batch 1, ${fmtBytes(report.arena_bytes.batch64)} at batch 64 (unfused peak activations: ${fmtBytes(report.unfused_activation_bytes.batch1)} and ${fmtBytes(report.unfused_activation_bytes.batch64)})`);
  return 0;
}
