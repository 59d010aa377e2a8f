"""The backbone of `vitc finetune -t cuda` on one GPU: ViT-B/16 built with --features, run the way vitc's
runner runs it (one `vitc_model --serve` process, a batch per request as .npy files), against timm's
vit_base_patch16_224 computing the same features in PyTorch on the same GPU. Not a test.

Run by bench/gpu/run.sh (step `finetune`) after `make` in bench/.work/cuda/builds/vit-b16-features-*;
needs PyTorch, timm, numpy and safetensors, no node. Steps:
  1. timm's model with seeded random weights, saved as safetensors: the builds load these.
  2. Correctness: each build's logits and features (the input of `head`) against timm in f32 on the same
     8 images, through `vitc_model --outputs`.
  3. Timing, ROUNDS rounds: in each, per precision, vitc (REQUESTS requests of BATCH images to the
     --serve process: write the .npy, wait for "ok", read features.npy back, as vitc's runner does) and
     timm (the batch from host memory to the GPU, the features back to host memory), in a rotating
     order, after warm-up. Wall-clock medians per batch, so the file and copy overheads finetune pays
     are in both.
  4. The projection for flower_photos (2,939 training + 731 validation images), 10 epochs: the
     backbone's share of `vitc finetune` augmented (every epoch's training images, the validation once)
     and with --no-augment (every image once).
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from cuda import gpu_args, have_gpu_stack, timm_reference  # noqa: E402  (bench/cuda.py)

TRAIN, VAL, EPOCHS = 2939, 731, 10
# max|err| / max|ref| against timm in f32 on the GPU: test/golden.ts's cuda tolerances, fp32's loosened
# from 1e-5 (against PyTorch on the CPU) for timm's own GPU summation order at ViT-B/16's size.
TOLERANCE = {"fp32": 1e-4, "tf32": 5e-3, "fp16": 1e-2, "bf16": 5e-2}


class Serve:
    """One `vitc_model --serve` process: a request per line, "ok" or "error: ..." per line."""

    def __init__(self, build: str, weights: str, work: str):
        self.work = work
        self.n = 0
        self.p = subprocess.Popen([os.path.join(build, "vitc_model"), "--weights", weights, "--serve"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)

    def features(self, x: np.ndarray) -> np.ndarray:
        self.n += 1
        inp, out = os.path.join(self.work, f"x{self.n}.npy"), os.path.join(self.work, f"o{self.n}")
        os.mkdir(out)
        np.save(inp, x)
        self.p.stdin.write(f"{inp}\t{out}\n")
        self.p.stdin.flush()
        answer = self.p.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"vitc_model --serve: {answer or self.p.stderr.read().strip()}")
        f = np.load(os.path.join(out, "features.npy"))
        os.remove(inp)
        for name in os.listdir(out):
            os.remove(os.path.join(out, name))
        os.rmdir(out)
        return f

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def head_input(model):
    """A hook that keeps the input of model.head (the features vitc's --features build outputs)."""
    got = {}
    model.head.register_forward_hook(lambda m, args, out: got.__setitem__("x", args[0]))
    return got


def main() -> int:
    ap = gpu_args(__doc__)
    ap.add_argument("--batch", type=int, default=16, help="images per request (vitc finetune's --batch-size; default 16)")
    ap.add_argument("--requests", type=int, default=20, help="timed batches per measurement")
    ap.add_argument("--precisions", default="fp32,fp16")
    a = ap.parse_args()
    if not have_gpu_stack("finetune.py"):
        return 2
    import timm
    import torch
    os.makedirs(a.out, exist_ok=True)
    precisions = a.precisions.split(",")
    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "tf32": torch.float32}
    builds = {p: os.path.join(a.work, "builds", f"vit-b16-features-{p}") for p in precisions}
    with open(os.path.join(builds[precisions[0]], "manifest.json")) as f:
        manifest = json.load(f)
    image = tuple(manifest["inputs"][0]["shape"][1:])
    outputs = [o["name"] for o in manifest["outputs"]]
    if outputs != ["logits", "features"]:
        print(f"finetune.py: {builds[precisions[0]]} is not a --features build (outputs {outputs})", file=sys.stderr)
        return 2
    dev = torch.cuda.get_device_name()
    print(f"device: {dev}; torch {torch.__version__}, timm {timm.__version__}")

    ref, weights, tmp = timm_reference(a.timm_model, "vitc-finetune-bench-")

    # 2. Correctness: logits and features against timm in f32 (no TF32).
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    x = torch.randn(8, *image, generator=torch.Generator().manual_seed(1))
    hook = head_input(ref)
    with torch.inference_mode():
        want_logits = ref(x.cuda()).float().cpu().numpy()
    want_features = hook["x"].float().cpu().numpy()
    print("\nlogits and features against timm f32 (8 random images): max|err| / max|ref|")
    checks = {}
    bad = 0
    for p in precisions:
        d = os.path.join(tmp, f"check-{p}")
        os.mkdir(d)
        np.save(os.path.join(d, "x.npy"), x.numpy())
        r = subprocess.run([os.path.join(builds[p], "vitc_model"), "--weights", weights, "--input", os.path.join(d, "x.npy"), "--outputs", d],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"  {p:5}: vitc_model failed: {r.stderr.strip()}")
            checks[p] = {"error": r.stderr.strip()}
            bad += 1
            continue
        rel = {}
        for name, want in [("logits", want_logits), ("features", want_features)]:
            got = np.load(os.path.join(d, f"{name}.npy"))
            rel[name] = float(np.abs(got - want).max() / np.abs(want).max()) if got.shape == want.shape else float("inf")
        ok = max(rel.values()) <= TOLERANCE[p]
        bad += 0 if ok else 1
        checks[p] = {**rel, "tolerance": TOLERANCE[p], "ok": ok}
        print(f"  {p:5}: logits {rel['logits']:.2e}, features {rel['features']:.2e} (tolerance {TOLERANCE[p]:.0e}: {'ok' if ok else 'FAILED'})")

    # 3. Timing, interleaved.
    peers = {}
    for p in precisions:
        m = timm.create_model(a.timm_model, pretrained=False).eval().cuda().to(dtypes[p])
        m.load_state_dict({k: v.to(dtypes[p]) for k, v in ref.state_dict().items()})
        peers[p] = (m, head_input(m))
    servers = {p: Serve(builds[p], weights, tmp) for p in precisions if "error" not in checks[p]}
    batch = np.random.default_rng(2).standard_normal((a.batch, *image), dtype=np.float32)

    def timm_features(p: str) -> np.ndarray:
        m, got = peers[p]
        with torch.inference_mode():
            m(torch.from_numpy(batch).cuda().to(dtypes[p]))
            return got["x"].float().cpu().numpy()

    def measure(fn) -> float:
        for _ in range(3):
            fn()
        ts = []
        for _ in range(a.requests):
            t0 = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t0) * 1000.0)
        return statistics.median(ts)

    impls = ["vitc", "timm"]
    times = {}
    for r in range(a.rounds):
        for p in servers:
            for impl in impls[r % 2:] + impls[:r % 2]:
                t = measure((lambda: servers[p].features(batch)) if impl == "vitc" else (lambda: timm_features(p)))
                times.setdefault((p, impl), []).append(t)
                print(f"  round {r + 1}: {p} {impl}: {t:.3f} ms per batch of {a.batch}", file=sys.stderr)
    for s in servers.values():
        s.close()

    print(f"\nthe features of a batch of {a.batch} from host memory to host memory, {a.timm_model} on {dev}:")
    print(f"median over {a.rounds} rounds of the median of {a.requests} batches")
    print(f"{'precision':9} {'vitc ms':>9} {'ms/img':>8} {'timm ms':>9} {'ms/img':>8} {'vitc/timm speed':>16}")
    rows = []
    for p in servers:
        v, t = statistics.median(times[(p, "vitc")]), statistics.median(times[(p, "timm")])
        print(f"{p:9} {v:9.3f} {v / a.batch:8.3f} {t:9.3f} {t / a.batch:8.3f} {t / v:16.2f}")
        rows.append({"precision": p, "vitc_ms": v, "timm_ms": t, "batch": a.batch,
                     "rounds": {"vitc": times[(p, "vitc")], "timm": times[(p, "timm")]}})

    # 4. flower_photos, 10 epochs: the backbone's share of vitc finetune -t cuda.
    print(f"\nflower_photos ({TRAIN} + {VAL} images), {EPOCHS} epochs, the backbone's time in vitc finetune -t cuda:")
    for row in rows:
        per = row["vitc_ms"] / a.batch / 1000.0
        print(f"  {row['precision']}: augmented {EPOCHS * TRAIN + VAL} forwards = {(EPOCHS * TRAIN + VAL) * per:.0f} s; "
              f"--no-augment {TRAIN + VAL} forwards = {(TRAIN + VAL) * per:.1f} s (decoding and transforms on the CPU come on top)")
    with open(os.path.join(a.out, "finetune.json"), "w") as f:
        json.dump({"device": dev, "torch": torch.__version__, "timm": timm.__version__, "checks": checks, "rows": rows}, f, indent=2)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
