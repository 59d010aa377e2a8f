// vitc_model: run or time the model in model.cu through its C API (vitc_api.h). Written by vitc, the
// same for every model (it asks the API for names and sizes).
//   ./vitc_model --weights W.safetensors --input x.npy --output y.npy
//   ./vitc_model --weights W.safetensors --input x.npy --outputs DIR     (every output: DIR/logits.npy, DIR/features.npy)
//   ./vitc_model --weights W.safetensors --bench --batch 64 --iters 200
#include "vitc_api.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* USAGE =
    "usage: vitc_model --weights W.safetensors --input X.npy (--output Y.npy | --outputs DIR | both)\n"
    "       vitc_model --weights W.safetensors --serve\n"
    "       vitc_model (--weights W.safetensors | --random-weights SEED) --bench [--batch N] [--iters N]\n"
    "\n"
    "Runs %s (%s), compiled by vitc, on the GPU.\n"
    "\n"
    "  --weights W         safetensors with the model's state-dict names (every tensor checked by name and shape)\n"
    "  --random-weights S  seeded uniform random weights instead (for timing only)\n"
    "  --input X           float32 NCHW .npy [N, %s]\n"
    "  --output Y          write the output [N, %s] as float32 .npy\n"
    "  --outputs DIR       write every output of the model (%s) as DIR/NAME.npy; DIR must exist\n"
    "  --serve             load the weights once, then answer requests on stdin, one a line: X.npy, a tab,\n"
    "                      DIR; runs X as --input X --outputs DIR would, and answers \"ok\" or \"error: ...\"\n"
    "                      on stdout (vitc's runner uses this)\n"
    "  --bench             time the forward with CUDA events: median latency and images per second\n"
    "  --batch N           batch size of --bench (default 1)\n"
    "  --iters N           timed iterations of --bench (default 100, after 10 warm-up runs)\n"
    "  --json              --bench prints one JSON line instead of text\n"
    "  --profile           with --bench: also time every kernel (CUDA events between kernels), median over the iterations\n"
    "  --tiles T           GEMM tiles: auto (default), large or small\n"
    "  --no-graph          launch kernels one by one instead of replaying a CUDA graph\n"
    "  -h, --help          this help\n";

static char last_error[2048];
static int serving = 0;  // --serve: errors of a request are answered on stdout, not printed

static int die(const char* fmt, const char* a, const char* b) {
  snprintf(last_error, sizeof last_error, fmt, a, b);
  if (!serving) fprintf(stderr, "vitc_model: error: %s\n", last_error);
  return 1;
}

#define CHECK_CUDA(call)                                                                       \
  do {                                                                                         \
    cudaError_t e_ = (call);                                                                   \
    if (e_ != cudaSuccess) return die("%s: %s", #call, cudaGetErrorString(e_));                \
  } while (0)

#define CHECK_VITC(call)                                                                       \
  do {                                                                                         \
    if ((call) != VITC_OK) return die("%s%s", vitc_last_error(), "");                          \
  } while (0)

// ---- .npy (float32, C order) ----
static float* read_npy(const char* path, long long* shape, int* ndim, char* err, size_t errcap) {
  FILE* f = fopen(path, "rb");
  if (!f) { snprintf(err, errcap, "%s: %s", path, strerror(errno)); return NULL; }
  unsigned char magic[8];
  if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "\x93NUMPY", 6) != 0) { fclose(f); snprintf(err, errcap, "%s: not a .npy file", path); return NULL; }
  unsigned hlen = 0;
  unsigned char lb[4] = {0, 0, 0, 0};
  if (magic[6] == 1) { if (fread(lb, 1, 2, f) != 2) hlen = 0; else hlen = lb[0] | (lb[1] << 8); }
  else { if (fread(lb, 1, 4, f) == 4) hlen = lb[0] | (lb[1] << 8) | (lb[2] << 16) | ((unsigned)lb[3] << 24); }
  char* header = (char*)calloc(hlen + 1, 1);
  if (!header || fread(header, 1, hlen, f) != hlen) { free(header); fclose(f); snprintf(err, errcap, "%s: truncated .npy header", path); return NULL; }
  if (!strstr(header, "'descr': '<f4'")) { free(header); fclose(f); snprintf(err, errcap, "%s: dtype is not float32 ('<f4')", path); return NULL; }
  if (strstr(header, "'fortran_order': True")) { free(header); fclose(f); snprintf(err, errcap, "%s: Fortran-ordered arrays are not supported", path); return NULL; }
  const char* s = strstr(header, "'shape': (");
  *ndim = 0;
  long long n = 1;
  if (s) {
    s += 10;
    while (*s && *s != ')' && *ndim < 8) {
      while (*s == ' ' || *s == ',') s++;
      if (*s == ')') break;
      char* end;
      long long d = strtoll(s, &end, 10);
      if (end == s) break;
      shape[(*ndim)++] = d;
      n *= d;
      s = end;
    }
  }
  free(header);
  float* data = (float*)malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
  if (!data || fread(data, sizeof(float), (size_t)n, f) != (size_t)n) { free(data); fclose(f); snprintf(err, errcap, "%s: truncated data", path); return NULL; }
  fclose(f);
  return data;
}

