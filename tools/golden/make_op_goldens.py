"""Regenerate the op fixtures: single spatial ops (convolution with stride, dilation, groups,
depthwise, asymmetric and 'same' padding; max pooling with -inf padding; GroupNorm; weight-
standardized convolution) computed by PyTorch, in test/fixtures/ops/.

    /usr/bin/python3 tools/golden/make_op_goldens.py [--out DIR]

Each case is `<name>.safetensors` (input, output, and the op's weight and bias when it has them,
all float32) plus one line of `cases.json` with the op and its attributes, which test/ops.test.ts
builds as a one-op graph for every target. Padding is [top, left, bottom, right] or "same"
(TensorFlow's, resolved from the input size as resnet_ref.same_pad does). Deterministic: the seed
of a case is zlib.crc32(name); running it twice writes byte-identical files.
"""
import argparse
import json
import os
import sys
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet_ref import same_pad  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(ROOT, 'test', 'fixtures', 'ops')

# name, op, input shape, attributes, weight shape (None: no weight), bias
CASES = [
    ('conv-dilated-grouped', 'conv2d', (2, 4, 9, 11), dict(stride=[2, 1], dilation=[1, 2], groups=2, padding=[1, 0, 2, 1]), (6, 2, 3, 3), True),
    ('conv-depthwise', 'conv2d', (2, 4, 8, 8), dict(stride=[1, 1], dilation=[1, 1], groups=4, padding=[1, 1, 1, 1]), (8, 1, 3, 3), True),
    ('conv-depthwise-same', 'conv2d', (1, 6, 7, 10), dict(stride=[2, 2], dilation=[1, 1], groups=6, padding='same'), (6, 1, 5, 5), False),
    ('stdconv-same', 'stdconv2d', (2, 3, 6, 7), dict(stride=[2, 2], dilation=[1, 1], groups=1, padding='same', eps=1e-6), (4, 3, 3, 3), False),
    ('maxpool-pads', 'maxpool2d', (2, 3, 7, 8), dict(kernel=[3, 2], stride=[2, 2], padding=[1, 0, 1, 1]), None, False),
    ('maxpool-same', 'maxpool2d', (1, 2, 9, 6), dict(kernel=[3, 3], stride=[2, 2], padding='same'), None, False),
    ('groupnorm', 'groupnorm', (2, 6, 5, 4), dict(groups=3, eps=1e-5), (6,), True),
]


def pads(x, attrs, k):
    """[top, left, bottom, right] for x [N, C, H, W] and kernel sizes k."""
    p = attrs['padding']
    if p != 'same':
        return p
    (t, b), (l, r) = (same_pad(x.shape[2 + i], k[i], attrs['stride'][i], attrs.get('dilation', [1, 1])[i]) for i in range(2))
    return [t, l, b, r]


def forward(op, x, attrs, w, b):
    if op in ('conv2d', 'stdconv2d'):
        if op == 'stdconv2d':  # each filter: zero mean, unit biased variance, eps inside the root
            mean = w.mean(dim=(1, 2, 3), keepdim=True)
            w = (w - mean) / torch.sqrt(((w - mean) ** 2).mean(dim=(1, 2, 3), keepdim=True) + attrs['eps'])
        t, l, bo, r = pads(x, attrs, w.shape[2:])
        return F.conv2d(F.pad(x, (l, r, t, bo)), w, b, attrs['stride'], 0, attrs['dilation'], attrs['groups'])
    if op == 'maxpool2d':
        t, l, bo, r = pads(x, attrs, attrs['kernel'])
        return F.max_pool2d(F.pad(x, (l, r, t, bo), value=float('-inf')), attrs['kernel'], attrs['stride'])
    if op == 'groupnorm':
        return F.group_norm(x, attrs['groups'], w, b, attrs['eps'])
    raise ValueError(op)


def main(argv=None):
    ap = argparse.ArgumentParser(description='Regenerate the op fixtures in test/fixtures/ops/.')
    ap.add_argument('--out', default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    lines = []
    for name, op, shape, attrs, wshape, bias in CASES:
        gen = torch.Generator().manual_seed(zlib.crc32(name.encode('utf-8')))
        x = torch.randn(shape, generator=gen)
        if op == 'maxpool2d':
            x = x - 3.0  # all negative: a zero-padded pool would differ at every border window
        w = torch.randn(wshape, generator=gen) if wshape else None
        if op == 'groupnorm':
            w = 1.0 + 0.2 * w
        b = 0.1 * torch.randn(wshape[0], generator=gen) if bias else None
        with torch.no_grad():
            y = forward(op, x, attrs, w, b)
        tensors = {'input': x, 'output': y}
        if w is not None:
            tensors['weight'] = w
        if b is not None:
            tensors['bias'] = b
        write_safetensors(os.path.join(args.out, name + '.safetensors'), tensors)
        lines.append(json.dumps(dict(name=name, op=op, **attrs), sort_keys=True))
        print('%-22s %-10s in %s -> out %s' % (name, op, list(x.shape), list(y.shape)))
    with open(os.path.join(args.out, 'cases.json'), 'w') as f:
        f.write('[\n  ' + ',\n  '.join(lines) + '\n]\n')


if __name__ == '__main__':
    main()
