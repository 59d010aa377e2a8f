"""Run the PyTorch reference on given weights and input, or write seeded random weights.

    /usr/bin/python3 tools/golden/ref_run.py --spec S.yaml --weights W.safetensors --input X.npy --output Y.npy [--fp64]
    /usr/bin/python3 tools/golden/ref_run.py --spec S.yaml --random-weights OUT.safetensors --seed N

The input is a float32 (or float64) .npy [B, C, H, W]; the output is float32 logits [B, classes]
(--fp64 runs the forward in float64 and still writes float32). Random weights follow the fixture
init rules (vit_ref.init_tensor) with torch.Generator().manual_seed(N), drawn in sorted-name order
and streamed to disk one tensor at a time; they are the bytes make_goldens.py would write for the
same seed. Weights are read through a memory map, so ViT-B/16 needs about one copy of its weights.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors, write_stream  # noqa: E402
from spec import SpecError, load_spec  # noqa: E402
from vit_ref import build_with_weights, param_shapes, random_weights  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description='Run the PyTorch ViT reference, or write seeded random weights.')
    ap.add_argument('--spec', required=True)
    ap.add_argument('--weights', help='safetensors weights (timm names)')
    ap.add_argument('--input', help='.npy input [B, C, H, W]')
    ap.add_argument('--output', help='.npy logits to write (float32)')
    ap.add_argument('--fp64', action='store_true', help='run the forward in float64')
    ap.add_argument('--random-weights', metavar='OUT', help='write seeded random weights to OUT and exit')
    ap.add_argument('--seed', type=int, default=0, help='seed for --random-weights (default 0)')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (default: torch\'s choice)')
    args = ap.parse_args(argv)
    try:
        cfg = load_spec(args.spec)
    except SpecError as e:
        ap.exit(2, 'error: %s\n' % e)
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.random_weights:
        if args.weights or args.input or args.output:
            ap.error('--random-weights takes only --spec and --seed')
        shapes = param_shapes(cfg)
        write_stream(args.random_weights, shapes, random_weights(cfg, args.seed))
        n = sum(int(np.prod(s)) for s in shapes.values())
        print('%s: %d tensors, %d parameters, seed %d' % (args.random_weights, len(shapes), n, args.seed))
        return

    if not (args.weights and args.input and args.output):
        ap.error('give --weights, --input and --output (or --random-weights OUT)')
    x = np.load(args.input)
    c, (h, w) = cfg['in_chans'], cfg['img_size']
    if x.ndim != 4 or tuple(x.shape[1:]) != (c, h, w):
        ap.exit(2, 'error: input shape %s, the spec wants [B, %d, %d, %d]\n' % (list(x.shape), c, h, w))
    try:
        model = build_with_weights(cfg, read_safetensors(args.weights))
    except ValueError as e:
        ap.exit(2, 'error: %s: %s\n' % (args.weights, e))
    t0 = time.time()
    with torch.no_grad():
        if args.fp64:
            y = model.double()(torch.from_numpy(np.array(x, dtype=np.float64)))
        else:
            y = model(torch.from_numpy(np.array(x, dtype=np.float32)))
    np.save(args.output, y.numpy().astype(np.float32))
    print('%s: logits %s in %.2fs (%s), max|logit| %.4f' % (
        args.output, list(y.shape), time.time() - t0, 'fp64' if args.fp64 else 'fp32', float(y.abs().max())))


if __name__ == '__main__':
    main()
