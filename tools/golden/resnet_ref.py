"""The ResNet-v2 backbone of the hybrid R50+ViT, for the PyTorch reference.

Written from the facts in shared/docs/vit-architecture.md and timm's documented semantics of
ResNetV2(preact=False, stem_type='same', conv_layer=StdConv2dSame): state-dict names are timm's
(stem.conv, stem.norm, stages.{i}.blocks.{j}.conv1 ... norm3, downsample.conv, downsample.norm).
Inference only.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def same_pad(size, k, stride, dilation=1):
    """TensorFlow 'same' padding of one axis: (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pad_same(x, k, stride, value=0.0):
    top, bottom = same_pad(x.shape[-2], k, stride)
    left, right = same_pad(x.shape[-1], k, stride)
    return F.pad(x, (left, right, top, bottom), value=value)


class StdConv2dSame(nn.Conv2d):
    """Weight-standardized convolution (each filter: zero mean, unit biased variance over in x kh x kw,
    eps inside the square root), no bias, TensorFlow 'same' padding."""

    def __init__(self, cin, cout, k, stride=1, eps=1e-8, device=None):
        super().__init__(cin, cout, k, stride=stride, padding=0, bias=False, device=device)
        self.eps = eps

    def forward(self, x):
        w = self.weight
        mean = w.mean(dim=(1, 2, 3), keepdim=True)
        var = ((w - mean) ** 2).mean(dim=(1, 2, 3), keepdim=True)
        w = (w - mean) / torch.sqrt(var + self.eps)
        return F.conv2d(pad_same(x, self.kernel_size[0], self.stride[0]), w, None, self.stride)


class GroupNormAct(nn.GroupNorm):
    """GroupNorm (affine), then ReLU unless act=False."""

    def __init__(self, groups, channels, eps, act=True, device=None):
        super().__init__(groups, channels, eps=eps, affine=True, device=device)
        self.act = act

    def forward(self, x):
        x = super().forward(x)
        return F.relu(x) if self.act else x


class Stem(nn.Module):
    """7x7 stride-2 StdConv, GroupNorm + ReLU, 3x3 stride-2 max pool with 'same' padding of -inf."""

    def __init__(self, cin, width, b, device=None):
        super().__init__()
        self.conv = StdConv2dSame(cin, width, 7, stride=2, eps=b['std_conv_eps'], device=device)
        self.norm = GroupNormAct(b['gn_groups'], width, b['gn_eps'], device=device)

    def forward(self, x):
        x = self.norm(self.conv(x))
        return F.max_pool2d(pad_same(x, 3, 2, value=float('-inf')), 3, 2)


class Downsample(nn.Module):
    def __init__(self, cin, cout, stride, b, device=None):
        super().__init__()
        self.conv = StdConv2dSame(cin, cout, 1, stride=stride, eps=b['std_conv_eps'], device=device)
        self.norm = GroupNormAct(b['gn_groups'], cout, b['gn_eps'], act=False, device=device)

    def forward(self, x):
        return self.norm(self.conv(x))


class Bottleneck(nn.Module):
    """Non-pre-activation bottleneck: 1x1, GN+ReLU, 3x3 (strided), GN+ReLU, 1x1, GN; + shortcut; ReLU."""

    def __init__(self, cin, cout, mid, stride, project, b, device=None):
        super().__init__()
        g, e, ws = b['gn_groups'], b['gn_eps'], b['std_conv_eps']
        self.downsample = Downsample(cin, cout, stride, b, device=device) if project else None
        self.conv1 = StdConv2dSame(cin, mid, 1, eps=ws, device=device)
        self.norm1 = GroupNormAct(g, mid, e, device=device)
        self.conv2 = StdConv2dSame(mid, mid, 3, stride=stride, eps=ws, device=device)
        self.norm2 = GroupNormAct(g, mid, e, device=device)
        self.conv3 = StdConv2dSame(mid, cout, 1, eps=ws, device=device)
        self.norm3 = GroupNormAct(g, cout, e, act=False, device=device)

    def forward(self, x):
        shortcut = self.downsample(x) if self.downsample is not None else x
        h = self.norm1(self.conv1(x))
        h = self.norm2(self.conv2(h))
        h = self.norm3(self.conv3(h))
        return F.relu(h + shortcut)


class Stage(nn.Module):
    def __init__(self, cin, cout, mid, depth, stride, b, device=None):
        super().__init__()
        self.blocks = nn.Sequential(*[
            Bottleneck(cin if j == 0 else cout, cout, mid, stride if j == 0 else 1, j == 0, b, device=device)
            for j in range(depth)])

    def forward(self, x):
        return self.blocks(x)


class ResNetV2(nn.Module):
    """b: the spec's backbone mapping (spec.py). Stage strides 1, 2, 2, ...; output channels b['channels'][-1]."""

    def __init__(self, in_chans, b, device=None):
        super().__init__()
        self.stem = Stem(in_chans, b['stem_width'], b, device=device)
        stages, cin = [], b['stem_width']
        for i, (depth, cout, mid) in enumerate(zip(b['layers'], b['channels'], b['mid_channels'])):
            stages.append(Stage(cin, cout, mid, depth, 1 if i == 0 else 2, b, device=device))
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.num_features = cin

    def forward(self, x):
        return self.stages(self.stem(x))
