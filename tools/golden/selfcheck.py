"""Self-checks of the PyTorch reference (fast, CPU, no files written outside a temp folder).

    /usr/bin/python3 tools/golden/selfcheck.py

1. Parameter counts of the full-size specs (built on the meta device) equal the published ones.
2. State-dict names follow the options (no norm.* with fc_norm, no qkv bias without qkv_bias, ...).
3. The sin-cos table equals MAE's construction (meshgrid(grid_w, grid_h); first half from grid[0]).
4. safetensors: byte layout (header length, sorted keys, 8-byte padding, contiguous data) and round trip.
5. Every committed fixture in test/golden/ (and test/golden/variants/, the gallery's) is reproduced
   by a second, plain-numpy float64 forward written separately below (no torch modules), to
   1e-5 x max|logit|; and a 1% perturbation of any single weight tensor moves the logits (every
   tensor is on a live path).
6. Bad specs fail with a SpecError naming the key.
7. The gallery's full-size specs (spec/variants/) have the parameter counts docs/variants.md states
   against the papers' models.
"""
import glob
import json
import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402
from spec import SpecError, load_spec  # noqa: E402
from vit_ref import count_macs, count_params, param_shapes, sincos_table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUBLISHED = {
    'vit-b16': 86_567_656, 'vit-b32': 88_224_232, 'vit-l16': 304_326_632,
    'vit-b16-in21k': 103_186_515, 'vit-b32-in21k': 104_843_091, 'vit-l16-in21k': 326_740_307,
    'vit-l32-in21k': 328_949_075, 'vit-h14-in21k': 660_385_363,
}
failures = []


def check(ok, what):
    print('%s %s' % ('ok  ' if ok else 'FAIL', what))
    if not ok:
        failures.append(what)


def param_counts():
    for name, want in PUBLISHED.items():
        got = count_params(load_spec(os.path.join(ROOT, 'spec', name + '.yaml')))
        check(got == want, 'params %s: %s (published %s)' % (name, format(got, ','), format(want, ',')))
    # R50+ViT-B/16 at 384: timm's results table lists vit_base_r50_s16_384 at 98.95M parameters; at 224
    # timm's vit_base_r50_s16_224 (no head) has 97.89M, so the in21k spec adds pre-logits and a 21843-class head.
    got = count_params(load_spec(os.path.join(ROOT, 'spec', 'vit-b16-r50-384.yaml')))
    check(round(got / 1e6, 2) == 98.95, 'params vit-b16-r50-384: %s (timm: 98.95M)' % format(got, ','))
    got = count_params(load_spec(os.path.join(ROOT, 'spec', 'vit-b16-r50.yaml')))
    heads = 768 * 768 + 768 + 768 * 21843 + 21843
    check(round((got - heads) / 1e6, 2) == 97.89, 'params vit-b16-r50: %s = 97.89M (timm, no head) + pre-logits and head' % format(got, ','))
    # MACs: ViT-B/16's 17.56 GMACs (matmuls and the patch convolution, per vit-architecture.md)
    got = count_macs(load_spec(os.path.join(ROOT, 'spec', 'vit-b16.yaml')))
    check(round(got / 1e9, 2) == 17.56, 'MACs vit-b16: %s (17.56 G)' % format(got, ','))
    # DeiT-B distilled: ViT-B/16 + dist_token + one pos_embed row + head_dist
    got = count_params(load_spec(os.path.join(ROOT, 'spec', 'deit-b16-distilled.yaml')))
    want = 86_567_656 + 768 + 768 + 768 * 1000 + 1000
    check(got == want, 'params deit-b16-distilled: %s (expected %s)' % (format(got, ','), format(want, ',')))


def tiny(name):
    return load_spec(os.path.join(ROOT, 'spec', 'tiny', name + '.yaml'))


def variant(name):
    return load_spec(os.path.join(ROOT, 'spec', 'variants', name + '.yaml'))


