// The files of a cuda build besides model.cu: the C API header, the runner, the Makefile and a README.
import type { KernelProgram } from '../../kernel/types.js';
import type { Manifest } from '../manifest.js';
import { describePlan, planPreprocess } from '../../image/transforms.js';

const dims = (shape: readonly (number | string)[]) => shape.slice(1).join(', ');
const numel = (shape: readonly (number | string)[]) => shape.slice(1).reduce<number>((a, d) => a * (d as number), 1);

/** An output's name as part of a C macro name: upper case, anything but letters and digits as '_'. */
export function cName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export function modelH(p: KernelProgram, m: Manifest, maxBatch: number): string {
  const inp = m.inputs[0]!, out = m.outputs[0]!;
  const [, c, h, w] = inp.shape as [string, number, number, number];
  return `/* ${m.spec.name}: the C API of a model compiled by vitc ${m.vitc} (target cuda, precision ${p.precision.name}).
 *
 *   vitc_model* model;
 *   if (vitc_load("weights.safetensors", &model) != VITC_OK) { fprintf(stderr, "%s\\n", vitc_last_error()); ... }
 *   vitc_forward(model, d_input, batch, d_output, stream);   // device pointers: [batch, ${dims(inp.shape)}] -> [batch, ${dims(out.shape)}]
 *   vitc_free(model);
${m.outputs.length > 1 ? ` *
 * The model has ${m.outputs.length} outputs: ${m.outputs.map((o, i) => `${i}: ${o.name} [batch, ${dims(o.shape)}]`).join('; ')}.
 * vitc_forward writes the first; vitc_forward_all(model, d_input, batch, d_outputs, stream) writes each
 * outputs[i] that is not NULL (outputs[0] is required).
` : ''} *
 * Weights are read from safetensors with the model's state-dict names (F32, F16, BF16 or F64), checked by
 * name and shape, converted to ${p.precision.storage} and repacked for the GEMMs at load. Activations live in one
 * arena allocated on the first forward and grown when a larger batch comes (growing synchronizes the
 * device). Each (batch, input, outputs) is captured once as a CUDA graph and replayed.
 * Functions return VITC_OK or an error code; vitc_last_error() says what went wrong (per thread).
 */
#ifndef VITC_MODEL_H
#define VITC_MODEL_H

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
/** Every output (vitc_forward_all): how many, and per output its index and floats per image. The first is the one above. */
#define VITC_NUM_OUTPUTS ${m.outputs.length}
${m.outputs.map((o, i) => `#define VITC_OUTPUT_${cName(o.name)} ${i}\n#define VITC_OUTPUT_${cName(o.name)}_SIZE ${numel(o.shape)}`).join('\n')}
/** The largest batch: element offsets stay within the kernels' 32-bit indices, grids within their limits. */
#define VITC_MAX_BATCH ${maxBatch}
/** Bytes of the activation arena: VITC_ARENA_PER_SAMPLE * batch + VITC_ARENA_FIXED (the memory plan; a model
 * with several outputs adds room for those a forward does not return: vitc_arena_bytes(batch) says the total). */
#define VITC_ARENA_PER_SAMPLE ${p.arena.perSample}
#define VITC_ARENA_FIXED ${p.arena.fixed}

#include "vitc_api.h"

#endif
`;
}

export function makefile(m: Manifest): string {
  return `# ${m.spec.name}: build the model with nvcc. \`make\` builds for Hopper (ARCH=sm_90a);
# \`make ARCH=sm_80\` (A100) or \`make ARCH=sm_89\` (L4, RTX 40) for other GPUs.
# \`make emu VITC_EMU=<vitc>/src/backends/cuda/emu\` builds the same sources for the CPU (slow; for tests).
ARCH ?= sm_90a
NVCC ?= nvcc
# The sources need C++17 whatever NVCCFLAGS says (\`make NVCCFLAGS=-G\` for a debug build).
NVCCFLAGS ?= -O3 -lineinfo
NVCC_ALL = -std=c++17 $(NVCCFLAGS)
GENCODE = -gencode=arch=$(ARCH:sm_%=compute_%),code=$(ARCH)
CXX ?= g++
VITC_EMU ?= ../vitc/src/backends/cuda/emu

all: vitc_model

model.o: model.cu model.h vitc_api.h
\t$(NVCC) $(NVCC_ALL) $(GENCODE) -c model.cu -o model.o

main.o: main.cu vitc_api.h
\t$(NVCC) $(NVCC_ALL) $(GENCODE) -c main.cu -o main.o

vitc_model: model.o main.o
\t$(NVCC) $(GENCODE) model.o main.o -o vitc_model

# registers, spills and shared memory per kernel
resources: model.cu model.h vitc_api.h
\t$(NVCC) $(NVCC_ALL) $(GENCODE) -Xptxas -v -c model.cu -o /dev/null

emu: vitc_model_emu

vitc_model_emu: model.cu main.cu model.h vitc_api.h
\t$(CXX) -x c++ -std=c++17 -O1 -DVITC_EMULATE -ffp-contract=off -fno-strict-aliasing -I$(VITC_EMU) -I. model.cu main.cu -o vitc_model_emu

clean:
\trm -f model.o main.o vitc_model vitc_model_emu

.PHONY: all emu resources clean
`;
}

export function readme(p: KernelProgram, m: Manifest, functions: number): string {
  const inp = m.inputs[0]!, out = m.outputs[0]!;
  const [, c, h, w] = inp.shape as [string, number, number, number];
  // The spec is not in the directory: the preprocessing is spelled out from the manifest. A spec whose
  // crop is not the model's size (built for tensors, not photos) has none to spell out.
  const crop = m.preprocess.crop;
  const preprocess = crop !== undefined && (crop !== h || crop !== w)
    ? `which this spec's preprocess cannot make (its crop, ${crop}, is not the model's ${h}x${w})`
    : describePlan(planPreprocess(m.preprocess, [h, w], c));
  return `# ${m.spec.name} (CUDA, ${p.precision.name})

