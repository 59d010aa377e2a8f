"""Run every tiny golden build natively (bench/gpu/run.sh, after make): max|err| / max|ref| against the
PyTorch logits, the tolerance of test/golden.ts, and top-1 per image for the reduced precisions.
Exit status 1 if any build fails or misses its tolerance."""
import json
import os
import subprocess
import sys

import numpy as np


def main(work: str) -> int:
    rows = json.load(open(os.path.join(work, "goldens.json")))
    bad = 0
    worst = {}
    print(f"{'build':34} {'max rel err':>12} {'tolerance':>10} {'top-1':>6}  result")
    for r in rows:
        d = os.path.join(work, "builds", r["build"])
        g = os.path.join(work, "goldens", r["golden"])
        out = os.path.join(d, "out.npy")
        if not os.path.exists(os.path.join(d, "vitc_model")):
            bad += 1
            print(f"{r['build']:34} {'-':>12} {r['tolerance']:>10.0e} {'-':>6}  NOT BUILT (see {d}/make.log)")
            continue
        p = subprocess.run([os.path.join(d, "vitc_model"), "--weights", os.path.join(g, "weights.safetensors"),
                            "--input", os.path.join(g, "input.npy"), "--output", out], capture_output=True, text=True)
        if p.returncode != 0:
            bad += 1
            print(f"{r['build']:34} {'-':>12} {r['tolerance']:>10.0e} {'-':>6}  FAILED: {p.stderr.strip().splitlines()[-1:]}")
            continue
        got, ref = np.load(out), np.load(os.path.join(g, "logits.npy"))
        rel = float(np.abs(got - ref).max() / np.abs(ref).max())
        top1 = bool((got.argmax(1) == ref.argmax(1)).all())
        ok = rel <= r["tolerance"] and (top1 or not r["top1"])
        bad += not ok
        worst[r["precision"]] = max(worst.get(r["precision"], 0.0), rel)
        print(f"{r['build']:34} {rel:12.2e} {r['tolerance']:10.0e} {str(top1):>6}  {'ok' if ok else 'FAIL'}")
    print("worst per precision: " + ", ".join(f"{k} {v:.2e}" for k, v in sorted(worst.items())))
    print(f"{len(rows) - bad} of {len(rows)} goldens pass natively")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "bench/.work/cuda"))
