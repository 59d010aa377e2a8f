"""Export the PyTorch reference with given weights to ONNX (torch.onnx.export).

    /usr/bin/python3 tools/golden/export_onnx.py --spec S.yaml --weights W.safetensors -o ref.onnx [--opset 17]

Input `input` [batch, C, H, W] float32, output `logits` [batch, classes], batch a dynamic axis.
Models over 2 GB (ViT-H/14) need ONNX external data; torch then writes the weights next to the
.onnx file itself.
"""
import argparse
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors  # noqa: E402
from spec import SpecError, load_spec  # noqa: E402
from vit_ref import build_with_weights  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description='Export the PyTorch ViT reference to ONNX.')
    ap.add_argument('--spec', required=True)
    ap.add_argument('--weights', required=True, help='safetensors weights (timm names)')
    ap.add_argument('-o', '--output', required=True, help='.onnx file to write')
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--trace-batch', type=int, default=2, help='batch of the example input used for tracing')
    args = ap.parse_args(argv)
    try:
        cfg = load_spec(args.spec)
        model = build_with_weights(cfg, read_safetensors(args.weights))
    except (SpecError, ValueError) as e:
        ap.exit(2, 'error: %s\n' % e)
    h, w = cfg['img_size']
    example = torch.zeros(args.trace_batch, cfg['in_chans'], h, w)
    with torch.no_grad(), warnings.catch_warnings():
        # tracing warns about Python ints taken from shapes; the batch stays symbolic regardless
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(
            model, (example,), args.output,
            input_names=['input'], output_names=['logits'],
            dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
            opset_version=args.opset, do_constant_folding=True, export_params=True)
    print('%s: opset %d, %s' % (args.output, args.opset, cfg['name']))


if __name__ == '__main__':
    main()