Generated by vitc ${m.vitc} from \`${m.spec.name}\` (spec sha256 \`${m.spec.sha256.slice(0, 16)}…\`). Do not edit; regenerate with
\`vitc build SPEC --target cuda --precision ${p.precision.name} -o DIR\`.

| file | what |
|---|---|
| \`model.cu\` | ${p.kernels.length} kernels (${functions} distinct functions), the model's tables, the host runtime, the forward |
| \`model.h\` | the model's sizes (input, output, largest batch); includes \`vitc_api.h\` |
| \`vitc_api.h\` | the C API: \`vitc_load\`, \`vitc_forward\`, \`vitc_free\`, error codes and \`vitc_last_error\` (the same in every build) |
| \`main.cu\` | \`vitc_model\`, a runner: .npy in and out, or a benchmark |
| \`Makefile\` | \`make\` (ARCH=sm_90a), \`make ARCH=sm_80\`, \`make ARCH=sm_89\`, \`make resources\` |
| \`manifest.json\` | what vitc built: spec, precision, weights (names and shapes), input and output |

\`\`\`sh
make                                  # needs nvcc (CUDA 12 or later)
./vitc_model --weights W.safetensors --input x.npy --output y.npy
./vitc_model --weights W.safetensors --bench --batch 64 --iters 200
\`\`\`

Input: float32 NCHW \`[N, ${dims(inp.shape)}]\` in a .npy (\`np.save\`): photos as torchvision preprocesses them for this model,
${preprocess}. \`vitc run DIR --weights W.safetensors --image photo.jpg\`
does that and runs this directory (built with \`make\` where \`nvidia-smi\` finds a GPU). Output: \`[N, ${dims(out.shape)}]\`.${m.outputs.length > 1 ? `
Every output (\`vitc_forward_all\`; \`./vitc_model ... --outputs DIR\` writes each as DIR/NAME.npy): ${m.outputs.map((o) => `\`${o.name}\` \`[N, ${dims(o.shape)}]\``).join(', ')}.` : ''}
Weights: safetensors with timm state-dict names (\`vitc convert model.pth --spec SPEC -o W.safetensors\` converts a
PyTorch checkpoint; \`vitc weights SPEC -o W.safetensors\` writes seeded random ones). Precision ${p.precision.name}: storage ${p.precision.storage}, GEMM math ${p.precision.math}, f32 accumulation and statistics.

Linking into your program: compile \`model.cu\` with nvcc and call the API in \`model.h\` (device pointers
in and out, any stream). vitc's documentation (docs/targets/cuda.md) has the details.
`;
}