static int write_npy(const char* path, const float* data, const long long* shape, int ndim) {
  char dims[128] = "";
  size_t at = 0;
  for (int i = 0; i < ndim; i++) at += (size_t)snprintf(dims + at, sizeof dims - at, "%lld,%s", shape[i], i + 1 < ndim ? " " : "");
  if (ndim > 1 && at > 0) dims[at - 1] = 0;  // "(3, 10)" rather than "(3, 10,)"
  char header[256];
  int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims);
  int total = 10 + len + 1;
  int padded = (total + 63) / 64 * 64;
  FILE* f = fopen(path, "wb");
  if (!f) return -1;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)((padded - 10) & 255), (unsigned char)((padded - 10) >> 8)};
  fwrite(pre, 1, 10, f);
  fwrite(header, 1, (size_t)len, f);
  for (int i = total; i < padded; i++) fputc(' ', f);
  fputc('\n', f);
  long long n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  size_t wrote = fwrite(data, sizeof(float), (size_t)n, f);
  return fclose(f) == 0 && wrote == (size_t)n ? 0 : -1;
}

// ---- seeded random weights, as safetensors bytes ----
static unsigned long long rng_state;
static float rng_uniform(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((rng_state >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

static char* random_safetensors(unsigned long long seed, size_t* size) {
  int n = vitc_weight_count();
  size_t hcap = 256 + (size_t)n * 256, hlen = 0, data = 0;
  char* header = (char*)malloc(hcap);
  if (!header) return NULL;
  hlen += (size_t)snprintf(header, hcap, "{");
  for (int i = 0; i < n; i++) {
    long long dims[8];
    int nd = vitc_weight_shape(i, dims);
    long long count = 1;
    for (int d = 0; d < nd; d++) count *= dims[d];
    hlen += (size_t)snprintf(header + hlen, hcap - hlen, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", i ? "," : "", vitc_weight_name(i));
    for (int d = 0; d < nd; d++) hlen += (size_t)snprintf(header + hlen, hcap - hlen, "%s%lld", d ? "," : "", dims[d]);
    hlen += (size_t)snprintf(header + hlen, hcap - hlen, "],\"data_offsets\":[%zu,%zu]}", data, data + (size_t)count * 4);
    data += (size_t)count * 4;
  }
  hlen += (size_t)snprintf(header + hlen, hcap - hlen, "}");
  char* out = (char*)malloc(8 + hlen + data);
  if (!out) { free(header); return NULL; }
  for (int i = 0; i < 8; i++) out[i] = (char)((unsigned long long)hlen >> (8 * i));
  memcpy(out + 8, header, hlen);
  free(header);
  rng_state = seed * 2654435761ULL + 1;
  float* w = (float*)(out + 8 + hlen);
  for (size_t i = 0; i < data / 4; i++) {
    float v = 0.05f * rng_uniform();
    memcpy((char*)w + 4 * i, &v, 4);
  }
  *size = 8 + hlen + data;
  return out;
}

/** "logits [N, 1000], features [N, 768]": every output with its dims after the batch. */
static void outputs_text(char* out, size_t cap) {
  size_t at = 0;
  out[0] = 0;
  for (int i = 0; i < vitc_output_count() && at < cap; i++) {
    long long d[8];
    int n = vitc_output_shape(i, d);
    at += (size_t)snprintf(out + at, cap - at, "%s%s [N", i ? ", " : "", vitc_output_name(i));
    for (int k = 0; k < n && at < cap; k++) at += (size_t)snprintf(out + at, cap - at, ", %lld", d[k]);
    if (at < cap) at += (size_t)snprintf(out + at, cap - at, "]");
  }
}

/** "3, 224, 224" and "1000": the input's and the output's dims after the batch. */
static void dims_text(char* in, size_t incap, char* out, size_t outcap) {
  int c, h, w;
  vitc_input_dims(&c, &h, &w);
  snprintf(in, incap, "%d, %d, %d", c, h, w);
  long long d[8];
  int n = vitc_output_dims(d);
  size_t at = 0;
  out[0] = 0;
  for (int i = 0; i < n && at < outcap; i++) at += (size_t)snprintf(out + at, outcap - at, "%s%lld", i ? ", " : "", d[i]);
}

/** Copy output o ([n, ...] on the device) to the host and write it as .npy; 0, or 1 after saying why. */
static int save_output(const char* path, const float* d, int o, int n) {
  const size_t count = vitc_output_numel(o) * (size_t)n;
  float* y = (float*)malloc(count * sizeof(float) + 1);
  if (!y) return die("out of memory%s%s", "", "");
  cudaError_t e = cudaMemcpy(y, d, count * sizeof(float), cudaMemcpyDeviceToHost);
  if (e != cudaSuccess) { free(y); return die("copying %s to the host: %s", vitc_output_name(o), cudaGetErrorString(e)); }
  long long shape[9] = {n};
  int nd = 1 + vitc_output_shape(o, shape + 1);
  int bad = write_npy(path, y, shape, nd);
  free(y);
  if (bad) return die("%s: cannot write: %s", path, strerror(errno));
  if (!serving) fprintf(stderr, "vitc_model: wrote %s\n", path);
  return 0;
}

/**
 * Run the model on INPUT.npy; write the first output to `output` and every output to OUTPUTS_DIR/NAME.npy
 * (each when given). 0, or 1 after die(). Device buffers are kept and grown, so that repeated requests
 * at one batch size replay one CUDA graph.
 */
static int run_file(vitc_model* model, const char* input, const char* output, const char* outputs_dir) {
  static float* dx = NULL;
  static float* dys[16] = {NULL};
  static int capacity = 0;
  const size_t in_per = vitc_input_size();
  int in_c, in_h, in_w;
  vitc_input_dims(&in_c, &in_h, &in_w);
  char in_dims[64], out_dims[128];
  dims_text(in_dims, sizeof in_dims, out_dims, sizeof out_dims);
  long long shape[8];
  int ndim = 0;
  char err[512];
  float* x = read_npy(input, shape, &ndim, err, sizeof err);
  if (!x) return die("%s%s", err, "");
  if (ndim != 4 || shape[1] != in_c || shape[2] != in_h || shape[3] != in_w || shape[0] < 1) {
    free(x);
    return die("%s: expected a float32 array of shape (N, %s)", input, in_dims);
  }
  int n = (int)shape[0];
  // Every output gets a buffer when --outputs asks for them all; else only the first (vitc_forward).
  const int nout = outputs_dir ? vitc_output_count() : 1;
  if (vitc_output_count() > 16) { free(x); return die("the model has more than 16 outputs%s%s", "", ""); }
  if (n > capacity) {
    cudaFree(dx);
    dx = NULL;
    for (int o = 0; o < 16; o++) { cudaFree(dys[o]); dys[o] = NULL; }
    capacity = 0;
    int ok = cudaMalloc((void**)&dx, in_per * n * sizeof(float)) == cudaSuccess;
    for (int o = 0; ok && o < vitc_output_count(); o++) ok = cudaMalloc((void**)&dys[o], vitc_output_numel(o) * n * sizeof(float)) == cudaSuccess;
    if (!ok) { free(x); return die("%s: out of GPU memory for the batch's input and outputs%s", input, ""); }
    capacity = n;
  }
  cudaError_t copied = cudaMemcpy(dx, x, in_per * n * sizeof(float), cudaMemcpyHostToDevice);
  free(x);
  CHECK_CUDA(copied);
  if (outputs_dir) CHECK_VITC(vitc_forward_all(model, dx, n, dys, 0));
  else CHECK_VITC(vitc_forward(model, dx, n, dys[0], 0));
  CHECK_CUDA(cudaDeviceSynchronize());
  if (output && save_output(output, dys[0], 0, n) != 0) return 1;
  for (int o = 0; outputs_dir && o < nout; o++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", outputs_dir, vitc_output_name(o));
    if (save_output(path, dys[o], o, n) != 0) return 1;
  }
  return 0;
}

static int cmp_float(const void* a, const void* b) {
  float x = *(const float*)a, y = *(const float*)b;
  return x < y ? -1 : x > y;
}

/** A whole decimal integer from lo to hi for option `name`, in *out; 0, or 1 after saying why (atoi took "4x" as 4 and "abc" as 0). */
static int int_option(const char* name, const char* v, long long lo, long long hi, long long* out) {
  char* end = NULL;
  errno = 0;
  const long long n = strtoll(v, &end, 10);
  if (errno || end == v || *end || n < lo || n > hi) {
    char range[96];
    snprintf(range, sizeof range, "an integer from %lld to %lld; got \"%s\"", lo, hi, v);
    return die("%s must be %s", name, range);
  }
  *out = n;
  return 0;
}

int main(int argc, char** argv) {
  const char *weights = NULL, *input = NULL, *output = NULL, *outputs_dir = NULL, *tiles = "auto";
  long long seed = -1, batch_arg = 1, iters_arg = 100;
  int bench = 0, json = 0, graphs = 1, profile = 0, serve = 0, bench_only = 0;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      char in_dims[64], out_dims[128], all[512];
      dims_text(in_dims, sizeof in_dims, out_dims, sizeof out_dims);
      outputs_text(all, sizeof all);
      printf(USAGE, vitc_model_name(), vitc_precision(), in_dims, out_dims, all);
      return 0;
    }
    else if (!strcmp(a, "--bench")) bench = 1;
    else if (!strcmp(a, "--serve")) serve = 1;
    else if (!strcmp(a, "--json")) json = bench_only = 1;
    else if (!strcmp(a, "--profile")) profile = 1;
    else if (!strcmp(a, "--no-graph")) graphs = 0;
    else if (!v) return die("%s needs a value%s", a, "");
    else if (!strcmp(a, "--weights")) weights = argv[++i];
    else if (!strcmp(a, "--random-weights")) { if (int_option(a, argv[++i], 0, 4294967295LL, &seed)) return 1; }
    else if (!strcmp(a, "--input")) input = argv[++i];
    else if (!strcmp(a, "--output")) output = argv[++i];
    else if (!strcmp(a, "--outputs")) outputs_dir = argv[++i];
    else if (!strcmp(a, "--batch")) { if (int_option(a, argv[++i], 1, vitc_max_batch(), &batch_arg)) return 1; bench_only = 1; }
    else if (!strcmp(a, "--iters")) { if (int_option(a, argv[++i], 1, 1000000000, &iters_arg)) return 1; bench_only = 1; }
    else if (!strcmp(a, "--tiles")) tiles = argv[++i];
    else return die("unknown option %s%s (see --help)", a, "");
  }
  // An option that would change nothing is refused, not ignored.
  if (!weights && seed < 0) return die("give --weights W.safetensors (or --random-weights SEED with --bench)%s%s", "", "");
  if (weights && seed >= 0) return die("give --weights or --random-weights, not both%s%s", "", "");
  if (!bench && !serve && !input) return die("give --input X.npy, --serve or --bench%s%s", "", "");
  if (serve && (bench || input || output || outputs_dir)) return die("--serve reads its requests from stdin: no --bench, --input, --output or --outputs with it%s%s", "", "");
  if (bench && (input || output || outputs_dir)) return die("--bench times a batch of random inputs: no --input, --output or --outputs with it%s%s", "", "");
  if (input && !output && !outputs_dir) return die("--input needs --output Y.npy or --outputs DIR: nothing would be written%s%s", "", "");
  if (seed >= 0 && !bench) return die("--random-weights is for timing: it goes with --bench%s%s", "", "");
  if (profile && !bench) return die("--profile goes with --bench%s%s", "", "");
  if (bench_only && !bench) return die("--batch, --iters and --json go with --bench%s%s", "", "");
  const int batch = (int)batch_arg, iters = (int)iters_arg;
  if (strcmp(tiles, "auto") && strcmp(tiles, "large") && strcmp(tiles, "small")) return die("--tiles must be auto, large or small; got %s%s", tiles, "");

  vitc_model* model = NULL;
  if (weights) CHECK_VITC(vitc_load(weights, &model));
  else {
    size_t size = 0;
    char* bytes = random_safetensors((unsigned long long)seed, &size);
    if (!bytes) return die("out of memory%s%s", "", "");
    vitc_status s = vitc_load_bytes(bytes, size, &model);
    free(bytes);
    CHECK_VITC(s);
  }
  vitc_set_graphs(model, graphs);
  vitc_set_tiles(model, !strcmp(tiles, "large") ? 1 : !strcmp(tiles, "small") ? 2 : 0);
  int dev = 0;
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDevice(&dev));
  CHECK_CUDA(cudaGetDeviceProperties(&prop, dev));
  fprintf(stderr, "vitc_model: %s (%s) on %s\n", vitc_model_name(), vitc_precision(), prop.name);
  const size_t in_per = vitc_input_size(), out_per = vitc_output_size();

  if (serve) {
    // One request per line on stdin: INPUT.npy, a tab, OUTPUTS_DIR; one answer per line on stdout.
    serving = 1;
    char line[8192];
    while (fgets(line, sizeof line, stdin)) {
      line[strcspn(line, "\r\n")] = 0;
      char* tab = strchr(line, '\t');
      int bad = 1;
      if (!tab) die("a request is INPUT.npy, a tab, OUTPUTS_DIR; got \"%s\"%s", line, "");
      else {
        *tab = 0;
        bad = run_file(model, line, NULL, tab + 1);
      }
      if (bad) printf("error: %s\n", last_error);
      else printf("ok\n");
      fflush(stdout);
    }
    serving = 0;
  } else if (!bench) {
    if (run_file(model, input, output, outputs_dir)) return 1;
  } else {
    float *dx, *dy;
    CHECK_CUDA(cudaMalloc((void**)&dx, in_per * batch * sizeof(float)));
    CHECK_CUDA(cudaMalloc((void**)&dy, out_per * batch * sizeof(float)));
    float* x = (float*)malloc(in_per * batch * sizeof(float));
    rng_state = 12345;
    for (size_t i = 0; i < in_per * batch; i++) x[i] = rng_uniform();
    CHECK_CUDA(cudaMemcpy(dx, x, in_per * batch * sizeof(float), cudaMemcpyHostToDevice));
    free(x);
    cudaStream_t stream;
    CHECK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    for (int i = 0; i < 10; i++) CHECK_VITC(vitc_forward(model, dx, batch, dy, stream));
    CHECK_CUDA(cudaStreamSynchronize(stream));
    cudaEvent_t* ev = (cudaEvent_t*)malloc(sizeof(cudaEvent_t) * (size_t)(iters + 1));
    for (int i = 0; i <= iters; i++) CHECK_CUDA(cudaEventCreate(&ev[i]));
    CHECK_CUDA(cudaEventRecord(ev[0], stream));
    for (int i = 0; i < iters; i++) {
      CHECK_VITC(vitc_forward(model, dx, batch, dy, stream));
      CHECK_CUDA(cudaEventRecord(ev[i + 1], stream));
    }
    CHECK_CUDA(cudaStreamSynchronize(stream));
    float* ms = (float*)malloc(sizeof(float) * (size_t)iters);
    for (int i = 0; i < iters; i++) CHECK_CUDA(cudaEventElapsedTime(&ms[i], ev[i], ev[i + 1]));
    qsort(ms, (size_t)iters, sizeof(float), cmp_float);
    float med = iters % 2 ? ms[iters / 2] : 0.5f * (ms[iters / 2 - 1] + ms[iters / 2]);
    float p10 = ms[iters / 10], p90 = ms[(iters * 9) / 10 < iters ? (iters * 9) / 10 : iters - 1];
    if (json) {
      printf("{\"model\":\"%s\",\"precision\":\"%s\",\"device\":\"%s\",\"batch\":%d,\"iters\":%d,\"median_ms\":%.4f,\"p10_ms\":%.4f,\"p90_ms\":%.4f,\"img_per_s\":%.1f}\n",
             vitc_model_name(), vitc_precision(), prop.name, batch, iters, med, p10, p90, 1000.0 * batch / med);
    } else {
      printf("%s (%s) on %s: batch %d, %d iterations: median %.3f ms (p10 %.3f, p90 %.3f), %.1f img/s\n",
             vitc_model_name(), vitc_precision(), prop.name, batch, iters, med, p10, p90, 1000.0 * batch / med);
    }
    for (int i = 0; i <= iters; i++) cudaEventDestroy(ev[i]);
    free(ev);
    free(ms);
    if (profile) {
      // Per kernel: the median over the iterations of its time between events, launched one by one.
      const int nk = vitc_kernel_count();
      float* all = (float*)malloc(sizeof(float) * (size_t)nk * (size_t)iters);
      float* one = (float*)malloc(sizeof(float) * (size_t)iters);
      for (int it = 0; it < iters; it++) CHECK_VITC(vitc_profile(model, dx, batch, dy, stream, all + (size_t)it * nk));
      double total = 0;
      float* med_k = (float*)malloc(sizeof(float) * (size_t)nk);
      for (int k = 0; k < nk; k++) {
        for (int it = 0; it < iters; it++) one[it] = all[(size_t)it * nk + k];
        qsort(one, (size_t)iters, sizeof(float), cmp_float);
        med_k[k] = iters % 2 ? one[iters / 2] : 0.5f * (one[iters / 2 - 1] + one[iters / 2]);
        total += med_k[k];
      }
      printf("per kernel (launched one by one, median of %d): %.3f ms in all\n", iters, total);
      for (int k = 0; k < nk; k++) printf("%9.4f ms %5.1f%%  %s\n", med_k[k], 100.0 * med_k[k] / total, vitc_kernel_name(k));
      free(all);
      free(one);
      free(med_k);
    }
    cudaStreamDestroy(stream);
    cudaFree(dx);
    cudaFree(dy);
  }
  vitc_free(model);
  return 0;
}
