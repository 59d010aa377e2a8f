"""ViT-B/16 on one GPU: vitc's cuda builds against timm's vit_base_patch16_224 (SDPA attention) and
torch.compile of it, in fp16 and bf16 at batch 1, 64 and 256, in the same run. Not a test.

Run by bench/gpu/run.sh after `make` in bench/.work/cuda/builds/vit-b16-*; needs PyTorch, timm, numpy and
safetensors, no node. Steps:
  1. timm's model with seeded random weights, saved as safetensors: every vitc build loads these.
  2. Correctness: vitc's logits (fp32, tf32, fp16, bf16 builds) against timm in f32 on the same input.
  3. Timing: ROUNDS rounds; in each, every (precision, batch) is timed for vitc, timm and torch.compile
     in a rotating order. Each timing is the median over ITERS back-to-back forwards of the time between
     CUDA events recorded after each forward (vitc_model --bench does the same), after warm-up. The
     table shows the median over rounds, img/s, and vitc's ratio to each peer (>1: vitc faster).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ITERS = {1: 200, 64: 60, 256: 30}


def vitc_time(build: str, weights: str, batch: int, iters: int) -> float:
    p = subprocess.run([os.path.join(build, "vitc_model"), "--weights", weights, "--bench", "--batch", str(batch),
                        "--iters", str(iters), "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{build}: vitc_model failed: {p.stderr.strip()}")
    return json.loads(p.stdout.strip().splitlines()[-1])["median_ms"]


def torch_time(model, x, iters: int) -> float:
    import torch
    with torch.inference_mode():
        for _ in range(10):
            model(x)
        torch.cuda.synchronize()
        ev = [torch.cuda.Event(enable_timing=True) for _ in range(iters + 1)]
        ev[0].record()
        for i in range(iters):
            model(x)
            ev[i + 1].record()
        torch.cuda.synchronize()
        return statistics.median(ev[i].elapsed_time(ev[i + 1]) for i in range(iters))


def timm_reference(name: str, prefix: str):
    """timm's model `name` on the GPU with weights seeded by torch.manual_seed(0), and those weights saved
    as safetensors (f32) in a new temporary folder: (model, weights path, folder)."""
    import timm
    import torch
    from safetensors.torch import save_file
    torch.manual_seed(0)
    ref = timm.create_model(name, pretrained=False).eval().cuda()
    tmp = tempfile.mkdtemp(prefix=prefix)
    weights = os.path.join(tmp, "vit-b16.safetensors")
    save_file({k: v.detach().float().contiguous().cpu() for k, v in ref.state_dict().items()}, weights)
    return ref, weights, tmp


def vitc_logits(build: str, weights: str, x: np.ndarray, work: str) -> np.ndarray:
    inp, out = os.path.join(work, "x.npy"), os.path.join(work, "y.npy")
    np.save(inp, x)
    p = subprocess.run([os.path.join(build, "vitc_model"), "--weights", weights, "--input", inp, "--output", out],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{build}: vitc_model failed: {p.stderr.strip()}")
    return np.load(out)


def gpu_args(description: str) -> argparse.ArgumentParser:
    """The options the GPU scripts share: the prepared builds, where results go, rounds, timm's model."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="bench/.work/cuda")
    ap.add_argument("--out", default="bench/.work/cuda/results")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timm-model", default="vit_base_patch16_224", help="timm's name of the model the vit-b16-* builds compile")
    return ap


def have_gpu_stack(script: str) -> bool:
    """Whether PyTorch, timm and safetensors import; if not, says so on stderr."""
    try:
        import timm  # noqa: F401
        import torch  # noqa: F401
        import safetensors.torch  # noqa: F401  (timm_reference saves with it)
    except ImportError as e:
        print(f"{script}: needs PyTorch, timm and safetensors ({e}); e.g. pip install timm", file=sys.stderr)
        return False
    return True


