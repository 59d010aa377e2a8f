// The files of a cuda build besides model.cu: the C API header, the runner, the Makefile and a README.
import type { KernelProgram } from '../../kernel/types.js';
import type { Manifest } from '../manifest.js';

const dims = (shape: readonly (number | string)[]) => shape.slice(1).join(', ');
const numel = (shape: readonly (number | string)[]) => shape.slice(1).reduce<number>((a, d) => a * (d as number), 1);

export function modelH(p: KernelProgram, m: Manifest, maxBatch: number): string {
  const inp = m.inputs[0]!, out = m.outputs[0]!;
  const [, c, h, w] = inp.shape as [string, number, number, number];
  return `/* ${m.spec.name}: the C API of a model compiled by vitc ${m.vitc} (target cuda, precision ${p.precision.name}).
 *
 *   vitc_model* model;
 *   if (vitc_load("weights.safetensors", &model) != VITC_OK) { fprintf(stderr, "%s\\n", vitc_last_error()); ... }
 *   vitc_forward(model, d_input, batch, d_output, stream);   // device pointers: [batch, ${dims(inp.shape)}] -> [batch, ${dims(out.shape)}]
 *   vitc_free(model);
 *
 * Weights are read from safetensors with the model's state-dict names (F32, F16, BF16 or F64), checked by
 * name and shape, converted to ${p.precision.storage} and repacked for the GEMMs at load. Activations live in one
 * arena allocated on the first forward and grown when a larger batch comes (growing synchronizes the
 * device). Each (batch, input, output) is captured once as a CUDA graph and replayed.
 * Functions return VITC_OK or an error code; vitc_last_error() says what went wrong (per thread).
 */
#ifndef VITC_MODEL_H
#define VITC_MODEL_H

#include <stddef.h>
#ifdef VITC_EMULATE
#include "vitc_emu.h"
#else
#include <cuda_runtime.h>
#endif

#define VITC_MODEL_NAME ${JSON.stringify(m.spec.name)}
#define VITC_PRECISION ${JSON.stringify(p.precision.name)}
#define VITC_INPUT_CHANNELS ${c}
#define VITC_INPUT_HEIGHT ${h}
#define VITC_INPUT_WIDTH ${w}
/** Floats per image of the input and of the output. */
#define VITC_INPUT_SIZE ${numel(inp.shape)}
#define VITC_OUTPUT_SIZE ${numel(out.shape)}
#define VITC_INPUT_DIMS ${JSON.stringify(dims(inp.shape))}
#define VITC_OUTPUT_DIMS ${JSON.stringify(dims(out.shape))}
#define VITC_OUTPUT_SHAPE ${dims(out.shape)}
/** The largest batch: element offsets stay within the kernels' 32-bit indices, grids within their limits. */
#define VITC_MAX_BATCH ${maxBatch}

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vitc_status {
  VITC_OK = 0,
  VITC_ERR_IO = 1,        /* the weights file cannot be read */
  VITC_ERR_FORMAT = 2,    /* not a valid safetensors file */
  VITC_ERR_WEIGHTS = 3,   /* a tensor is missing, mis-shaped or of an unsupported dtype (the message names it) */
  VITC_ERR_ARGUMENT = 4,  /* a NULL or misaligned pointer */
  VITC_ERR_BATCH = 5,     /* batch < 1 or > VITC_MAX_BATCH */
  VITC_ERR_CUDA = 6,      /* a CUDA call failed (the message has CUDA's error string) */
  VITC_ERR_MEMORY = 7     /* out of host or device memory */
} vitc_status;

typedef struct vitc_model vitc_model;

/** Load weights from a safetensors file / from safetensors bytes in host memory. */
vitc_status vitc_load(const char* path, vitc_model** model);
vitc_status vitc_load_bytes(const void* data, size_t size, vitc_model** model);

/**
 * Run the model on a batch: input is [batch, ${dims(inp.shape)}] float32 NCHW, output [batch, ${dims(out.shape)}] float32,
 * both device pointers aligned to 16 bytes. Asynchronous on \`stream\` (0 is the default stream).
 */
vitc_status vitc_forward(vitc_model* model, const float* input, int batch, float* output, cudaStream_t stream);

void vitc_free(vitc_model* model);

/** What the last failing call on this thread said, and a name for a status. */
const char* vitc_last_error(void);
const char* vitc_status_name(vitc_status status);

/** Allocate the arena for batches up to max_batch now (instead of on the first forward that needs it). */
vitc_status vitc_reserve(vitc_model* model, int max_batch);
/** Bytes of the activation arena at a batch size. */
size_t vitc_arena_bytes(int batch);
/** Replay a CUDA graph per (batch, input, output) (default 1), or launch kernels one by one (0). */
void vitc_set_graphs(vitc_model* model, int enabled);
/** GEMM tiles: 0 chooses per launch (default), 1 always large, 2 always small. */
void vitc_set_tiles(vitc_model* model, int tiles);
/** The weights the model binds: count, state-dict names, shapes (dims up to 8; returns the rank). */
int vitc_weight_count(void);
const char* vitc_weight_name(int index);
int vitc_weight_shape(int index, long long* dims);
/**
 * Run one forward with the kernels launched one by one and a CUDA event after each; ms[i] gets kernel i's
 * time (ms has vitc_kernel_count() entries). Synchronizes the stream. vitc_kernel_name(i) is
 * "k<i> <function> <spec scope>", as in model.cu's forward.
 */
vitc_status vitc_profile(vitc_model* model, const float* input, int batch, float* output, cudaStream_t stream, float* ms);
int vitc_kernel_count(void);
const char* vitc_kernel_name(int index);

#ifdef __cplusplus
}
#endif

#endif
`;
}

