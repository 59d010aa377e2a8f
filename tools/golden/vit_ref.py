"""An independent PyTorch reference of the Vision Transformers vitc compiles.

Written plainly from the facts in shared/docs/vit-architecture.md (timm's inference semantics);
state_dict() keys and shapes are timm's. Inference only: dropout / drop-path are left out.

    from spec import load_spec
    from vit_ref import ViT
    model = ViT(load_spec('spec/tiny/tiny-base.yaml')).eval()
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from resnet_ref import ResNetV2
from variants_ref import MAPHead, SwiGLU, rope_angles, rotate_pairs


def activation(name):
    if name == 'gelu':
        return lambda x: F.gelu(x)  # exact erf form
    if name == 'gelu_tanh':
        return lambda x: F.gelu(x, approximate='tanh')
    if name == 'relu':
        return F.relu
    if name == 'silu':
        return F.silu
    raise ValueError('unknown activation %r' % name)


def sincos_table(dim, grid_h, grid_w, num_prefix):
    """MAE's fixed 2-D sin-cos position embedding, [1, num_prefix + gh*gw, dim], float32.

    For the patch at (row r, col c), row-major: [sin(c w), cos(c w), sin(r w), cos(r w)] with
    w_i = 1 / 10000^(i / (dim/4)); prefix tokens get zeros. Computed in float64."""
    quarter = dim // 4
    omega = 1.0 / (10000.0 ** (np.arange(quarter, dtype=np.float64) / quarter))
    r = np.repeat(np.arange(grid_h, dtype=np.float64), grid_w)  # row index of each patch
    c = np.tile(np.arange(grid_w, dtype=np.float64), grid_h)    # column index of each patch
    rc, cc = np.outer(r, omega), np.outer(c, omega)
    emb = np.concatenate([np.sin(cc), np.cos(cc), np.sin(rc), np.cos(rc)], axis=1)
    emb = np.concatenate([np.zeros((num_prefix, dim), dtype=np.float64), emb], axis=0)
    return torch.from_numpy(emb.astype(np.float32)[None])


class PatchEmbed(nn.Module):
    """Patches of the image, or (hybrid, backbone given) of a ResNet-v2's feature map (timm's HybridEmbed)."""

    def __init__(self, in_chans, dim, patch, backbone=None, device=None):
        super().__init__()
        if backbone is not None:
            self.backbone = ResNetV2(in_chans, backbone, device=device)
            in_chans = self.backbone.num_features
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch, bias=True, device=device)

    def forward(self, x):
        if hasattr(self, 'backbone'):
            x = self.backbone(x)
        x = self.proj(x)                     # [B, D, gh, gw]
        return x.flatten(2).transpose(1, 2)  # [B, gh*gw, D], row-major over the grid


class Attention(nn.Module):
    """qk_norm: a LayerNorm over each head's queries and keys (q_norm, k_norm [head_dim])."""

    def __init__(self, dim, heads, qkv_bias, scale, qk_norm=False, eps=1e-6, device=None):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = scale
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias, device=device)
        self.qk_norm = qk_norm
        if qk_norm:
            self.q_norm = nn.LayerNorm(self.head_dim, eps=eps, device=device)
            self.k_norm = nn.LayerNorm(self.head_dim, eps=eps, device=device)
        self.proj = nn.Linear(dim, dim, bias=True, device=device)

    def forward(self, x, rope=None):
        """rope: (cos, sin, num_prefix): rotary positions for the tokens after the first num_prefix."""
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, self.head_dim)  # [3, heads, head_dim] order
        q = qkv[:, :, 0].transpose(1, 2)  # [B, heads, T, head_dim]
        k = qkv[:, :, 1].transpose(1, 2)
        v = qkv[:, :, 2].transpose(1, 2)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:
            cos, sin, n = rope
            q = torch.cat([q[:, :, :n], rotate_pairs(q[:, :, n:], cos, sin)], dim=2)
            k = torch.cat([k[:, :, :n], rotate_pairs(k[:, :, n:], cos, sin)], dim=2)
        scores = torch.matmul(q * self.scale, k.transpose(-2, -1))  # [B, heads, T, T]
        weights = torch.softmax(scores, dim=-1)                     # over keys
        out = torch.matmul(weights, v).transpose(1, 2).reshape(b, t, d)  # heads concatenated in order
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim, hidden, act, device=None):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, device=device)
        self.fc2 = nn.Linear(hidden, dim, device=device)
        self.act = activation(act)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LayerScale(nn.Module):
    def __init__(self, dim, init_values, device=None):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), float(init_values), device=device))

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    """kind: 'prenorm' (standard), 'parallel' (ViT-22B, one shared norm1), 'postnorm', 'peg'
    (CPVT: the patch tokens' square grid plus a depthwise 3x3 convolution of it, then prenorm), and
    the gallery's (spec/variants/): 'swiglu' (gated MLP), 'qknorm' (QK-norm, parallel or not),
    'cpvt' (prenorm, then in layer peg_at the PEG of the patch grid). `index` is the layer."""

    def __init__(self, cfg, index=0, device=None):
        super().__init__()
        d, eps = cfg['embed_dim'], cfg['norm_eps']
        self.kind = cfg['block_kind']
        args = cfg['block_args']
        parallel = self.kind == 'parallel' or (self.kind == 'qknorm' and args['parallel'])
        if self.kind == 'peg' or (self.kind == 'cpvt' and index == args['peg_at']):
            self.peg = nn.Conv2d(d, d, 3, padding=1, groups=d, bias=True, device=device)
        self.norm1 = nn.LayerNorm(d, eps=eps, device=device)
        self.attn = Attention(d, cfg['num_heads'], cfg['qkv_bias'], cfg['scale'],
                              qk_norm=self.kind == 'qknorm' and args['qk_norm'], eps=eps, device=device)
        self.layer_scale = cfg['init_values'] is not None
        if self.layer_scale:
            self.ls1 = LayerScale(d, cfg['init_values'], device=device)
            self.ls2 = LayerScale(d, cfg['init_values'], device=device)
        if not parallel:
            self.norm2 = nn.LayerNorm(d, eps=eps, device=device)
        if self.kind == 'parallel' or parallel:
            self.kind = 'parallel'
        if cfg['block_kind'] == 'swiglu':
            self.mlp = SwiGLU(d, cfg['mlp_hidden'], args['sub_ln'], eps, device=device)
        else:
            self.mlp = Mlp(d, cfg['mlp_hidden'], cfg['act_layer'], device=device)

    def _ls1(self, x):
        return self.ls1(x) if self.layer_scale else x

    def _ls2(self, x):
        return self.ls2(x) if self.layer_scale else x

    def _peg(self, x, grid, num_prefix):
        """The patch tokens' grid plus a depthwise 3x3 convolution of it; earlier tokens pass through."""
        pre, tok = x[:, :num_prefix], x[:, num_prefix:]
        b, n, d = tok.shape
        cnn = tok.transpose(1, 2).reshape(b, d, grid[0], grid[1])
        return torch.cat([pre, tok + self.peg(cnn).flatten(2).transpose(1, 2)], dim=1)

    def forward(self, x, grid=None, num_prefix=1, rope=None):
        if self.kind == 'peg':
            side = int(round((x.shape[1] - 1) ** 0.5))
            x = self._peg(x, (side, side), 1)
        if self.kind == 'parallel':
            h = self.norm1(x)
            return x + self._ls1(self.attn(h)) + self._ls2(self.mlp(h))
        if self.kind == 'postnorm':
            x = self.norm1(x + self._ls1(self.attn(x)))
            return self.norm2(x + self._ls2(self.mlp(x)))
        x = x + self._ls1(self.attn(self.norm1(x), rope))
        x = x + self._ls2(self.mlp(self.norm2(x)))
        if self.kind == 'cpvt' and hasattr(self, 'peg'):
            x = self._peg(x, grid, num_prefix)
        return x


