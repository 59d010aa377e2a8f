// The ViT family (timm's VisionTransformer) expressed through the IR builder.
import type { Spec } from '../spec/load.js';
import { derived } from '../spec/config.js';
import { GraphBuilder, type Value } from '../ir/builder.js';
import type { Graph } from '../ir/graph.js';
import type { Init } from '../ir/ops/index.js';
import { BATCH } from '../ir/types.js';
import { sincos2d } from './sincos.js';

const W: Init = { kind: 'normal', std: 0.02 };
const ZERO: Init = { kind: 'constant', value: 0 };
const ONE: Init = { kind: 'constant', value: 1 };

export function buildVit(spec: Spec): Graph {
  const c = spec.config;
  const d = derived(c);
  const D = c.embed_dim;
  const b = new GraphBuilder(c.name);
  const at = (key: string) => spec.spans.key(`/${key}`);

  const linear = (x: Value, name: string, out: number, bias = true): Value => b.scoped(name, () => {
    const inF = x.type.shape[x.type.shape.length - 1] as number;
    const w = b.param('weight', [out, inF], W);
    return bias ? b.op('linear', [x, w, b.param('bias', [out], ZERO)], {}) : b.op('linear', [x, w], {});
  });
  const layernorm = (x: Value, name: string): Value => b.scoped(name, () =>
    b.op('layernorm', [x, b.param('weight', [D], ONE), b.param('bias', [D], ZERO)], { eps: c.norm_eps }));

  const img = b.at(at('img_size'), () => b.input('input', [BATCH, c.in_chans, c.img_size[0], c.img_size[1]]));
  let x = b.at(at('patch_size'), () => b.scoped('patch_embed', () => b.scoped('proj', () => {
    const w = b.param('weight', [D, c.in_chans, c.patch_size, c.patch_size], W);
    const y = b.op('conv2d', [img, w, b.param('bias', [D], ZERO)], { stride: [c.patch_size, c.patch_size], pad: [0, 0, 0, 0] });
    return b.op('transpose', [b.reshape(y, [BATCH, D, d.numPatches])], { perm: [0, 2, 1] });
  })));

  x = b.at(at(c.distilled ? 'distilled' : 'class_token'), () => {
    const prefix: Value[] = [];
    if (c.class_token) prefix.push(b.op('expand', [b.param('cls_token', [1, 1, D], { kind: 'normal', std: 1e-6 })], { shape: [BATCH, 1, D] }));
    if (c.distilled) prefix.push(b.op('expand', [b.param('dist_token', [1, 1, D], W)], { shape: [BATCH, 1, D] }));
    return prefix.length ? b.op('concat', [...prefix, x], { axis: 1 }) : x;
  });
  x = b.at(at('pos_embed'), () => {
    const pos = c.pos_embed === 'learned'
      ? b.param('pos_embed', [1, d.tokens, D], W)
      : b.constant('pos_embed (2-D sin-cos)', [1, d.tokens, D], sincos2d(D, d.gridH, d.gridW, d.prefixTokens));
    return b.op('add', [x, pos], {});
  });

  const H = c.num_heads;
  const hd = d.headDim;
  const T = d.tokens;
  const attention = (h: Value): Value => b.at(at('num_heads'), () => b.scoped('attn', () => {
    const qkv = b.reshape(linear(h, 'qkv', 3 * D, c.qkv_bias), [BATCH, T, 3, H, hd]);
    const part = (i: number, perm: number[]) => b.op('transpose', [b.op('select', [qkv], { axis: 2, index: i })], { perm });
    const q = part(0, [0, 2, 1, 3]);
    const kT = part(1, [0, 2, 3, 1]);
    const v = part(2, [0, 2, 1, 3]);
    const s = b.op('mul', [b.op('matmul', [q, kT], {}), b.scalar(d.scale)], {});
    const o = b.op('matmul', [b.op('softmax', [s], { axis: 3 }), v], {});
    return linear(b.reshape(b.op('transpose', [o], { perm: [0, 2, 1, 3] }), [BATCH, T, D]), 'proj', D);
  }));
  const mlp = (h: Value): Value => b.at(at('mlp_ratio'), () => b.scoped('mlp', () => {
    const a = linear(h, 'fc1', d.mlpHidden);
    return linear(b.op(c.act_layer, [a], {}), 'fc2', D);
  }));

  b.scoped('blocks', () => {
    for (let i = 0; i < c.depth; i++) {
      x = b.at(at('depth'), () => b.scoped(i, () => {
        const y = b.op('add', [x, attention(layernorm(x, 'norm1'))], {});
        return b.op('add', [y, mlp(layernorm(y, 'norm2'))], {});
      }));
    }
  });

  if (!c.fc_norm) x = layernorm(x, 'norm');
  const pooled = (i: number) => b.op('select', [x], { axis: 1, index: i });
  let feat = c.global_pool === 'token'
    ? pooled(0)
    : b.op('mean', [b.op('slice', [x], { axis: 1, start: d.prefixTokens, end: T })], { axes: [1], keepdim: false });
  if (c.fc_norm) feat = layernorm(feat, 'fc_norm');
  if (c.representation_size !== null) {
    feat = b.at(at('representation_size'), () => b.scoped('pre_logits', () => b.op('tanh', [linear(feat, 'fc', c.representation_size!)], {})));
  }
  let logits = b.at(at('num_classes'), () => linear(feat, 'head', c.num_classes));
  if (c.distilled) {
    logits = b.at(at('distilled'), () => {
      const dist = linear(pooled(1), 'head_dist', c.num_classes);
      return b.op('mul', [b.op('add', [logits, dist], {}), b.scalar(0.5)], {});
    });
  }
  b.output('logits', logits);
  return b.build();
}
