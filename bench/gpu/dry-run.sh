#!/usr/bin/env bash
# Check bench/gpu/run.sh end to end on a machine without a GPU, nvcc or timm: every step runs, on a
# small selection of the prepared builds, with stand-ins from bench/gpu/dry/ on PATH and PYTHONPATH:
#   nvidia-smi  reports an sm_90 device;
#   nvcc        compiles the Makefile's command lines with g++ against vitc's CPU emulation, so the
#               goldens really run (model.cu under the emulation) and are checked by goldens.py;
#   compute-sanitizer  drops its options and runs the program, so the sanitize step runs (it checks nothing);
#   timm        vitc's PyTorch reference of tiny-base (tools/golden), torch.cuda on the CPU: cuda.py's
#               correctness check and timing loop run; the times mean nothing.
# The dry run's vit-b16-* builds are copies of the tiny-base builds (ViT-B/16 is far too slow under the
# emulation). Needs bench/.work/cuda from `npm run bench:cuda-prep`, g++ and Debian's python3-torch.
#   bash bench/gpu/dry-run.sh [DIR]     # DIR: the dry run's work folder (default bench/.work/cuda-dry)
set -euo pipefail
SRC=bench/.work/cuda
DRY=${1:-bench/.work/cuda-dry}
[ -f "$SRC/goldens.json" ] || { echo "dry-run.sh: $SRC is missing: run npm run bench:cuda-prep first" >&2; exit 2; }
rm -rf "$DRY" && mkdir -p "$DRY/builds" "$DRY/goldens"
GOLDENS="tiny-base tiny-r50"
for g in $GOLDENS; do
  cp -r "$SRC/goldens/$g" "$DRY/goldens/"
  for p in fp32 tf32 fp16 bf16; do cp -r "$SRC/builds/$g-$p" "$DRY/builds/"; done
done
for p in fp32 tf32 fp16 bf16; do cp -r "$SRC/builds/tiny-base-$p" "$DRY/builds/vit-b16-$p"; done
for p in fp32 fp16; do cp -r "$SRC/builds/tiny-base-features-$p" "$DRY/builds/vit-b16-features-$p"; done
/usr/bin/python3 - "$SRC/goldens.json" "$DRY/goldens.json" $GOLDENS <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["golden"] in sys.argv[3:]]
json.dump(rows, open(sys.argv[2], "w"), indent=2)
PY
here=$(cd "$(dirname "$0")" && pwd)
# Half-precision convolutions do not run on PyTorch's CPU, so the timing loop runs bf16 only; --iters 2
# and batches 1 and 2 keep the emulation's share short; the finetune step likewise runs fp32 only, on
# two requests of two images.
PATH="$here/dry/bin:$PATH" PYTHONPATH="$here/dry/py${PYTHONPATH:+:$PYTHONPATH}" PYTHON=/usr/bin/python3 \
  VITC_CUDA_WORK="$DRY" PROFILE_BATCHES=1 BENCH_ARGS="--batches 1,2 --rounds 2 --iters 2 --precisions bf16" \
  FINETUNE_ARGS="--precisions fp32 --rounds 2 --requests 2 --batch 2" \
  bash bench/gpu/run.sh "$DRY/results"