class PreLogits(nn.Module):
    def __init__(self, dim, rep, device=None):
        super().__init__()
        self.fc = nn.Linear(dim, rep, device=device)

    def forward(self, x):
        return torch.tanh(self.fc(x))


class ViT(nn.Module):
    """cfg: a dict from spec.load_spec. device='meta' builds it without memory (for counting)."""

    def __init__(self, cfg, device=None):
        super().__init__()
        self.cfg = cfg
        d = cfg['embed_dim']
        self.num_prefix = cfg['num_prefix_tokens']
        self.patch_embed = PatchEmbed(cfg['in_chans'], d, cfg['patch_size'], cfg['backbone'], device=device)
        if cfg['class_token']:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, d, device=device))
        if cfg['distilled']:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, d, device=device))
        self.learned_pos = cfg['pos_embed'] == 'learned'
        if self.learned_pos:
            self.pos_embed = nn.Parameter(torch.zeros(1, cfg['num_tokens'], d, device=device))
        elif cfg['pos_embed'] == 'sincos':
            # a fixed table, not a weight: a non-persistent buffer is not in state_dict()
            self.register_buffer('pos_table', self.fixed_pos_table(), persistent=False)
        self.num_reg = cfg['reg_tokens']
        if self.num_reg:
            self.reg_token = nn.Parameter(torch.zeros(1, self.num_reg, d, device=device))
        self.rope = cfg['model_kind'] == 'rope'
        if self.rope:
            self.register_buffer('rope_cos', torch.zeros(0), persistent=False)
            self.register_buffer('rope_sin', torch.zeros(0), persistent=False)
            self.materialize_rope()
        self.blocks = nn.ModuleList([Block(cfg, i, device=device) for i in range(cfg['depth'])])
        self.use_fc_norm = cfg['fc_norm']
        if self.use_fc_norm:
            self.fc_norm = nn.LayerNorm(d, eps=cfg['norm_eps'], device=device)
        else:
            self.norm = nn.LayerNorm(d, eps=cfg['norm_eps'], device=device)
        feat = 2 * d if cfg['pool_kind'] == 'cls_mean' else d
        if cfg['pool_kind'] == 'map':
            self.attn_pool = MAPHead(d, cfg['num_heads'], cfg['mlp_hidden'], cfg['norm_eps'], device=device)
        if cfg['representation_size'] is not None:
            self.pre_logits = PreLogits(feat, cfg['representation_size'], device=device)
            feat = cfg['representation_size']
        self.head = nn.Linear(feat, cfg['num_classes'], device=device)
        if cfg['distilled']:
            self.head_dist = nn.Linear(d, cfg['num_classes'], device=device)

    def fixed_pos_table(self):
        c = self.cfg
        return sincos_table(c['embed_dim'], c['grid'][0], c['grid'][1], c['num_prefix_tokens'])

    def materialize_rope(self):
        c = self.cfg
        self.rope_cos, self.rope_sin = rope_angles(c['head_dim'], c['grid'][0], c['grid'][1])

    def materialize(self):
        """After to_empty(): put the fixed (non-weight) tables back."""
        if self.cfg['pos_embed'] == 'sincos':
            self.pos_table = self.fixed_pos_table().to(self.head.weight.dtype)
        if self.rope:
            self.materialize_rope()
        return self

    def features(self, x):
        x = self.patch_embed(x)
        b = x.shape[0]
        prefix = []
        if self.cfg['class_token']:
            prefix.append(self.cls_token.expand(b, -1, -1))
        if self.cfg['distilled']:
            prefix.append(self.dist_token.expand(b, -1, -1))
        if prefix:
            x = torch.cat(prefix + [x], dim=1)
        if self.cfg['pos_embed'] != 'none':
            x = x + (self.pos_embed if self.learned_pos else self.pos_table)
        if self.num_reg:  # registers: after the positions, between the prefix tokens and the patches
            x = torch.cat([x[:, :self.num_prefix], self.reg_token.expand(b, -1, -1), x[:, self.num_prefix:]], dim=1)
        extra = self.num_prefix + self.num_reg
        rope = (self.rope_cos.to(x.dtype), self.rope_sin.to(x.dtype), extra) if self.rope else None
        for blk in self.blocks:
            x = blk(x, self.cfg['grid'], extra, rope)
        if not self.use_fc_norm:
            x = self.norm(x)
        return x

    def forward(self, x):
        x = self.features(x)
        pool, extra = self.cfg['pool_kind'], self.num_prefix + self.num_reg
        if pool == 'avg':  # never the class, distillation or register tokens
            pooled = x[:, extra:].mean(dim=1)
        elif pool == 'cls_mean':
            pooled = torch.cat([x[:, 0], x[:, extra:].mean(dim=1)], dim=-1)
        elif pool == 'map':
            pooled = self.attn_pool(x)
        else:
            pooled = x[:, 0]
        if self.use_fc_norm:
            pooled = self.fc_norm(pooled)
        if self.cfg['representation_size'] is not None:
            pooled = self.pre_logits(pooled)
        logits = self.head(pooled)
        if self.cfg['distilled']:
            logits = (logits + self.head_dist(x[:, 1])) / 2
        return logits