export function makefile(m: Manifest): string {
  return `# ${m.spec.name}: build the model with nvcc. \`make\` builds for Hopper (ARCH=sm_90a);
# \`make ARCH=sm_80\` (A100) or \`make ARCH=sm_89\` (L4, RTX 40) for other GPUs.
# \`make emu VITC_EMU=<vitc>/src/backends/cuda/emu\` builds the same sources for the CPU (slow; for tests).
ARCH ?= sm_90a
NVCC ?= nvcc
NVCCFLAGS ?= -O3 -std=c++17 -lineinfo
GENCODE = -gencode=arch=$(ARCH:sm_%=compute_%),code=$(ARCH)
CXX ?= g++
VITC_EMU ?= ../vitc/src/backends/cuda/emu

all: vitc_model

model.o: model.cu model.h
\t$(NVCC) $(NVCCFLAGS) $(GENCODE) -c model.cu -o model.o

main.o: main.cu model.h
\t$(NVCC) $(NVCCFLAGS) $(GENCODE) -c main.cu -o main.o

vitc_model: model.o main.o
\t$(NVCC) $(GENCODE) model.o main.o -o vitc_model

# registers, spills and shared memory per kernel
resources: model.cu model.h
\t$(NVCC) $(NVCCFLAGS) $(GENCODE) -Xptxas -v -c model.cu -o /dev/null

emu: vitc_model_emu

vitc_model_emu: model.cu main.cu model.h
\t$(CXX) -x c++ -std=c++17 -O1 -DVITC_EMULATE -ffp-contract=off -fno-strict-aliasing -I$(VITC_EMU) -I. model.cu main.cu -o vitc_model_emu

clean:
\trm -f model.o main.o vitc_model vitc_model_emu

.PHONY: all emu resources clean
`;
}

export function readme(p: KernelProgram, m: Manifest, functions: number): string {
  const inp = m.inputs[0]!, out = m.outputs[0]!;
  return `# ${m.spec.name} (CUDA, ${p.precision.name})

Generated by vitc ${m.vitc} from \`${m.spec.name}\` (spec sha256 \`${m.spec.sha256.slice(0, 16)}…\`). Do not edit; regenerate with
\`vitc build SPEC --target cuda --precision ${p.precision.name} -o DIR\`.

| file | what |
|---|---|
| \`model.cu\` | ${p.kernels.length} kernels (${functions} distinct functions), the model's tables, the host runtime, the forward |
| \`model.h\` | the C API: \`vitc_load\`, \`vitc_forward\`, \`vitc_free\`, error codes and \`vitc_last_error\` |
| \`main.cu\` | \`vitc_model\`, a runner: .npy in and out, or a benchmark |
| \`Makefile\` | \`make\` (ARCH=sm_90a), \`make ARCH=sm_80\`, \`make ARCH=sm_89\`, \`make resources\` |
| \`manifest.json\` | what vitc built: spec, precision, weights (names and shapes), input and output |

\`\`\`sh
make                                  # needs nvcc (CUDA 12 or later)
./vitc_model --weights W.safetensors --input x.npy --output y.npy
./vitc_model --weights W.safetensors --bench --batch 64 --iters 200
\`\`\`

Input: float32 NCHW \`[N, ${dims(inp.shape)}]\`, normalized as the spec's preprocess says. Output: \`[N, ${dims(out.shape)}]\`.
Weights: safetensors with timm state-dict names (\`vitc weights SPEC -o W.safetensors\` writes seeded random
ones). Precision ${p.precision.name}: storage ${p.precision.storage}, GEMM math ${p.precision.math}, f32 accumulation and statistics.

Linking into your program: compile \`model.cu\` with nvcc and call the API in \`model.h\` (device pointers
in and out, any stream). vitc's documentation (docs/targets/cuda.md) has the details.
`;
}