def gallery_counts():
    """The counts docs/variants.md gives for the gallery's full-size specs, against the papers."""
    b16 = 86_567_656
    got = count_params(variant('swiglu'))
    check(got == 304_318_376 and round(got / 1e6) == 304, 'params swiglu-l14: %s, 304M as EVA-02-L (Fang et al. 2023)' % format(got, ','))
    got = count_params(variant('qknorm'))
    want = b16 - 12 * (2 * 768 + 3 * 768) + 12 * 2 * 2 * 64  # no norm2 (parallel), no qkv bias, q_norm + k_norm
    check(got == want, 'params qknorm-b16: %s = ViT-B/16 - norm2 - qkv bias + QK-norm (%s)' % (format(got, ','), format(want, ',')))
    got = count_params(variant('registers'))
    want = b16 + 4 * 768 + 768 * 1000  # 4 registers; the head reads 2 x 768 features
    check(got == want, 'params registers-b16: %s = ViT-B/16 + 4 registers + a head on 1536 features (%s)' % (format(got, ','), format(want, ',')))
    got = count_params(variant('cpvt'))
    deit_ti = 5_717_416  # DeiT-Ti (Touvron et al.: 5M); with a 197-token pos_embed and a class token
    want = deit_ti - 197 * 192 - 192 + 192 * 9 + 192
    check(got == want and round(got / 1e5) == 57, 'params cpvt-ti-gap: %s = DeiT-Ti - pos_embed - cls_token + PEG, 5.7M (%s)' % (format(got, ','), format(want, ',')))
    shapes = param_shapes(variant('map'))
    body = sum(math.prod(v) for k, v in shapes.items() if not k.startswith(('attn_pool.', 'head.')))
    check(round(body / 1e6) == 1843, 'params map-g14 without its head: %s, 1843M as ViT-G/14 (Zhai et al. 2022)' % format(body, ','))
    got = count_params(variant('rope'))
    check(got == b16 - 197 * 768, 'params rope-b16: %s = ViT-B/16 without the position table' % format(got, ','))