def main() -> int:
    ap = gpu_args(__doc__)
    ap.add_argument("--batches", default="1,64,256")
    ap.add_argument("--precisions", default="fp16,bf16")
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile (it compiles once per dtype and batch)")
    ap.add_argument("--iters", type=int, default=0, help="timed forwards per measurement (default: 200 at batch 1, 60 at 64, 30 at 256, else 50)")
    a = ap.parse_args()
    if not have_gpu_stack("cuda.py"):
        return 2
    import timm
    import torch
    os.makedirs(a.out, exist_ok=True)
    batches = [int(b) for b in a.batches.split(",")]
    precisions = a.precisions.split(",")
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16}
    builds = {p: os.path.join(a.work, "builds", f"vit-b16-{p}") for p in ["fp32", "tf32", "fp16", "bf16"]}
    dev = torch.cuda.get_device_name()
    with open(os.path.join(builds["fp16"], "manifest.json")) as f:
        image = tuple(json.load(f)["inputs"][0]["shape"][1:])  # [C, H, W] of the builds' input
    print(f"device: {dev}; torch {torch.__version__}, timm {timm.__version__}")

    ref, weights, tmp = timm_reference(a.timm_model, "vitc-bench-")

    # Correctness on the same weights: 8 random images, timm in f32 without TF32.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    x = torch.randn(8, *image, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        want = ref(x.cuda()).float().cpu().numpy()
    print(f"\nlogits against timm f32 (8 random images): max|err| / max|ref|, top-1 agreement")
    checks = {}
    for p, b in builds.items():
        if not os.path.exists(os.path.join(b, "vitc_model")):
            print(f"  {p:5}: not built")
            continue
        try:
            got = vitc_logits(b, weights, x.numpy(), tmp)
        except RuntimeError as e:
            print(f"  {p:5}: {e}")
            checks[p] = {"error": str(e)}
            continue
        rel = float(np.abs(got - want).max() / np.abs(want).max())
        top1 = float((got.argmax(1) == want.argmax(1)).mean())
        checks[p] = {"rel": rel, "top1": top1}
        print(f"  {p:5}: {rel:.2e}, top-1 {top1:.0%}")

    # Timing, interleaved.
    peers = {}
    for p in precisions:
        m = timm.create_model(a.timm_model, pretrained=False).eval().cuda().to(dtypes[p])
        m.load_state_dict({k: v.to(dtypes[p]) for k, v in ref.state_dict().items()})
        peers[(p, "timm")] = m
        if not a.no_compile:
            # Static shapes: each batch size gets its own compiled graph (the default would recompile
            # with dynamic shapes on the second batch size seen, and time a slower generic graph).
            peers[(p, "compile")] = torch.compile(m, dynamic=False)
    impls = ["vitc", "timm"] + ([] if a.no_compile else ["compile"])
    times = {}
    inputs = {(p, b): torch.randn(b, *image, device="cuda", dtype=dtypes[p]) for p in precisions for b in batches}
    for r in range(a.rounds):
        for p in precisions:
            for b in batches:
                order = impls[r % len(impls):] + impls[:r % len(impls)]
                iters = a.iters or ITERS.get(b, 50)
                for impl in order:
                    if impl == "vitc":
                        t = vitc_time(builds[p], weights, b, iters)
                    else:
                        t = torch_time(peers[(p, impl)], inputs[(p, b)], iters)
                    times.setdefault((p, b, impl), []).append(t)
                    print(f"  round {r + 1}: {p} b{b} {impl}: {t:.3f} ms", file=sys.stderr)

    print(f"\n{a.timm_model} on {dev}: median over {a.rounds} rounds of per-forward medians (ms), img/s, vitc's speed ratio")
    head = f"{'precision':9} {'batch':>5} " + " ".join(f"{i + ' ms':>12} {i + ' img/s':>13}" for i in impls)
    head += "".join(f" {'vitc/' + i:>13}" for i in impls[1:])
    print(head)
    rows = []
    for p in precisions:
        for b in batches:
            med = {i: statistics.median(times[(p, b, i)]) for i in impls}
            line = f"{p:9} {b:5} " + " ".join(f"{med[i]:12.3f} {1000 * b / med[i]:13.1f}" for i in impls)
            line += "".join(f" {med[i] / med['vitc']:13.2f}" for i in impls[1:])
            print(line)
            rows.append({"precision": p, "batch": b, **{f"{i}_ms": med[i] for i in impls}, "rounds": times[(p, b, impls[0])]})
    with open(os.path.join(a.out, "bench.json"), "w") as f:
        json.dump({"device": dev, "torch": torch.__version__, "timm": timm.__version__, "checks": checks, "rows": rows,
                   "raw": {f"{p}/{b}/{i}": v for (p, b, i), v in times.items()}}, f, indent=2)
    print(f"\ngoals (issue #10): b256 throughput >= torch.compile's, b1 latency <= 1.0 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
