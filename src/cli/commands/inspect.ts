import { loadSpec } from '../../spec/load.js';
import { dumpOnnx } from '../../backends/onnx/dump.js';
import { readFileOrFail } from '../../weights/safetensors.js';
import { derived, featureSize } from '../../spec/config.js';
import { buildGraph } from '../../compile.js';
import { verifyGraph } from '../../ir/verify.js';
import { countMacs, countParams, layerTable, peakActivationBytes } from '../../analysis/cost.js';
import { inputs, outputNodes, params } from '../../ir/graph.js';
import { fmtShape, numel } from '../../ir/types.js';
import { flag, positionals, type Parsed } from '../args.js';
import type { Command, Io } from '../command.js';
import { fmtBytes, fmtGmacs, fmtInt } from './shared.js';

export const inspect: Command = {
  name: 'inspect',
  summary: 'per-layer table, parameters, GMACs, activation memory',
  help: `usage: vitc inspect SPEC [--json]
       vitc inspect MODEL.onnx

Builds the spec's IR and reports, per layer (patch_embed, blocks.N, norm, head, ...; a hybrid's
backbone per stage: patch_embed.backbone.stem, patch_embed.backbone.stages.N), the output
shape, parameter count and multiply-accumulates, then totals: parameters, GMACs per image (matmuls
and convolutions; FLOPs = 2 x MACs), weight bytes, and the peak memory of live activations at batch 1.
Given a .onnx file (from vitc build --target onnx), prints its graph as text: metadata, inputs,
outputs, initializers, and every node with its attributes and output types.

options:
  --json       print the same report as JSON
  -h, --help   this help

example:
  vitc inspect spec/vit-b16.yaml     # 86,567,656 parameters, 17.56 GMACs`,
  options: { json: { type: 'boolean' } },
  async run(p: Parsed, io: Io) {
    const [file] = positionals('inspect', p, ['SPEC']);
    if (file!.endsWith('.onnx')) {
      io.out(dumpOnnx(readFileOrFail(file!, 'model')).trimEnd());
      return 0;
    }
    const spec = loadSpec(file!);
    const g = buildGraph(spec);
    const problems = verifyGraph(g);
    if (problems.length) throw new Error(`IR verification failed: ${problems.join('; ')}`);
    const c = spec.config;
    const d = derived(c);
    const rows = layerTable(g);
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
      tokens: d.tokens,
      head_dim: d.headDim,
      mlp_hidden: d.mlpHidden,
      layers: rows.map((r) => ({ layer: r.layer, output: r.output, params: r.params, macs: r.macs })),
      parameters: paramsN,
      parameter_tensors: params(g).length,
      weight_bytes_fp32: paramsN * 4,
      macs_per_image: macs,
      gmacs_per_image: Number((macs / 1e9).toFixed(2)),
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
    io.out(`input ${fmtShape(report.input.shape)} -> ${report.output.name} ${fmtShape(report.output.shape)}; ${d.tokens} tokens of ${c.embed_dim}, ${c.num_heads} heads of ${d.headDim}, MLP ${d.mlpHidden}`);
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
