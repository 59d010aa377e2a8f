"""An independent PyTorch reference of the ViT family, written from the facts in
shared/docs/vit-architecture.md (timm semantics and state-dict names), for golden fixtures.

Reads vitc spec files itself (extends, defaults) so it shares no code with the compiler.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

DEFAULTS = dict(in_chans=3, mlp_ratio=4.0, qkv_bias=True, qk_scale=None, representation_size=None,
                distilled=False, norm_eps=1e-6, act_layer='gelu', class_token=True, global_pool='token',
                fc_norm=None, pos_embed='learned', init_values=None, block=None)
REQUIRED = ('img_size', 'patch_size', 'num_classes', 'embed_dim', 'depth', 'num_heads')


def _merge(base, over):
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_spec(path, _chain=()):
    """The merged spec of `path` (following extends) with defaults applied."""
    path = os.path.realpath(path)
    if path in _chain:
        raise ValueError('extends cycle at %s' % path)
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    if 'extends' in data:
        base = load_spec(os.path.join(os.path.dirname(path), data['extends']), _chain + (path,))
        base = {k: v for k, v in base.items() if k not in ('name', 'description')}
        data = _merge(base, {k: v for k, v in data.items() if k != 'extends'})
    if _chain:
        return data
    cfg = dict(DEFAULTS)
    cfg.update(data)
    missing = [k for k in REQUIRED if k not in cfg]
    if missing:
        raise ValueError('%s: missing %s' % (path, missing))
    cfg.setdefault('name', os.path.splitext(os.path.basename(path))[0])
    if isinstance(cfg['img_size'], int):
        cfg['img_size'] = [cfg['img_size'], cfg['img_size']]
    if cfg['fc_norm'] is None:
        cfg['fc_norm'] = cfg['global_pool'] == 'avg'
    return cfg


def block_kind(cfg):
    name = (cfg.get('block') or '#').split('#')[-1]
    return {'parallel_block': 'parallel', 'postnorm_block': 'postnorm'}.get(name, 'prenorm')


ACTS = {
    'gelu': lambda x: F.gelu(x),
    'gelu_tanh': lambda x: F.gelu(x, approximate='tanh'),
    'relu': F.relu,
    'silu': F.silu,
}


class Attention(nn.Module):
    def __init__(self, dim, heads, qkv_bias, scale):
        super().__init__()
        self.heads, self.scale = heads, scale
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, t, d))


class Mlp(nn.Module):
    def __init__(self, dim, hidden, act):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.act = ACTS[act]

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LayerScale(nn.Module):
    def __init__(self, dim, init_values):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), float(init_values)))

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, cfg, kind):
        super().__init__()
        d, eps = cfg['embed_dim'], cfg['norm_eps']
        hd = d // cfg['num_heads']
        scale = cfg['qk_scale'] if cfg['qk_scale'] is not None else hd ** -0.5
        self.kind = kind
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.attn = Attention(d, cfg['num_heads'], cfg['qkv_bias'], scale)
        if cfg['init_values'] is not None:
            self.ls1 = LayerScale(d, cfg['init_values'])
            self.ls2 = LayerScale(d, cfg['init_values'])
        else:
            self.ls1 = self.ls2 = nn.Identity()
        if kind != 'parallel':
            self.norm2 = nn.LayerNorm(d, eps=eps)
        self.mlp = Mlp(d, int(d * cfg['mlp_ratio']), cfg['act_layer'])

    def forward(self, x):
        if self.kind == 'parallel':
            h = self.norm1(x)
            return x + self.ls1(self.attn(h)) + self.ls2(self.mlp(h))
        if self.kind == 'postnorm':
            x = self.norm1(x + self.ls1(self.attn(x)))
            return self.norm2(x + self.ls2(self.mlp(x)))
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        p = cfg['patch_size']
        self.proj = nn.Conv2d(cfg['in_chans'], cfg['embed_dim'], kernel_size=p, stride=p)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


def sincos_2d(dim, gh, gw, prefix):
    """MAE's fixed 2-D sin-cos table: row (r, c) = [sin(c w), cos(c w), sin(r w), cos(r w)]."""
    q = dim // 4
    omega = 1.0 / 10000 ** (np.arange(q, dtype=np.float64) / q)
    rows, cols = np.meshgrid(np.arange(gh, dtype=np.float64), np.arange(gw, dtype=np.float64), indexing='ij')
    c = np.outer(cols.reshape(-1), omega)
    r = np.outer(rows.reshape(-1), omega)
    table = np.concatenate([np.sin(c), np.cos(c), np.sin(r), np.cos(r)], axis=1)
    table = np.concatenate([np.zeros((prefix, dim)), table], axis=0)
    return torch.from_numpy(table[None].astype(np.float32))


class VisionTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg['embed_dim']
        gh, gw = (s // cfg['patch_size'] for s in cfg['img_size'])
        self.cfg = cfg
        self.patch_embed = PatchEmbed(cfg)
        self.num_prefix = int(cfg['class_token']) + int(cfg['distilled'])
        if cfg['class_token']:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        if cfg['distilled']:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, d))
        if cfg['pos_embed'] == 'learned':
            self.pos_embed = nn.Parameter(torch.zeros(1, self.num_prefix + gh * gw, d))
        else:
            self.register_buffer('pos_table', sincos_2d(d, gh, gw, self.num_prefix), persistent=False)
        kind = block_kind(cfg)
        self.blocks = nn.ModuleList([Block(cfg, kind) for _ in range(cfg['depth'])])
        if not cfg['fc_norm']:
            self.norm = nn.LayerNorm(d, eps=cfg['norm_eps'])
        else:
            self.fc_norm = nn.LayerNorm(d, eps=cfg['norm_eps'])
        feat = d
        if cfg['representation_size'] is not None:
            self.pre_logits = nn.Sequential()
            self.pre_logits.add_module('fc', nn.Linear(d, cfg['representation_size']))
            self.pre_logits.add_module('act', nn.Tanh())
            feat = cfg['representation_size']
        self.head = nn.Linear(feat, cfg['num_classes'])
        if cfg['distilled']:
            self.head_dist = nn.Linear(d, cfg['num_classes'])

    def forward(self, x):
        cfg = self.cfg
        x = self.patch_embed(x)
        b = x.shape[0]
        prefix = []
        if cfg['class_token']:
            prefix.append(self.cls_token.expand(b, -1, -1))
        if cfg['distilled']:
            prefix.append(self.dist_token.expand(b, -1, -1))
        x = torch.cat(prefix + [x], dim=1)
        x = x + (self.pos_embed if cfg['pos_embed'] == 'learned' else self.pos_table)
        for blk in self.blocks:
            x = blk(x)
        if not cfg['fc_norm']:
            x = self.norm(x)
        feat = x[:, 0] if cfg['global_pool'] == 'token' else x[:, self.num_prefix:].mean(dim=1)
        if cfg['fc_norm']:
            feat = self.fc_norm(feat)
        if cfg['representation_size'] is not None:
            feat = self.pre_logits(feat)
        logits = self.head(feat)
        if cfg['distilled']:
            logits = (logits + self.head_dist(x[:, 1])) / 2
        return logits


def build(cfg):
    return VisionTransformer(cfg).eval()


def init_nontrivial(model, seed):
    """Seeded weights where every parameter matters: no zero biases, no unit LayerNorm scales."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            leaf = name.split('.')[-1]
            owner = name.rsplit('.', 1)[0] if '.' in name else ''
            is_norm = owner.split('.')[-1] in ('norm', 'norm1', 'norm2', 'fc_norm')
            if leaf == 'gamma':
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            elif is_norm and leaf == 'weight':
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif leaf == 'bias':
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif name in ('cls_token', 'dist_token'):
                p.copy_(torch.randn(p.shape, generator=g))
            elif name == 'pos_embed':
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:  # Linear / conv weights: std 1/sqrt(fan_in)
                fan_in = int(np.prod(p.shape[1:]))
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


# ---- safetensors and .npy, written here byte by byte ----

def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, offset, blobs = {}, 0, []
    for n in names:
        a = np.ascontiguousarray(tensors[n].detach().cpu().numpy().astype('<f4'))
        header[n] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        assert t['dtype'] == 'F32', 'only F32 is read here: %s' % t['dtype']
        b, e = t['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(raw[base + b:base + e], dtype='<f4').reshape(t['shape']).copy())
    return out