# ---- parameter shapes and seeded non-trivial initialisation ----

def param_shapes(cfg):
    """{state-dict name: shape}, from a module built on the meta device (no memory)."""
    m = ViT(cfg, device='meta')
    return {k: tuple(v.shape) for k, v in m.state_dict().items()}


def count_params(cfg):
    return sum(math.prod(s) for s in param_shapes(cfg).values())


def count_macs(cfg):
    """Multiply-accumulates of one image: every convolution (out elements x in/groups x kh x kw), linear
    layer (out elements x in) and attention's two matmuls (2 x T x T x D per block), counted by hooks
    on a forward of the reference on the meta device (shapes only, no memory)."""
    m = ViT(cfg, device='meta').eval()
    total = [0]

    def conv(mod, inp, out):
        total[0] += out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]

    def lin(mod, inp, out):
        total[0] += out.numel() * mod.in_features

    def attn(mod, inp, out):
        b, t, d = inp[0].shape
        total[0] += 2 * b * t * t * d

    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            mod.register_forward_hook(conv)
        elif isinstance(mod, nn.Linear):
            mod.register_forward_hook(lin)
        elif isinstance(mod, Attention):
            mod.register_forward_hook(attn)
    h, w = cfg['img_size']
    with torch.no_grad():
        m(torch.zeros(1, cfg['in_chans'], h, w, device='meta'))
    return int(total[0])


