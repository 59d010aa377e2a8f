#!/usr/bin/env bash
# The cuda target on a real GPU, in one call: build, goldens, benchmark. For a machine with an NVIDIA
# GPU, nvcc, PyTorch and timm, and no node. Prepare on a vitc machine first:
#   npm run bench:cuda-prep          # writes bench/.work/cuda (carry it along with the repository)
# then, from the repository root on the GPU machine:
#   bash bench/gpu/run.sh [OUTDIR]   # OUTDIR gets the logs and results (default bench/.work/cuda/results)
# Steps: make every build for the GPU's architecture (in parallel); run every tiny golden natively and
# compare with PyTorch's logits (tolerance and top-1 as in test/golden.ts); ViT-B/16's time per kernel
# (vitc_model --profile); check ViT-B/16 in every precision against timm on the same weights; time
# ViT-B/16 at batch 1, 64 and 256 in fp16 and bf16 side by side with timm (SDPA) and torch.compile of it
# (bench/cuda.py).
set -euo pipefail
WORK=bench/.work/cuda
OUT=${1:-$WORK/results}
mkdir -p "$OUT"
[ -d "$WORK/builds" ] || { echo "run.sh: $WORK/builds is missing: run npm run bench:cuda-prep on a vitc machine and carry $WORK" >&2; exit 2; }
nvidia-smi --query-gpu=name,compute_cap,driver_version,clocks.sm,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
CC=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
ARCH=sm_$CC
[ "$CC" = 90 ] && ARCH=sm_90a
nvcc --version | tail -1 | tee -a "$OUT/gpu.txt"
echo "== make (ARCH=$ARCH), $(ls $WORK/builds | wc -l) builds" >&2
t0=$(date +%s)
ls -d $WORK/builds/*/ | xargs -P "$(nproc)" -I{} sh -c 'make -s -C "$1" ARCH="$2" vitc_model >"$1/make.log" 2>&1 || { echo "make failed in $1:"; grep -m1 -i error "$1/make.log"; }' _ {} "$ARCH" | tee "$OUT/make-failures.txt"
echo "== built in $(( $(date +%s) - t0 )) s" >&2
for p in fp16 bf16 fp32 tf32; do make -s -C "$WORK/builds/vit-b16-$p" ARCH="$ARCH" resources > "$OUT/resources-vit-b16-$p.txt" 2>&1 || true; done
echo "== goldens" >&2
python3 bench/gpu/goldens.py "$WORK" | tee "$OUT/goldens.txt"
echo "== where the time goes: ViT-B/16 per kernel (launched one by one)" >&2
for p in fp16 bf16; do for b in 1 256; do
  "$WORK/builds/vit-b16-$p/vitc_model" --random-weights 0 --bench --batch $b --iters 20 --profile > "$OUT/profile-vit-b16-$p-b$b.txt" 2>&1 || echo "profile failed: $p b$b" >&2
done; done
head -3 "$OUT/profile-vit-b16-fp16-b256.txt" || true
echo "== ViT-B/16 against timm, and the benchmark" >&2
python3 bench/cuda.py --work "$WORK" --out "$OUT" | tee "$OUT/bench.txt"