def key_rules():
    keys = lambda n: set(param_shapes(tiny(n)))  # noqa: E731
    keys_v = lambda n: set(param_shapes(variant(n)))  # noqa: E731
    base = keys('tiny-base')
    check('norm.weight' in base and 'fc_norm.weight' not in base, 'tiny-base: final norm, no fc_norm')
    gap = keys('tiny-gap')
    check('fc_norm.weight' in gap and 'norm.weight' not in gap and 'cls_token' not in gap, 'tiny-gap: fc_norm, no norm, no cls_token')
    check(param_shapes(tiny('tiny-gap'))['pos_embed'] == (1, 16, 48), 'tiny-gap: pos_embed [1, 16, 48]')
    check('blocks.0.attn.qkv.bias' not in keys('tiny-noqkvbias'), 'tiny-noqkvbias: no qkv bias')
    check(param_shapes(tiny('tiny-peg'))['blocks.1.peg.weight'] == (48, 1, 3, 3), 'tiny-peg: a depthwise 3x3 peg.weight [48, 1, 3, 3] per block')
    par = keys('tiny-parallel')
    check('blocks.0.norm1.weight' in par and not any('norm2' in k for k in par), 'tiny-parallel: norm1 only')
    check('pos_embed' not in keys('tiny-sincos'), 'tiny-sincos: no pos_embed weight')
    check({'blocks.1.ls1.gamma', 'blocks.1.ls2.gamma'} <= keys('tiny-layerscale'), 'tiny-layerscale: ls1/ls2 gamma')
    dist = param_shapes(tiny('tiny-distilled'))
    check(dist['pos_embed'] == (1, 18, 48) and 'dist_token' in dist and 'head_dist.weight' in dist, 'tiny-distilled: dist_token, head_dist, 18 tokens')
    pre = param_shapes(tiny('tiny-prelogits'))
    check(pre['pre_logits.fc.weight'] == (40, 48) and pre['head.weight'] == (21, 40), 'tiny-prelogits: pre_logits.fc [40, 48], head [21, 40]')
    check(param_shapes(tiny('tiny-mlp-ratio'))['blocks.0.mlp.fc1.weight'] == (129, 48), 'tiny-mlp-ratio: hidden 129')
    r50 = param_shapes(tiny('tiny-r50'))
    stages = sorted({k.split('.')[3] for k in r50 if k.startswith('patch_embed.backbone.stages.')})
    blocks = [len({k.split('.')[5] for k in r50 if k.startswith('patch_embed.backbone.stages.%s.' % i)}) for i in stages]
    check(blocks == [3, 4, 9] and r50['patch_embed.backbone.stem.conv.weight'] == (8, 3, 7, 7)
          and r50['patch_embed.proj.weight'] == (48, 64, 1, 1) and 'patch_embed.backbone.stem.conv.bias' not in r50
          and r50['pos_embed'] == (1, 10, 48), 'tiny-r50: stages of 3, 4, 9 units, 7x7 stem, 1x1 proj of 64 channels, 3x3 grid')
    down = sorted(k for k in r50 if 'downsample' in k)
    check(down == sorted('patch_embed.backbone.stages.%d.blocks.0.downsample.%s' % (i, n) for i in range(3) for n in ('conv.weight', 'norm.weight', 'norm.bias')),
          'tiny-r50: a projecting shortcut on each stage\'s first unit only')
    check(param_shapes(tiny('tiny-r50-odd'))['pos_embed'] == (1, 10, 48), 'tiny-r50-odd: 33x46 -> a 3x3 feature map')
    sw = keys_v('tiny-swiglu')
    check({'blocks.0.mlp.fc1_g.weight', 'blocks.0.mlp.fc1_x.weight', 'blocks.0.mlp.norm.weight', 'blocks.0.mlp.fc2.weight'} <= sw and 'blocks.0.mlp.fc1.weight' not in sw, 'tiny-swiglu: fc1_g, fc1_x, sub-LN norm, fc2')
    qk = param_shapes(variant('tiny-qknorm'))
    check(qk['blocks.0.attn.q_norm.weight'] == (12,) and 'blocks.0.attn.k_norm.bias' in qk and 'blocks.0.norm2.weight' not in qk and 'blocks.0.attn.qkv.bias' not in qk, 'tiny-qknorm: q_norm/k_norm [head_dim], parallel (no norm2), no qkv bias')
    reg = param_shapes(variant('tiny-registers'))
    check(reg['reg_token'] == (1, 4, 48) and reg['pos_embed'] == (1, 17, 48) and reg['head.weight'] == (10, 96), 'tiny-registers: reg_token [1, 4, 48] without positions, head on 96 features')
    cp = keys_v('tiny-cpvt')
    check('blocks.0.peg.weight' in cp and 'blocks.1.peg.weight' not in cp and 'pos_embed' not in cp and 'cls_token' not in cp, 'tiny-cpvt: one PEG, after block 0; no pos_embed, no cls_token')
    mp = param_shapes(variant('tiny-map'))
    check(mp['attn_pool.latent'] == (1, 1, 48) and mp['attn_pool.kv.weight'] == (96, 48) and 'cls_token' not in mp, 'tiny-map: attn_pool.latent, kv [96, 48], no cls_token')
    check('pos_embed' not in keys_v('tiny-rope'), 'tiny-rope: no pos_embed')
    gray = param_shapes(tiny('tiny-gray'))
    check(gray['patch_embed.proj.weight'] == (48, 1, 8, 8) and gray['pos_embed'] == (1, 16, 48), 'tiny-gray: 1 channel, 3x5 patches')


