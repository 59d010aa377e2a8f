/* The fp32 multiply-add peak of one core: 12 independent chains of fused multiply-adds on the widest
 * vectors -march=native gives (GCC vector extensions, no intrinsics), so neither latency nor memory
 * limits it. Prints GMAC/s (one MAC = one lane of one FMA). Used by bench/onnx.mjs. */
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX__)
#define LANES 8
#else
#define LANES 4
#endif
typedef float vec __attribute__((vector_size(LANES * 4)));
#define CHAINS 12

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  vec acc[CHAINS], b, c;
  for (int l = 0; l < LANES; l++) { b[l] = 1.0000001f; c[l] = 1e-7f; }
  for (int i = 0; i < CHAINS; i++) for (int l = 0; l < LANES; l++) acc[i][l] = (float)i;
  const long iters = 50000000L;
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now();
    for (long it = 0; it < iters; it++)
#pragma GCC unroll 12
      for (int i = 0; i < CHAINS; i++) acc[i] = acc[i] * b + c;
    double t = now() - t0;
    if (t < best) best = t;
  }
  float sink = 0;
  for (int i = 0; i < CHAINS; i++) sink += acc[i][0];
  printf("%.2f %d %g\n", (double)iters * CHAINS * LANES / best / 1e9, LANES, (double)sink);
  return 0;
}