def _is_norm(name):
    parts = name.split('.')
    return len(parts) >= 2 and parts[-2] in ('norm', 'norm1', 'norm2', 'norm3', 'fc_norm', 'q_norm', 'k_norm')


def init_tensor(name, shape, gen):
    """One parameter's seeded value (float32), drawing from `gen`.

    Linear/conv weights N(0, std=fan_in^-0.5); biases N(0, 0.1); LayerNorm and GroupNorm weight
    1 + N(0, 0.2), bias N(0, 0.1); cls/dist/register tokens and the attention-pooling latent N(0, 1);
    pos_embed N(0, 0.5); LayerScale gamma U(0.5, 1.5)."""
    leaf = name.rsplit('.', 1)[-1]
    if name in ('cls_token', 'dist_token', 'reg_token', 'attn_pool.latent'):
        return torch.randn(shape, generator=gen)
    if name == 'pos_embed':
        return 0.5 * torch.randn(shape, generator=gen)
    if leaf == 'gamma':
        return 0.5 + torch.rand(shape, generator=gen)
    if _is_norm(name):
        if leaf == 'weight' and name.endswith('.norm3.weight'):
            # a bottleneck's residual branch starts small (as timm's zero_init_last would make it), so
            # that a deep random backbone stays well conditioned: float32 rounding is not amplified
            return 0.25 + 0.05 * torch.randn(shape, generator=gen)
        if leaf == 'weight':
            return 1.0 + 0.2 * torch.randn(shape, generator=gen)
        return 0.1 * torch.randn(shape, generator=gen)
    if leaf == 'bias':
        return 0.1 * torch.randn(shape, generator=gen)
    if leaf == 'weight' and len(shape) >= 2:
        fan_in = math.prod(shape[1:])
        return torch.randn(shape, generator=gen) * (fan_in ** -0.5)
    raise ValueError('no init rule for %s %s' % (name, shape))


def random_weights(cfg, seed):
    """Yield (name, float32 tensor) in sorted-name order from one generator seeded with `seed`.
    A generator, so a large model can be streamed to disk one tensor at a time."""
    gen = torch.Generator().manual_seed(int(seed))
    shapes = param_shapes(cfg)
    for name in sorted(shapes):
        yield name, init_tensor(name, shapes[name], gen).float().contiguous()


def build_with_weights(cfg, tensors):
    """A float32 eval-mode model holding exactly `tensors` (name -> array/tensor): every key must
    be present with the right shape, and no extra key is allowed."""
    model = ViT(cfg, device='meta').to_empty(device='cpu').materialize().eval()
    sd = model.state_dict()
    missing = sorted(set(sd) - set(tensors))
    extra = sorted(set(tensors) - set(sd))
    if missing or extra:
        raise ValueError('weights do not match the spec: missing %s, unexpected %s' % (missing, extra))
    with torch.no_grad():
        for name, p in sd.items():
            t = tensors[name]
            if not isinstance(t, torch.Tensor):  # numpy, maybe a read-only memory map: copy one tensor
                t = torch.from_numpy(np.array(t, dtype=np.float32))
            if tuple(t.shape) != tuple(p.shape):
                raise ValueError('%s: shape %s in the weights, %s in the model' % (name, tuple(t.shape), tuple(p.shape)))
            p.copy_(t)
    return model