def mae_sincos(dim, gh, gw):
    """MAE's get_2d_sincos_pos_embed, re-stated step by step (no class token)."""
    grid_h = np.arange(gh, dtype=np.float64)
    grid_w = np.arange(gw, dtype=np.float64)
    grid = np.meshgrid(grid_w, grid_h)  # w goes first
    grid = np.stack(grid, axis=0).reshape(2, 1, gh, gw)

    def one_d(d, pos):
        omega = np.arange(d // 2, dtype=np.float64) / (d / 2.0)
        omega = 1.0 / 10000 ** omega
        out = np.einsum('m,d->md', pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    return np.concatenate([one_d(dim // 2, grid[0]), one_d(dim // 2, grid[1])], axis=1)


def sincos():
    for dim, gh, gw in ((48, 4, 4), (64, 3, 5), (768, 14, 14)):
        ours = sincos_table(dim, gh, gw, 1)[0].numpy()
        ref = mae_sincos(dim, gh, gw).astype(np.float32)
        check(np.all(ours[0] == 0) and np.array_equal(ours[1:], ref), 'sincos table %dx%d, D=%d equals MAE' % (gh, gw, dim))


def safetensors():
    g = torch.Generator().manual_seed(1)
    t = {'b': torch.randn(3, 2, generator=g), 'a.x': torch.randn(5, generator=g), 'c': torch.randn(1, 1, 4, generator=g)}
    with tempfile.TemporaryDirectory() as d:
        p, q = os.path.join(d, 'a.safetensors'), os.path.join(d, 'b.safetensors')
        write_safetensors(p, t)
        write_safetensors(q, dict(reversed(list(t.items()))))
        raw = open(p, 'rb').read()
        (n,) = struct.unpack('<Q', raw[:8])
        header = json.loads(raw[8:8 + n])
        ok = (n % 8 == 0 and list(header) == sorted(t) and '__metadata__' not in header
              and raw[8:8 + n].rstrip(b' ') == raw[8:8 + n].rstrip(b' ').strip()
              and header['a.x']['data_offsets'] == [0, 20] and header['b']['data_offsets'] == [20, 44]
              and header['c']['data_offsets'] == [44, 60] and len(raw) == 8 + n + 60
              and all(v['dtype'] == 'F32' for v in header.values()))
        check(ok, 'safetensors layout: sorted keys, padded header, contiguous data')
        check(raw == open(q, 'rb').read(), 'safetensors bytes independent of dict order')
        back = read_safetensors(p)
        check(all(np.array_equal(back[k], t[k].numpy()) for k in t), 'safetensors round trip')


# ---- a second forward, plain numpy float64, written separately from vit_ref.py ----

def np_layernorm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def np_act(x, kind):
    if kind == 'gelu':
        return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    if kind == 'gelu_tanh':
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if kind == 'relu':
        return np.maximum(x, 0)
    return x / (1 + np.exp(-x))


def np_tf_pads(size, k, stride):
    """TensorFlow 'same': ceil(size / stride) outputs, the odd padding pixel after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def np_windows(x, k, stride, fill):
    """x [B, C, H, W] padded 'same' with `fill`; returns [B, C, OH, OW, k, k] windows."""
    (t, b), (l, r) = np_tf_pads(x.shape[2], k, stride), np_tf_pads(x.shape[3], k, stride)
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=fill)
    oh, ow = (xp.shape[2] - k) // stride + 1, (xp.shape[3] - k) // stride + 1
    win = np.empty(x.shape[:2] + (oh, ow, k, k))
    for i in range(k):
        for j in range(k):
            win[:, :, :, :, i, j] = xp[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
    return win


def np_std_conv(x, w, stride, eps):
    """Weight-standardized convolution with 'same' padding, as a sum over window positions."""
    flat = w.reshape(w.shape[0], -1)
    w = ((flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + eps)).reshape(w.shape)
    win = np_windows(x, w.shape[2], stride, 0.0)  # [B, C, OH, OW, k, k]
    return np.einsum('bchwij,ocij->bohw', win, w)


def np_group_norm(x, w, b, groups, eps):
    g = x.reshape(x.shape[0], groups, -1)
    g = (g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + eps)
    return g.reshape(x.shape) * w[None, :, None, None] + b[None, :, None, None]


def np_backbone(cfg, W, x):
    """The ResNet-v2 backbone of a hybrid, from the state dict alone."""
    bb = cfg['backbone']
    g, e, ws = bb['gn_groups'], bb['gn_eps'], bb['std_conv_eps']
    conv = lambda v, n, s=1: np_std_conv(v, W[n + '.weight'], s, ws)  # noqa: E731
    gn = lambda v, n: np_group_norm(v, W[n + '.weight'], W[n + '.bias'], g, e)  # noqa: E731
    pre = 'patch_embed.backbone.'
    x = np.maximum(gn(conv(x, pre + 'stem.conv', 2), pre + 'stem.norm'), 0)
    x = np_windows(x, 3, 2, -np.inf).max(axis=(4, 5))
    for i, depth in enumerate(bb['layers']):
        for j in range(depth):
            n = pre + 'stages.%d.blocks.%d.' % (i, j)
            s = 2 if i > 0 and j == 0 else 1
            short = gn(conv(x, n + 'downsample.conv', s), n + 'downsample.norm') if j == 0 else x
            h = np.maximum(gn(conv(x, n + 'conv1'), n + 'norm1'), 0)
            h = np.maximum(gn(conv(h, n + 'conv2', s), n + 'norm2'), 0)
            x = np.maximum(gn(conv(h, n + 'conv3'), n + 'norm3') + short, 0)
    return x


def np_rope(v, hd, gh, gw):
    """2-D axial rotary positions of v [..., gh*gw, hd], restated: in each half of a head's channels,
    pair (j, j + hd/4) turns by col (first half) or row (second half) times 10000^(-j/(hd/4))."""
    q = hd // 4
    idx = np.arange(gh * gw)
    pos = [idx % gw, idx // gw]
    out = v.copy()
    for half in range(2):
        for j in range(q):
            ang = pos[half] * 10000.0 ** (-j / q)
            a, b = v[..., half * 2 * q + j], v[..., half * 2 * q + q + j]
            out[..., half * 2 * q + j] = a * np.cos(ang) - b * np.sin(ang)
            out[..., half * 2 * q + q + j] = b * np.cos(ang) + a * np.sin(ang)
    return out


def np_forward(cfg, W, x):
    W = {k: v.astype(np.float64) for k, v in W.items()}
    x = x.astype(np.float64)
    if cfg['backbone']:
        x = np_backbone(cfg, W, x)
    B, C, H, Wd = x.shape
    P, D, nh = cfg['patch_size'], cfg['embed_dim'], cfg['num_heads']
    gh, gw = H // P, Wd // P
    eps = cfg['norm_eps']
    lin = lambda v, n: v @ W[n + '.weight'].T + (W[n + '.bias'] if n + '.bias' in W else 0)  # noqa: E731
    ln = lambda v, n: np_layernorm(v, W[n + '.weight'], W[n + '.bias'], eps)  # noqa: E731
    # patches: [B, gh, gw, C*P*P] in (c, i, j) order, matching the conv weight [D, C, P, P]
    patches = x.reshape(B, C, gh, P, gw, P).transpose(0, 2, 4, 1, 3, 5).reshape(B, gh * gw, C * P * P)
    tok = patches @ W['patch_embed.proj.weight'].reshape(D, -1).T + W['patch_embed.proj.bias']
    pre = []
    if cfg['class_token']:
        pre.append(np.broadcast_to(W['cls_token'], (B, 1, D)))
    if cfg['distilled']:
        pre.append(np.broadcast_to(W['dist_token'], (B, 1, D)))
    tok = np.concatenate(pre + [tok], axis=1)
    if cfg['pos_embed'] == 'learned':
        tok = tok + W['pos_embed']
    elif cfg['pos_embed'] == 'sincos':
        table = mae_sincos(D, gh, gw).astype(np.float32).astype(np.float64)
        tok = tok + np.concatenate([np.zeros((len(pre), D)), table])[None]
    npre = len(pre)
    if cfg['reg_tokens']:  # registers after the positions, between the prefix tokens and the patches
        regs = np.broadcast_to(W['reg_token'], (B, cfg['reg_tokens'], D))
        tok = np.concatenate([tok[:, :npre], regs, tok[:, npre:]], axis=1)
        npre += cfg['reg_tokens']
    T, hd = tok.shape[1], D // nh
    scale = cfg['qk_scale'] if cfg['qk_scale'] is not None else hd ** -0.5
    kind = (cfg['block'] or '').split('#')[-1]
    bargs = cfg['block_args']

    def softmax(s):
        s = np.exp(s - s.max(-1, keepdims=True))
        return s / s.sum(-1, keepdims=True)

    def attn(v, i):
        n = 'blocks.%d.attn.' % i
        qkv = lin(v, n + 'qkv').reshape(B, T, 3, nh, hd)
        q, k, vv = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
        if kind == 'qknorm_block' and bargs['qk_norm']:
            q, k = ln(q, n + 'q_norm'), ln(k, n + 'k_norm')
        if cfg['model_kind'] == 'rope':
            q = np.concatenate([q[:, :, :npre], np_rope(q[:, :, npre:], hd, gh, gw)], axis=2)
            k = np.concatenate([k[:, :, :npre], np_rope(k[:, :, npre:], hd, gh, gw)], axis=2)
        s = softmax((q * scale) @ k.transpose(0, 1, 3, 2))
        o = (s @ vv).transpose(0, 2, 1, 3).reshape(B, T, D)
        return lin(o, n + 'proj')

    def mlp(v, i):
        n = 'blocks.%d.mlp.' % i
        if kind == 'swiglu_block':
            g = lin(v, n + 'fc1_g')
            h = g / (1 + np.exp(-g)) * lin(v, n + 'fc1_x')
            if bargs['sub_ln']:
                h = ln(h, n + 'norm')
            return lin(h, n + 'fc2')
        return lin(np_act(lin(v, n + 'fc1'), cfg['act_layer']), n + 'fc2')

    def peg(v, i, side_h, side_w, skip):
        """CPVT: patch tokens + a depthwise 3x3 convolution (zero padding 1) of their grid."""
        grid = v[:, skip:].transpose(0, 2, 1).reshape(B, D, side_h, side_w)
        win = np_windows(grid, 3, 1, 0.0)
        conv = np.einsum('bchwij,cij->bchw', win, W['blocks.%d.peg.weight' % i][:, 0]) + W['blocks.%d.peg.bias' % i][None, :, None, None]
        return np.concatenate([v[:, :skip], v[:, skip:] + conv.reshape(B, D, -1).transpose(0, 2, 1)], axis=1)

    for i in range(cfg['depth']):
        if kind == 'peg_block':
            side = int(round((T - 1) ** 0.5))
            tok = peg(tok, i, side, side, 1)
        g1 = W.get('blocks.%d.ls1.gamma' % i, 1.0)
        g2 = W.get('blocks.%d.ls2.gamma' % i, 1.0)
        n1, n2 = 'blocks.%d.norm1' % i, 'blocks.%d.norm2' % i
        if kind == 'parallel_block' or (kind == 'qknorm_block' and bargs['parallel']):
            h = ln(tok, n1)
            tok = tok + g1 * attn(h, i) + g2 * mlp(h, i)
        elif kind == 'postnorm_block':
            tok = ln(tok + g1 * attn(tok, i), n1)
            tok = ln(tok + g2 * mlp(tok, i), n2)
        else:
            tok = tok + g1 * attn(ln(tok, n1), i)
            tok = tok + g2 * mlp(ln(tok, n2), i)
        if kind == 'cpvt_block' and i == bargs['peg_at']:
            tok = peg(tok, i, gh, gw, npre)
    if 'norm.weight' in W:
        tok = ln(tok, 'norm')
    pool = cfg['pool_kind']
    if pool == 'token':
        f = tok[:, 0]
    elif pool == 'avg':
        f = tok[:, npre:].mean(1)
    elif pool == 'cls_mean':
        f = np.concatenate([tok[:, 0], tok[:, npre:].mean(1)], axis=-1)
    else:  # map: one learned query attends over all tokens, then a residual MLP
        n = 'attn_pool.'
        q = lin(np.broadcast_to(W[n + 'latent'], (B, 1, D)), n + 'q').reshape(B, 1, nh, hd).transpose(0, 2, 1, 3)
        kv = lin(tok, n + 'kv').reshape(B, T, 2, nh, hd)
        k, vv = kv[:, :, 0].transpose(0, 2, 1, 3), kv[:, :, 1].transpose(0, 2, 1, 3)
        o = (softmax(q @ k.transpose(0, 1, 3, 2) * hd ** -0.5) @ vv).transpose(0, 2, 1, 3).reshape(B, 1, D)
        y = lin(o, n + 'proj')
        y = y + lin(np_act(lin(ln(y, n + 'norm'), n + 'mlp.fc1'), 'gelu'), n + 'mlp.fc2')
        f = y[:, 0]
    if 'fc_norm.weight' in W:
        f = ln(f, 'fc_norm')
    if 'pre_logits.fc.weight' in W:
        f = np.tanh(lin(f, 'pre_logits.fc'))
    y = lin(f, 'head')
    if cfg['distilled']:
        y = (y + lin(tok[:, 1], 'head_dist')) / 2
    return y


def fixture_specs():
    """(name, spec path, fixture dir) of every golden: spec/tiny's and the gallery's."""
    out = []
    for spec_dir, sub in (('tiny', ''), ('variants', 'variants')):
        for sp in sorted(glob.glob(os.path.join(ROOT, 'spec', spec_dir, 'tiny-*.yaml'))):
            name = os.path.splitext(os.path.basename(sp))[0]
            out.append((name, sp, os.path.join(ROOT, 'test', 'golden', sub, name)))
    return out


def fixtures():
    for name, sp, d in fixture_specs():
        if not os.path.isdir(d):
            check(False, 'fixture %s exists' % name)
            continue
        cfg = load_spec(sp)
        W = read_safetensors(os.path.join(d, 'weights.safetensors'))
        check(set(W) == set(param_shapes(cfg)), 'fixture %s: weight names match the spec' % name)
        x, y = np.load(os.path.join(d, 'input.npy')), np.load(os.path.join(d, 'logits.npy'))
        ok_dtypes = x.dtype == np.float32 and y.dtype == np.float32 and x.shape[0] == 3
        ref = np_forward(cfg, W, x)
        rel = np.abs(ref - y).max() / np.abs(y).max()
        check(ok_dtypes and ref.shape == y.shape and rel < 1e-5, 'fixture %s: numpy fp64 forward agrees (rel %.2e)' % (name, rel))


def sensitivity():
    """Every weight tensor of every fixture moves the logits (no dead code path, no trivial init)."""
    from vit_ref import build_with_weights
    for name, sp, d in fixture_specs():
        if not os.path.isdir(d):
            continue
        cfg = load_spec(sp)
        W = {k: v.copy() for k, v in read_safetensors(os.path.join(d, 'weights.safetensors')).items()}
        x = torch.from_numpy(np.load(os.path.join(d, 'input.npy'))).double()
        with torch.no_grad():
            y0 = build_with_weights(cfg, W).double()(x)
            dead = []
            for k in sorted(W):
                # a small relative change that a missing or mis-wired tensor would not notice
                g = np.random.default_rng(0).standard_normal(W[k].shape).astype(np.float32)
                moved = dict(W, **{k: W[k] * (1 + 0.01 * g)})
                y = build_with_weights(cfg, moved).double()(x)
                if float((y - y0).abs().max()) < 1e-6 * float(y0.abs().max()):
                    dead.append(k)
        # A bias of the keys' LayerNorm (QK-norm) adds q.b to every logit of a query alike, which
        # softmax ignores: provably without effect, so it is the one tensor allowed to move nothing.
        inert = [k for k in dead if k.endswith('.attn.k_norm.bias')]
        dead = [k for k in dead if k not in inert]
        check(not dead, 'fixture %s: all %d tensors affect the logits%s%s' % (
            name, len(W) - len(inert), ' (not: %s)' % dead if dead else '', ' (and %d k_norm biases, which softmax ignores)' % len(inert) if inert else ''))


def bad_specs():
    cases = [
        ({'patch_size': 8, 'num_classes': 10, 'embed_dim': 48, 'depth': 2, 'num_heads': 4}, 'img_size'),
        ({'img_size': 30, 'patch_size': 8, 'num_classes': 10, 'embed_dim': 48, 'depth': 2, 'num_heads': 4}, 'img_size'),
        ({'img_size': 32, 'patch_size': 8, 'num_classes': 10, 'embed_dim': 48, 'depth': 2, 'num_heads': 5}, 'num_heads'),
        ({'img_size': 32, 'patch_size': 8, 'num_classes': 10, 'embed_dim': 48, 'depth': 2, 'num_heads': 4, 'class_token': False}, 'global_pool'),
        ({'img_size': 32, 'patch_size': 8, 'num_classes': 10, 'embed_dim': 48, 'depth': 2, 'num_heads': 4, 'distilled': True, 'global_pool': 'avg'}, 'distilled'),
        ({'img_size': 32, 'patch_size': 8, 'num_classes': 10, 'embed_dim': 50, 'depth': 2, 'num_heads': 5, 'pos_embed': 'sincos'}, 'pos_embed'),
        ({'img_size': 32, 'patch_size': 8, 'num_classes': 10, 'embed_dim': 48, 'depth': 2, 'num_heads': 4, 'act_layer': 'tanh'}, 'act_layer'),
        ({'img_size': 32, 'patch_size': 8, 'num_classes': 10, 'embed_dim': 48, 'depth': 2, 'num_heads': 4, 'depht': 3}, 'depht'),
        ({'img_size': 32, 'patch_size': 8, 'num_classes': 10, 'embed_dim': 48, 'depth': True, 'num_heads': 4}, 'depth'),
    ]
    with tempfile.TemporaryDirectory() as d:
        for i, (spec, key) in enumerate(cases):
            p = os.path.join(d, 'bad%d.yaml' % i)
            with open(p, 'w') as f:
                yaml.safe_dump(spec, f)
            try:
                load_spec(p)
                check(False, 'bad spec (%s) rejected' % key)
            except SpecError as e:
                check(key in str(e), 'bad spec rejected: %s' % e.args[0].split(': ', 1)[1])
        a, b = os.path.join(d, 'a.yaml'), os.path.join(d, 'b.yaml')
        open(a, 'w').write('extends: b.yaml\n')
        open(b, 'w').write('extends: a.yaml\n')
        try:
            load_spec(a)
            check(False, 'extends cycle rejected')
        except SpecError as e:
            check('cycle' in str(e), 'extends cycle rejected')


if __name__ == '__main__':
    param_counts()
    gallery_counts()
    key_rules()
    sincos()
    safetensors()
    bad_specs()
    fixtures()
    sensitivity()
    print('%d failure%s' % (len(failures), '' if len(failures) == 1 else 's'))
    sys.exit(1 if failures else 0)
