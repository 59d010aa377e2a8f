/* vitc_api.h: the C API of a model compiled by vitc's cuda target (the same in every build; model.h
 * includes it and adds the model's sizes). The runner, main.cu, uses only this, so it is the same
 * program for every model.
 */
#ifndef VITC_API_H
#define VITC_API_H

#include <stddef.h>
#ifdef VITC_EMULATE
#include "vitc_emu.h"
#else
#include <cuda_runtime.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vitc_status {
  VITC_OK = 0,
  VITC_ERR_IO = 1,        /* the weights file cannot be read */
  VITC_ERR_FORMAT = 2,    /* not a valid safetensors file */
  VITC_ERR_WEIGHTS = 3,   /* a tensor is missing, mis-shaped or of an unsupported dtype (the message names it) */
  VITC_ERR_ARGUMENT = 4,  /* a NULL or misaligned pointer */
  VITC_ERR_BATCH = 5,     /* batch < 1 or > vitc_max_batch() (VITC_MAX_BATCH in model.h) */
  VITC_ERR_CUDA = 6,      /* a CUDA call failed (the message has CUDA's error string) */
  VITC_ERR_MEMORY = 7     /* out of host or device memory */
} vitc_status;

typedef struct vitc_model vitc_model;

/** Load weights from a safetensors file / from safetensors bytes in host memory. */
vitc_status vitc_load(const char* path, vitc_model** model);
vitc_status vitc_load_bytes(const void* data, size_t size, vitc_model** model);

/**
 * Run the model on a batch: input is [batch, C, H, W] float32 NCHW, output [batch, ...] float32,
 * both device pointers aligned to 16 bytes. Asynchronous on `stream` (0 is the default stream).
 */
vitc_status vitc_forward(vitc_model* model, const float* input, int batch, float* output, cudaStream_t stream);

/**
 * Run the model and write every output it has (a build with --features has two: logits, then features):
 * outputs has vitc_output_count() entries, outputs[i] receives [batch, ...] float32 of output i. Device
 * pointers aligned to 16 bytes that do not overlap; outputs[0] is required, a NULL outputs[i] (i > 0) is
 * computed into the model's own memory and discarded. vitc_forward(m, x, b, y, s) is this with {y, NULL, ...}.
 */
vitc_status vitc_forward_all(vitc_model* model, const float* input, int batch, float* const* outputs, cudaStream_t stream);

void vitc_free(vitc_model* model);

/** What the last failing call on this thread said, and a name for a status. */
const char* vitc_last_error(void);
const char* vitc_status_name(vitc_status status);

/** Allocate the arena for batches up to max_batch now (instead of on the first forward that needs it). */
vitc_status vitc_reserve(vitc_model* model, int max_batch);
/** Bytes of the activation arena at a batch size (with room for the outputs vitc_forward does not return). */
size_t vitc_arena_bytes(int batch);
/** Replay a CUDA graph per (batch, input, outputs) (default 1), or launch kernels one by one (0). */
void vitc_set_graphs(vitc_model* model, int enabled);
/** GEMM tiles: 0 chooses per launch (default), 1 always large, 2 always small. */
void vitc_set_tiles(vitc_model* model, int tiles);
/** What the model is: its name, precision, input [C, H, W], output dims after the batch (up to 8; returns the rank), max batch. */
const char* vitc_model_name(void);
const char* vitc_precision(void);
void vitc_input_dims(int* c, int* h, int* w);
int vitc_output_dims(long long* dims);
size_t vitc_input_size(void);
size_t vitc_output_size(void);
int vitc_max_batch(void);
/** Every output: count (VITC_NUM_OUTPUTS in model.h), names ("logits", "features"), dims after the batch (up to 8; returns the rank), floats per image. */
int vitc_output_count(void);
const char* vitc_output_name(int index);
int vitc_output_shape(int index, long long* dims);
size_t vitc_output_numel(int index);
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
