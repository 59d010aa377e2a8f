#!/usr/bin/env bash
# The cuda target on a real GPU, in one call: build, goldens, benchmark. For a machine with an NVIDIA
# GPU, nvcc, PyTorch and timm, and no node. Prepare on a vitc machine first:
#   npm run bench:cuda-prep          # writes bench/.work/cuda (carry it along with the repository)
# then, from the repository root on the GPU machine:
#   bash bench/gpu/run.sh [OUTDIR]   # OUTDIR gets the logs and results (default bench/.work/cuda/results)
# Steps (STEPS="make goldens sanitize profile bench finetune" by default; a subset runs only those, e.g. when a session
# has to split the work over two calls: the builds stay in bench/.work/cuda/builds between calls):
#   make     make every build for the GPU's architecture (in parallel, ViT-B/16 first), and
#            `make resources` (registers, spills, shared memory per kernel) for ViT-B/16
#   goldens  run every tiny golden natively and compare with PyTorch's logits (tolerance and top-1 as in
#            test/golden.ts)
#   sanitize compute-sanitizer's memcheck, racecheck, synccheck and initcheck, each on a few tiny builds
#            run on their golden's input (SANITIZE_BUILDS, default tiny-base-fp32 tiny-base-fp16
#            tiny-r50-fp16): what the emulation under AddressSanitizer (VITC_CUDA_SANITIZE=1) cannot see,
#            shared-memory races between real warps and reads of device memory nothing wrote
#   profile  ViT-B/16's time per kernel (vitc_model --profile) in fp16 and bf16 at batch 1 and 256
#            (PROFILE_BATCHES="1 256")
#   bench    ViT-B/16 in every precision against timm on the same weights, then timed at batch 1, 64 and
#            256 in fp16 and bf16 side by side with timm (SDPA) and torch.compile of it (bench/cuda.py;
#            BENCH_ARGS passes options, e.g. BENCH_ARGS=--no-compile)
#   finetune vitc finetune -t cuda's backbone: the ViT-B/16 --features builds (fp32, fp16) checked against
#            timm (logits and features), then run as vitc's runner runs them (vitc_model --serve, batches
#            of 16 as .npy files) side by side with timm computing the same features, and the projection
#            for flower_photos (bench/gpu/finetune.py; FINETUNE_ARGS passes options)
# A failing step is reported and the others still run; the exit status is 1 if any step failed.
# VITC_CUDA_WORK overrides bench/.work/cuda; PYTHON names the Python with PyTorch (default python3).
# bench/gpu/dry-run.sh runs this script on a machine without a GPU (vitc's CPU emulation) to check it.
set -uo pipefail
WORK=${VITC_CUDA_WORK:-bench/.work/cuda}
OUT=${1:-$WORK/results}
STEPS=${STEPS:-make goldens sanitize profile bench finetune}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
[ -d "$WORK/builds" ] || { echo "run.sh: $WORK/builds is missing: run npm run bench:cuda-prep on a vitc machine and carry $WORK" >&2; exit 2; }
failed=""
step() { case " $STEPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
fail() { echo "run.sh: step $1 failed" >&2; failed="$failed $1"; }
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 )) s"; }

nvidia-smi --query-gpu=name,compute_cap,driver_version,clocks.sm,clocks.max.sm --format=csv | tee "$OUT/gpu.txt" || { echo "run.sh: nvidia-smi finds no GPU" >&2; exit 2; }
CC=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
ARCH=sm_$CC
[ "$CC" = 90 ] && ARCH=sm_90a
nvcc --version | tail -1 | tee -a "$OUT/gpu.txt"

if step make; then
  # ViT-B/16 first: its builds are the longest, and the later steps need them most.
  builds=$( (ls -d "$WORK"/builds/vit-b16-*/; ls -d "$WORK"/builds/*/ | grep -v '/vit-b16-') )
  echo "== make (ARCH=$ARCH), $(echo "$builds" | wc -l) builds [$(elapsed)]" >&2
  echo "$builds" | xargs -P "$(nproc)" -I{} sh -c 'make -s -C "$1" ARCH="$2" vitc_model >"$1/make.log" 2>&1 || { echo "make failed in $1:"; grep -m1 -i error "$1/make.log"; }' _ {} "$ARCH" | tee "$OUT/make-failures.txt"
  [ -s "$OUT/make-failures.txt" ] && fail make
  for p in fp16 bf16 fp32 tf32; do
    make -s -C "$WORK/builds/vit-b16-$p" ARCH="$ARCH" resources > "$OUT/resources-vit-b16-$p.txt" 2>&1 || fail "resources-$p"
    grep -E '[1-9][0-9]* bytes spill (stores|loads)' "$OUT/resources-vit-b16-$p.txt" | head -3 | sed "s/^/vit-b16-$p spills: /" >&2
  done
  echo "== built [$(elapsed)]" >&2
fi

if step goldens; then
  echo "== goldens [$(elapsed)]" >&2
  "$PYTHON" bench/gpu/goldens.py "$WORK" | tee "$OUT/goldens.txt" || fail goldens
fi

if step sanitize; then
  echo "== compute-sanitizer on tiny builds [$(elapsed)]" >&2
  CS=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  : > "$OUT/sanitize.txt"
  for b in ${SANITIZE_BUILDS:-tiny-base-fp32 tiny-base-fp16 tiny-r50-fp16}; do
    g=${b%-*}
    for tool in memcheck racecheck synccheck initcheck; do
      log="$OUT/sanitize-$b-$tool.txt"
      if "$CS" --tool "$tool" --error-exitcode 1 "$WORK/builds/$b/vitc_model" --weights "$WORK/goldens/$g/weights.safetensors" \
           --input "$WORK/goldens/$g/input.npy" --output "$OUT/sanitize-$b.npy" > "$log" 2>&1; then
        echo "$b $tool: clean" | tee -a "$OUT/sanitize.txt"
      else
        echo "$b $tool: FAILED: $(grep -m1 -E 'Invalid|Race|Barrier|Uninitialized|ERROR|rror' "$log")" | tee -a "$OUT/sanitize.txt"
        fail "sanitize-$b-$tool"
      fi
    done
  done
fi

if step profile; then
  echo "== where the time goes: ViT-B/16 per kernel (launched one by one) [$(elapsed)]" >&2
  for p in fp16 bf16; do for b in ${PROFILE_BATCHES:-1 256}; do
    "$WORK/builds/vit-b16-$p/vitc_model" --random-weights 0 --bench --batch $b --iters 20 --profile > "$OUT/profile-vit-b16-$p-b$b.txt" 2>&1 || fail "profile-$p-b$b"
  done; done
  for b in ${PROFILE_BATCHES:-1 256}; do head -3 "$OUT/profile-vit-b16-fp16-b$b.txt"; done || true
fi

if step bench; then
  echo "== ViT-B/16 against timm, and the benchmark [$(elapsed)]" >&2
  # shellcheck disable=SC2086
  "$PYTHON" bench/cuda.py --work "$WORK" --out "$OUT" ${BENCH_ARGS:-} | tee "$OUT/bench.txt" || fail bench
fi

if step finetune; then
  echo "== vitc finetune -t cuda's backbone: ViT-B/16 features against timm [$(elapsed)]" >&2
  # shellcheck disable=SC2086
  "$PYTHON" bench/gpu/finetune.py --work "$WORK" --out "$OUT" ${FINETUNE_ARGS:-} | tee "$OUT/finetune.txt" || fail finetune
fi

echo "== done [$(elapsed)]; results in $OUT${failed:+; failed:$failed}" >&2
[ -z "$failed" ]
