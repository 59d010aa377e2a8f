"""bench/gpu/dry-run.sh: safetensors.torch.save_file through tools/golden's own writer (F32)."""
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "tools", "golden")))
from safetensors_io import write_safetensors  # noqa: E402


def save_file(tensors, path):
    write_safetensors(path, tensors)
