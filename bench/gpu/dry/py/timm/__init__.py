"""bench/gpu/dry-run.sh: a stand-in for timm and the GPU so that bench/cuda.py runs on a CPU.

create_model() gives vitc's own PyTorch reference (tools/golden/vit_ref.py, timm's state-dict names) of
spec/tiny/tiny-base.yaml with random weights drawn from torch's global generator; the dry run's
vit-b16-* builds are tiny-base builds, so cuda.py's correctness check compares like with like.
torch.cuda is replaced by CPU stand-ins (events from perf_counter) and torch.compile by the identity:
the timings of a dry run mean nothing; it checks that the script runs from end to end."""
import os
import sys
import time

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "golden"))
from spec import load_spec  # noqa: E402
from vit_ref import build_with_weights, random_weights  # noqa: E402

__version__ = "dry-run stand-in"


class _Event:
    def __init__(self, enable_timing=False):
        self.t = 0.0

    def record(self):
        self.t = time.perf_counter()

    def elapsed_time(self, later):
        return (later.t - self.t) * 1000.0


_randn = torch.randn


def _randn_on_cpu(*args, **kwargs):
    kwargs.pop("device", None)
    return _randn(*args, **kwargs)


torch.cuda.get_device_name = lambda *a: "CPU (dry run)"
torch.cuda.synchronize = lambda *a: None
torch.cuda.Event = _Event
torch.nn.Module.cuda = lambda self, *a: self
torch.Tensor.cuda = lambda self, *a: self
torch.randn = _randn_on_cpu
torch.compile = lambda model, **kwargs: model


def create_model(name, pretrained=False):
    cfg = load_spec(os.path.join(ROOT, "spec", "tiny", "tiny-base.yaml"))
    return build_with_weights(cfg, dict(random_weights(cfg, int(torch.randint(0, 1 << 30, (1,))))))
