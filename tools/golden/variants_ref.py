"""The PyTorch reference of the gallery's variants (spec/variants/, docs/variants.md).

Written from the papers' descriptions, independently of the model-language files: a gated MLP
(SwiGLU, Shazeer 2020; EVA-02's sub-LN), QK-norm attention (Dehghani et al. 2023), CPVT's position
encoding generator (Chu et al. 2021), multihead attention pooling (Zhai et al. 2022) and 2-D axial
rotary positions (Heo et al. 2024). Register tokens (Darcet et al. 2023) and the class-and-mean head
are a few lines in vit_ref.ViT. State-dict names are timm's where timm has the module.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SwiGLU(nn.Module):
    """fc2(norm(silu(fc1_g(x)) * fc1_x(x))), the norm only with sub_ln."""

    def __init__(self, dim, hidden, sub_ln, eps, device=None):
        super().__init__()
        self.fc1_g = nn.Linear(dim, hidden, device=device)
        self.fc1_x = nn.Linear(dim, hidden, device=device)
        self.norm = nn.LayerNorm(hidden, eps=eps, device=device) if sub_ln else nn.Identity()
        self.fc2 = nn.Linear(hidden, dim, device=device)

    def forward(self, x):
        return self.fc2(self.norm(F.silu(self.fc1_g(x)) * self.fc1_x(x)))


def rope_angles(head_dim, grid_h, grid_w):
    """cos and sin [grid_h * grid_w, head_dim / 2] of every patch (row-major) and channel pair.

    Pair j < head_dim/4 of the first half of a head's channels turns by col * w_j, pair j of the
    second half by row * w_j, with w_j = 10000^(-j / (head_dim / 4)). Computed in float64."""
    quarter = head_dim // 4
    w = 10000.0 ** (-np.arange(quarter, dtype=np.float64) / quarter)
    rows, cols = np.divmod(np.arange(grid_h * grid_w), grid_w)
    ang = np.concatenate([np.outer(cols, w), np.outer(rows, w)], axis=1)
    return torch.from_numpy(np.cos(ang).astype(np.float32)), torch.from_numpy(np.sin(ang).astype(np.float32))


def rotate_pairs(x, cos, sin):
    """x [..., N, head_dim]: in each half, channel j and j + head_dim/4 turn as one pair (a, b)
    by the pair's angle: (a cos - b sin, b cos + a sin)."""
    d = x.shape[-1]
    q = d // 4
    out = []
    for half in range(2):
        a = x[..., half * 2 * q:half * 2 * q + q]
        b = x[..., half * 2 * q + q:(half + 1) * 2 * q]
        c = cos[:, half * q:(half + 1) * q]
        s = sin[:, half * q:(half + 1) * q]
        out += [a * c - b * s, b * c + a * s]
    return torch.cat(out, dim=-1)


class PEG(nn.Module):
    """CPVT's position encoding generator: the patch tokens, as their grid, plus a depthwise 3x3
    convolution (zero padding) of it; the tokens before the patches pass through."""

    def __init__(self, dim, device=None):
        super().__init__()
        self.proj = nn.Conv2d(dim, dim, 3, padding=1, groups=dim, bias=True, device=device)

    def forward(self, x, grid, num_prefix):
        pre, tok = x[:, :num_prefix], x[:, num_prefix:]
        b, n, d = tok.shape
        cnn = tok.transpose(1, 2).reshape(b, d, grid[0], grid[1])
        tok = tok + self.proj(cnn).flatten(2).transpose(1, 2)
        return torch.cat([pre, tok], dim=1)


class MAPHead(nn.Module):
    """Multihead attention pooling: a learned query (latent) attends over all tokens (q from the
    latent, k and v from the tokens, [2, heads, head_dim] order), out-projection, then a residual
    MLP on its LayerNorm; the head sees the one pooled token."""

    def __init__(self, dim, heads, mlp_hidden, eps, device=None):
        super().__init__()
        self.heads = heads
        self.latent = nn.Parameter(torch.zeros(1, 1, dim, device=device))
        self.q = nn.Linear(dim, dim, device=device)
        self.kv = nn.Linear(dim, 2 * dim, device=device)
        self.proj = nn.Linear(dim, dim, device=device)
        self.norm = nn.LayerNorm(dim, eps=eps, device=device)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(dim, mlp_hidden, device=device)
        self.mlp.fc2 = nn.Linear(mlp_hidden, dim, device=device)

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.heads
        q = self.q(self.latent.expand(b, -1, -1)).reshape(b, 1, self.heads, hd).transpose(1, 2)
        kv = self.kv(x).reshape(b, t, 2, self.heads, hd).permute(2, 0, 3, 1, 4)
        w = torch.softmax(torch.matmul(q, kv[0].transpose(-2, -1)) * hd ** -0.5, dim=-1)
        y = self.proj(torch.matmul(w, kv[1]).transpose(1, 2).reshape(b, 1, d))
        y = y + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm(y))))
        return y[:, 0]
