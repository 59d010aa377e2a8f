// vitc_emu.h: run the CUDA C++ that vitc generates on the CPU, for tests on machines without a GPU.
//
// Compile the very same model.cu with g++:  g++ -x c++ -std=c++17 -DVITC_EMULATE -I<this dir> ...
// - Blocks run one after another; the threads of a block run as fibers on one OS thread, switched
//   at __syncthreads() and at warp-collective operations (shuffles, ldmatrix, mma).
// - __shared__ is `static`: one copy per kernel, shared by the block that is running, and filled
//   with NaN bytes before each block (device memory from cudaMalloc too), as a GPU leaves both holding
//   garbage: a read of what nothing wrote shows up in the results.
// - Warp collectives exchange values through a double-buffered slot array per warp: every lane
//   publishes its operands, the last lane to arrive computes the result for the whole warp, and each
//   lane takes its part. mma/ldmatrix follow the PTX ISA fragment layouts exactly, so a kernel that
//   assumes a wrong layout computes wrong numbers here as it would on a GPU.
// - cp.async copies are queued per thread and done at cp.async.wait_group, as late as the hardware
//   may do them, so a missing wait or barrier shows up as wrong results.
// - A warp collective that not every lane of the warp reaches, or a barrier that can never be
//   passed, aborts with "deadlock" instead of hanging.
// - Other legal schedules, for hunting races (read when the first kernel runs; a race-free kernel
//   gives bit-identical results in all of them): VITC_EMU_SCHEDULE=reverse runs the blocks of a
//   grid and the threads of a block last to first; =warps runs each warp of a block as far as it
//   can get before the next one, so a warp races ahead of the others to the next barrier;
//   =warps-reverse both. VITC_EMU_COPIES=eager does each cp.async copy when it is issued, as early
//   as the hardware may, where the default does it as late as it may; a shared-memory buffer
//   overwritten by the next tile's copies while other warps still read it then shows up.
// Host API: the subset of the CUDA runtime that vitc's host code uses, over malloc; streams are
// synchronous, CUDA graphs record launches and replay them, events read a monotonic clock.
#pragma once
#ifndef VITC_EMULATE
#error "vitc_emu.h is the CPU emulation of CUDA: compile with -DVITC_EMULATE"
#endif
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// ---- CUDA keywords ----
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
// Every __shared__ array lives in one section, filled with 0xff bytes (NaN) before each block runs:
// on a GPU a block's shared memory starts as garbage, so a kernel that reads an element no thread of
// the block wrote computes NaN here instead of what an earlier block left.
#define __shared__ static __attribute__((section("vitc_shared")))
extern "C" char __start_vitc_shared[] __attribute__((weak));
extern "C" char __stop_vitc_shared[] __attribute__((weak));
#define __align__(n) __attribute__((aligned(n)))

struct dim3 {
  unsigned x, y, z;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// ---- half and bfloat16 (storage types; arithmetic is done in float) ----
struct __half { unsigned short x; };
struct __nv_bfloat16 { unsigned short x; };

inline unsigned int vitc_emu_f2u(float f) { unsigned int u; memcpy(&u, &f, 4); return u; }
inline float vitc_emu_u2f(unsigned int u) { float f; memcpy(&f, &u, 4); return f; }

inline float __half2float(__half h) {
  unsigned int s = (unsigned int)(h.x & 0x8000u) << 16, e = (h.x >> 10) & 0x1fu, m = h.x & 0x3ffu;
  if (e == 0x1f) return vitc_emu_u2f(s | 0x7f800000u | (m << 13));
  if (e == 0) {
    if (m == 0) return vitc_emu_u2f(s);
    float v = (float)m * (1.0f / 16777216.0f);  // m * 2^-24
    return s ? -v : v;
  }
  return vitc_emu_u2f(s | ((e + 112u) << 23) | (m << 13));
}

/** float -> half, round to nearest even, overflow to infinity. */
inline __half __float2half_rn(float f) {
  unsigned int u = vitc_emu_f2u(f), s = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  __half h;
  if (a >= 0x7f800000u) { h.x = (unsigned short)(s | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u)); return h; }
  if (a >= 0x477ff000u) { h.x = (unsigned short)(s | 0x7c00u); return h; }  // >= 65520 rounds to inf
  if (a < 0x38800000u) {  // subnormal half (|f| < 2^-14): round f * 2^24 to an integer, ties to even
    float v = vitc_emu_u2f(a) * 16777216.0f;
    float r = nearbyintf(v);  // default rounding mode: to nearest even
    h.x = (unsigned short)(s | (unsigned int)r);
    return h;
  }
  unsigned int mant = a & 0x7fffffu, exp = (a >> 23) - 112u;
  unsigned int bits = (exp << 10) | (mant >> 13), rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (bits & 1u))) bits++;
  h.x = (unsigned short)(s | bits);
  return h;
}

inline float __bfloat162float(__nv_bfloat16 b) { return vitc_emu_u2f((unsigned int)b.x << 16); }

/** float -> bfloat16, round to nearest even; NaN stays NaN. */
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  unsigned int u = vitc_emu_f2u(f);
  __nv_bfloat16 b;
  if ((u & 0x7fffffffu) > 0x7f800000u) { b.x = (unsigned short)((u >> 16) | 0x40u); return b; }
  u += 0x7fffu + ((u >> 16) & 1u);
  b.x = (unsigned short)(u >> 16);
  return b;
}

inline unsigned short __half_as_ushort(__half h) { return h.x; }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.x; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline unsigned int __float_as_uint(float f) { return vitc_emu_f2u(f); }
inline float __uint_as_float(unsigned int u) { return vitc_emu_u2f(u); }

// ---- fibers ----
namespace vitc_emu {

[[noreturn]] inline void die(const char* what) {
  fprintf(stderr, "vitc emulation: %s\n", what);
  fflush(stderr);
  abort();
}

constexpr int kMaxThreads = 1024;
constexpr size_t kStack = 64 * 1024;
constexpr int kMaxPending = 64;

struct PendingCopy { void* dst; const void* src; int bytes, src_bytes; unsigned group; };

struct Fiber {
  void* sp;
  int done;
  dim3 tid;
  unsigned lin, lane, warp;
  unsigned phase;  // this lane's slot buffer for its next warp collective
  PendingCopy pending[kMaxPending];
  int npending;
  unsigned groups;  // cp.async groups committed so far
};

/** A warp collective's per-lane operands and results (double-buffered by phase). */
struct Slot {
  int kind;
  const void* ptr;
  uint32_t u[8];
  float f[4];
};

struct Warp {
  unsigned count, gen, alive;
  Slot in[2][32], out[2][32];
};

inline Fiber* fibers;
inline char* stacks;
inline int nfibers;
inline Fiber* cur;
inline void* sched_sp;
inline dim3 block_idx, block_dim, grid_dim;
inline unsigned bar_count, bar_gen, live;
inline unsigned long long events;
inline Warp warps[kMaxThreads / 32];
inline void (*body)(void*);
inline void* body_obj;

}  // namespace vitc_emu

#define threadIdx (vitc_emu::cur->tid)
#define blockIdx (vitc_emu::block_idx)
#define blockDim (vitc_emu::block_dim)
#define gridDim (vitc_emu::grid_dim)

extern "C" void vitc_emu_switch(void** save_sp, void* to_sp);

#if defined(__x86_64__)
// Save the callee-saved registers on the current stack, store its pointer, switch to another stack
// and restore that one's registers: a context switch of ~50 ns (swapcontext makes a system call).
__asm__(
    ".text\n"
    ".weak vitc_emu_switch\n"
    ".type vitc_emu_switch,@function\n"
    "vitc_emu_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  subq $8, %rsp\n  stmxcsr (%rsp)\n  fnstcw 4(%rsp)\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  ldmxcsr (%rsp)\n  fldcw 4(%rsp)\n  addq $8, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size vitc_emu_switch, .-vitc_emu_switch\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n"
    ".weak vitc_emu_switch\n"
    ".type vitc_emu_switch,%function\n"
    "vitc_emu_switch:\n"
    "  sub sp, sp, #176\n"
    "  stp x19, x20, [sp, #0]\n  stp x21, x22, [sp, #16]\n  stp x23, x24, [sp, #32]\n"
    "  stp x25, x26, [sp, #48]\n  stp x27, x28, [sp, #64]\n  stp x29, x30, [sp, #80]\n"
    "  stp d8, d9, [sp, #96]\n  stp d10, d11, [sp, #112]\n  stp d12, d13, [sp, #128]\n  stp d14, d15, [sp, #144]\n"
    "  mov x9, sp\n  str x9, [x0]\n  mov sp, x1\n"
    "  ldp x19, x20, [sp, #0]\n  ldp x21, x22, [sp, #16]\n  ldp x23, x24, [sp, #32]\n"
    "  ldp x25, x26, [sp, #48]\n  ldp x27, x28, [sp, #64]\n  ldp x29, x30, [sp, #80]\n"
    "  ldp d8, d9, [sp, #96]\n  ldp d10, d11, [sp, #112]\n  ldp d12, d13, [sp, #128]\n  ldp d14, d15, [sp, #144]\n"
    "  add sp, sp, #176\n"
    "  ret\n"
    ".size vitc_emu_switch, .-vitc_emu_switch\n");
#else
#error "vitc_emu.h has a context switch for x86-64 and aarch64 only"
#endif

namespace vitc_emu {

inline void yield() { vitc_emu_switch(&cur->sp, sched_sp); }

[[noreturn]] inline void fiber_main() {
  body(body_obj);
  Fiber* f = cur;
  if (f->npending) die("a thread exited with cp.async copies it never waited for");
  f->done = 1;
  live--;
  events++;
  Warp& w = warps[f->warp];
  w.alive--;
  if (w.count) die("deadlock: a lane exited while the rest of its warp waits in a warp-collective operation");
  if (bar_count && bar_count == live) { bar_count = 0; bar_gen++; }
  vitc_emu_switch(&f->sp, sched_sp);
  die("a finished fiber was resumed");
}

/** A fresh stack that starts in fiber_main when switched to. */
inline void* fresh_stack(char* stack) {
  uintptr_t top = ((uintptr_t)(stack + kStack)) & ~(uintptr_t)15;
#if defined(__x86_64__)
  uint64_t* sp = (uint64_t*)top;
  *--sp = 0;                        // fiber_main's return address (it never returns)
  *--sp = (uint64_t)&fiber_main;    // where `ret` goes
  for (int i = 0; i < 6; i++) *--sp = 0;  // rbp rbx r12 r13 r14 r15
  *--sp = 0;
  uint32_t mx, cw = 0;
  __asm__ volatile("stmxcsr %0" : "=m"(mx));
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  ((uint32_t*)sp)[0] = mx;
  ((uint32_t*)sp)[1] = cw;
  return sp;
#else
  uint64_t* sp = (uint64_t*)(top - 176);
  memset(sp, 0, 176);
  sp[11] = (uint64_t)&fiber_main;  // x30 (link register): where `ret` goes
  return sp;
#endif
}

/** Which of `choices` the environment variable `name` names (unset or empty: the first); dies with `usage` on anything else. */
template <int N>
inline int env_choice(const char* name, const char* const (&choices)[N], const char* usage) {
  const char* v = getenv(name);
  if (!v || !*v) return 0;
  for (int i = 0; i < N; i++)
    if (!strcmp(v, choices[i])) return i;
  die(usage);
}

/** VITC_EMU_SCHEDULE: bit 0 last to first, bit 1 each warp as far as it gets before the next. */
enum { kReverse = 1, kWarps = 2 };
inline int schedule() {
  static const char* const names[] = {"forward", "reverse", "warps", "warps-reverse"};  // index = kReverse/kWarps bits
  static const int mode = env_choice("VITC_EMU_SCHEDULE", names, "VITC_EMU_SCHEDULE must be forward, reverse, warps or warps-reverse");
  return mode;
}

inline void run_block(unsigned nthreads) {
  if (nthreads > (unsigned)kMaxThreads) die("block larger than 1024 threads");
  if (nthreads % 32) die("vitc kernels use whole warps: blockDim is not a multiple of 32");
  if (__start_vitc_shared) memset(__start_vitc_shared, 0xff, (size_t)(__stop_vitc_shared - __start_vitc_shared));
  if ((int)nthreads > nfibers) {
    free(fibers);
    free(stacks);
    fibers = (Fiber*)calloc(nthreads, sizeof(Fiber));
    stacks = (char*)malloc(kStack * nthreads);
    if (!fibers || !stacks) die("out of memory for fiber stacks");
    nfibers = (int)nthreads;
  }
  for (unsigned i = 0; i < nthreads; i++) {
    Fiber& f = fibers[i];
    f.sp = fresh_stack(stacks + kStack * i);
    f.done = 0;
    f.lin = i;
    f.tid = dim3(i % block_dim.x, (i / block_dim.x) % block_dim.y, i / (block_dim.x * block_dim.y));
    f.lane = i & 31;
    f.warp = i >> 5;
    f.phase = 0;
    f.npending = 0;
    f.groups = 0;
  }
  for (unsigned w = 0; w < nthreads / 32; w++) { warps[w].count = 0; warps[w].alive = 32; }
  bar_count = 0;
  live = nthreads;
  const bool reverse = schedule() & kReverse, by_warp = schedule() & kWarps;
  const unsigned nwarps = nthreads / 32;
  for (;;) {
    unsigned long long before = events;
    for (unsigned kw = 0; kw < nwarps; kw++) {
      const unsigned w = reverse ? nwarps - 1 - kw : kw;
      for (;;) {
        const unsigned long long warp_before = events;
        for (unsigned kl = 0; kl < 32; kl++) {
          const unsigned i = w * 32 + (reverse ? 31 - kl : kl);
          if (fibers[i].done) continue;
          cur = &fibers[i];
          vitc_emu_switch(&sched_sp, fibers[i].sp);
        }
        if (!by_warp || events == warp_before) break;
      }
    }
    cur = nullptr;
    if (live == 0) return;
    if (events == before) die("deadlock: no thread of the block can make progress (a barrier or warp collective that some threads never reach)");
  }
}

template <class F>
void call_body(void* obj) { (*(F*)obj)(); }

/** Run a kernel: every block in order, each block's threads as fibers. */
template <class F>
void run_grid(dim3 grid, dim3 block, F& f) {
  grid_dim = grid;
  block_dim = block;
  body = &call_body<F>;
  body_obj = &f;
  const unsigned n = block.x * block.y * block.z;
  const unsigned long long blocks = (unsigned long long)grid.x * grid.y * grid.z;
  const bool reverse = schedule() & kReverse;
  for (unsigned long long k = 0; k < blocks; k++) {
    const unsigned long long b = reverse ? blocks - 1 - k : k;
    block_idx = dim3((unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / ((unsigned long long)grid.x * grid.y)));
    run_block(n);
  }
}

// ---- block barrier ----
inline void syncthreads() {
  unsigned gen = bar_gen;
  events++;
  if (++bar_count == live) { bar_count = 0; bar_gen++; return; }
  while (bar_gen == gen) yield();
}

// ---- warp collectives ----
enum { kShfl = 1, kLdm = 2, kMma = 3 };

/**
 * Publish this lane's slot, wait for the whole warp; the last lane to arrive runs `compute` over all
 * 32 input slots into the output slots. Returns this lane's output slot.
 */
inline const Slot& collective(const Slot& mine, void (*compute)(const Slot* in, Slot* out)) {
  Fiber* f = cur;
  Warp& w = warps[f->warp];
  unsigned ph = f->phase;
  f->phase ^= 1u;
  w.in[ph][f->lane] = mine;
  unsigned gen = w.gen;
  events++;
  if (w.alive != 32) die("deadlock: a warp-collective operation in a warp where some lanes have exited");
  if (++w.count == 32) {
    for (int l = 1; l < 32; l++)
      if (w.in[ph][l].kind != w.in[ph][0].kind) die("lanes of one warp are in different warp-collective operations (divergence)");
    compute(w.in[ph], w.out[ph]);
    w.count = 0;
    w.gen++;
  } else {
    while (w.gen == gen) yield();
  }
  return w.out[ph][f->lane];
}

// shuffles: u[0] value bits, u[1] mode (0 idx, 1 xor, 2 down, 3 up), u[2] operand, u[3] width
inline void shfl_compute(const Slot* in, Slot* out) {
  for (int l = 0; l < 32; l++) {
    unsigned mode = in[l].u[1], arg = in[l].u[2], width = in[l].u[3];
    unsigned seg = (unsigned)l & ~(width - 1u), src;
    switch (mode) {
      case 0: src = seg + (arg & (width - 1u)); break;
      case 1: src = (unsigned)l ^ arg; if (src >= seg + width) src = (unsigned)l; break;
      case 2: src = (unsigned)l + arg; if (src >= seg + width) src = (unsigned)l; break;
      default: src = (unsigned)l - arg; if ((int)src < (int)seg) src = (unsigned)l; break;
    }
    out[l].u[0] = in[src & 31].u[0];
  }
}

template <class T>
T shfl(unsigned mask, T v, unsigned mode, int arg, int width) {
  static_assert(sizeof(T) == 4, "vitc emulation shuffles 4-byte values");
  if (mask != 0xffffffffu) die("vitc emulation supports full-warp shuffles only");
  if (width < 1 || width > 32 || (width & (width - 1))) die("shuffle width must be a power of two up to 32");
  Slot s;
  s.kind = kShfl;
  memcpy(&s.u[0], &v, 4);
  s.u[1] = mode;
  s.u[2] = (unsigned)arg;
  s.u[3] = (unsigned)width;
  const Slot& r = collective(s, shfl_compute);
  T out;
  memcpy(&out, &r.u[0], 4);
  return out;
}

// ldmatrix: ptr = this lane's row address, u[0] = number of matrices, u[1] = transposed
inline void ldmatrix_compute(const Slot* in, Slot* out) {
  unsigned num = in[0].u[0], trans = in[0].u[1];
  for (int l = 0; l < 32; l++) {
    for (unsigned j = 0; j < num; j++) {
      uint16_t e[2];
      for (int i = 0; i < 2; i++) {
        // Matrix j's rows come from lanes 8j..8j+7. Lane l holds row l/4, columns 2(l%4)+i;
        // transposed, it holds column l/4 of rows 2(l%4)+i.
        unsigned row = trans ? 2u * (l & 3) + i : (unsigned)l >> 2;
        unsigned col = trans ? (unsigned)l >> 2 : 2u * (l & 3) + i;
        const uint16_t* p = (const uint16_t*)in[8 * j + row].ptr;
        e[i] = p[col];
      }
      out[l].u[j] = (uint32_t)e[0] | ((uint32_t)e[1] << 16);
    }
  }
}

inline void ldmatrix(uint32_t* r, const void* row_addr, unsigned num, unsigned trans) {
  Slot s;
  s.kind = kLdm + (int)(num << 4) + (int)(trans << 8);
  s.ptr = row_addr;
  s.u[0] = num;
  s.u[1] = trans;
  if (cur->lane < 8 * num && ((uintptr_t)row_addr & 15u)) die("ldmatrix: a row address is not 16-byte aligned");
  const Slot& o = collective(s, ldmatrix_compute);
  for (unsigned j = 0; j < num; j++) r[j] = o.u[j];
}

// mma: u[0..3] A registers, u[4..5] B registers, f[0..3] C, u[6] element type (0 f16, 1 bf16, 2 tf32)
inline float elem16(uint32_t reg, int hi, unsigned type) {
  uint16_t h = (uint16_t)(hi ? reg >> 16 : reg & 0xffffu);
  if (type == 1) { __nv_bfloat16 b; b.x = h; return __bfloat162float(b); }
  __half x; x.x = h;
  return __half2float(x);
}

/** The tensor cores read only a tf32's 19 high bits. */
inline float elem_tf32(uint32_t reg) { return vitc_emu_u2f(reg & 0xffffe000u); }

inline void mma_compute(const Slot* in, Slot* out) {
  unsigned type = in[0].u[6];
  const int K = type == 2 ? 8 : 16;
  float A[16][16], Bm[16][8], C[16][8];
  for (int l = 0; l < 32; l++) {
    int g = l >> 2, t = l & 3;
    if (type == 2) {
      // m16n8k8 tf32: a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4); b0 (k=t, n=g), b1 (k=t+4, n=g)
      for (int i = 0; i < 4; i++) A[g + 8 * (i & 1)][t + 4 * (i >> 1)] = elem_tf32(in[l].u[i]);
      for (int i = 0; i < 2; i++) Bm[t + 4 * i][g] = elem_tf32(in[l].u[4 + i]);
    } else {
      // m16n8k16 f16/bf16: element e of A (register e/2, low half when e is even) is at
      // row g + 8((e>>1)&1), column 2t + (e&1) + 8(e>>2); element e of B at k = 2t + (e&1) + 8(e>>1), n = g
      for (int e = 0; e < 8; e++) A[g + 8 * ((e >> 1) & 1)][2 * t + (e & 1) + 8 * (e >> 2)] = elem16(in[l].u[e >> 1], e & 1, type);
      for (int e = 0; e < 4; e++) Bm[2 * t + (e & 1) + 8 * (e >> 1)][g] = elem16(in[l].u[4 + (e >> 1)], e & 1, type);
    }
    // C/D: element i at row g + 8(i>>1), column 2t + (i&1)
    for (int i = 0; i < 4; i++) C[g + 8 * (i >> 1)][2 * t + (i & 1)] = in[l].f[i];
  }
  for (int l = 0; l < 32; l++) {
    int g = l >> 2, t = l & 3;
    for (int i = 0; i < 4; i++) {
      int r = g + 8 * (i >> 1), c = 2 * t + (i & 1);
      float s = C[r][c];
      for (int k = 0; k < K; k++) s = fmaf(A[r][k], Bm[k][c], s);
      out[l].f[i] = s;
    }
  }
}

inline void mma(float* c, const uint32_t* a, const uint32_t* b, unsigned type) {
  Slot s;
  s.kind = kMma + (int)(type << 4);
  for (int i = 0; i < 4; i++) { s.u[i] = a[i]; s.f[i] = c[i]; }
  s.u[4] = b[0];
  s.u[5] = b[1];
  s.u[6] = type;
  const Slot& o = collective(s, mma_compute);
  for (int i = 0; i < 4; i++) c[i] = o.f[i];
}

// ---- cp.async ----
/** Whether VITC_EMU_COPIES=eager asks for cp.async copies done when issued. */
inline bool eager_copies() {
  static const char* const names[] = {"late", "eager"};
  static const bool eager = env_choice("VITC_EMU_COPIES", names, "VITC_EMU_COPIES must be late or eager") == 1;
  return eager;
}

inline void cp_async(void* dst, const void* src, int bytes, int src_bytes) {
  Fiber* f = cur;
  if (((uintptr_t)dst | (uintptr_t)src) & (uintptr_t)(bytes - 1)) die("cp.async: an address is not aligned to the copy size");
  if (eager_copies()) {
    memcpy(dst, src, (size_t)src_bytes);
    memset((char*)dst + src_bytes, 0, (size_t)(bytes - src_bytes));
    return;
  }
  if (f->npending == kMaxPending) die("too many cp.async copies in flight in one thread");
  f->pending[f->npending++] = PendingCopy{dst, src, bytes, src_bytes, f->groups};
}

inline void cp_async_commit() { cur->groups++; }

/** Complete every copy except those of the newest `n` committed groups (and of the open group). */
inline void cp_async_wait(unsigned n) {
  Fiber* f = cur;
  unsigned limit = f->groups >= n ? f->groups - n : 0;
  int keep = 0;
  for (int i = 0; i < f->npending; i++) {
    PendingCopy& p = f->pending[i];
    if (p.group < limit) {
      memcpy(p.dst, p.src, (size_t)p.src_bytes);
      memset((char*)p.dst + p.src_bytes, 0, (size_t)(p.bytes - p.src_bytes));
    } else {
      f->pending[keep++] = p;
    }
  }
  f->npending = keep;
}

}  // namespace vitc_emu

inline void __syncthreads() { vitc_emu::syncthreads(); }
template <class T> T __shfl_sync(unsigned mask, T v, int src, int width = 32) { return vitc_emu::shfl(mask, v, 0, src, width); }
template <class T> T __shfl_xor_sync(unsigned mask, T v, int m, int width = 32) { return vitc_emu::shfl(mask, v, 1, m, width); }
template <class T> T __shfl_down_sync(unsigned mask, T v, unsigned d, int width = 32) { return vitc_emu::shfl(mask, v, 2, (int)d, width); }
template <class T> T __shfl_up_sync(unsigned mask, T v, unsigned d, int width = 32) { return vitc_emu::shfl(mask, v, 3, (int)d, width); }

// The tensor-core and async-copy wrappers that vitc's generated code calls (inline PTX on a GPU).
inline void vitc_mma_f16(float* c, const uint32_t* a, const uint32_t* b) { vitc_emu::mma(c, a, b, 0); }
inline void vitc_mma_bf16(float* c, const uint32_t* a, const uint32_t* b) { vitc_emu::mma(c, a, b, 1); }
inline void vitc_mma_tf32(float* c, const uint32_t* a, const uint32_t* b) { vitc_emu::mma(c, a, b, 2); }
inline void vitc_ldmatrix_x4(uint32_t* r, const void* p) { vitc_emu::ldmatrix(r, p, 4, 0); }
inline void vitc_ldmatrix_x2(uint32_t* r, const void* p) { vitc_emu::ldmatrix(r, p, 2, 0); }
inline void vitc_ldmatrix_x4_trans(uint32_t* r, const void* p) { vitc_emu::ldmatrix(r, p, 4, 1); }
inline void vitc_ldmatrix_x2_trans(uint32_t* r, const void* p) { vitc_emu::ldmatrix(r, p, 2, 1); }
/** cvt.rna.tf32.f32: round to nearest, ties away from zero, to 10 mantissa bits. */
inline uint32_t vitc_tf32(float x) {
  uint32_t u = vitc_emu_f2u(x);
  if ((u & 0x7f800000u) == 0x7f800000u) return u;
  return (u + 0x1000u) & 0xffffe000u;
}
inline void vitc_cp_async16(void* smem, const void* gmem, int src_bytes) { vitc_emu::cp_async(smem, gmem, 16, src_bytes); }
inline void vitc_cp_async_commit() { vitc_emu::cp_async_commit(); }
template <int N> inline void vitc_cp_async_wait() { vitc_emu::cp_async_wait((unsigned)N); }

// ---- host runtime ----
typedef enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorStreamCaptureUnsupported = 900,
} cudaError_t;

enum cudaMemcpyKind { cudaMemcpyHostToHost = 0, cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3, cudaMemcpyDefault = 4 };
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal = 0, cudaStreamCaptureModeThreadLocal = 1, cudaStreamCaptureModeRelaxed = 2 };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
#define cudaStreamNonBlocking 0x01

namespace vitc_emu {
struct Launch {
  dim3 grid, block;
  void* obj;
  void (*run)(dim3, dim3, void*);
  void (*del)(void*);
};
struct Graph { Launch* items; int n, cap; };
struct Stream { Graph* capturing; };
inline Stream default_stream;
inline cudaError_t last_error = cudaSuccess;

template <class F>
void run_launch(dim3 g, dim3 b, void* obj) { run_grid(g, b, *(F*)obj); }
template <class F>
void delete_launch(void* obj) { delete (F*)obj; }

inline void graph_push(Graph* g, const Launch& l) {
  if (g->n == g->cap) {
    g->cap = g->cap ? 2 * g->cap : 64;
    g->items = (Launch*)realloc(g->items, sizeof(Launch) * (size_t)g->cap);
    if (!g->items) die("out of memory recording a graph");
  }
  g->items[g->n++] = l;
}

template <class F>
void launch(dim3 grid, dim3 block, Stream* s, F f) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x * block.y * block.z == 0) { last_error = cudaErrorInvalidValue; return; }
  if (s && s->capturing) {
    graph_push(s->capturing, Launch{grid, block, new F(f), &run_launch<F>, &delete_launch<F>});
    return;
  }
  run_grid(grid, block, f);
}
}  // namespace vitc_emu

typedef vitc_emu::Stream* cudaStream_t;
typedef struct vitc_emu_event { double t; }* cudaEvent_t;
typedef vitc_emu::Graph* cudaGraph_t;
typedef vitc_emu::Graph* cudaGraphExec_t;

struct cudaDeviceProp {
  char name[256];
  int multiProcessorCount, major, minor;
  size_t totalGlobalMem, sharedMemPerBlock;
};

#define VITC_LAUNCH(kernel, grid, block, stream, ...) vitc_emu::launch((grid), (block), (stream), [=]() mutable { kernel(__VA_ARGS__); })

inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    default: return "unknown error";
  }
}
inline cudaError_t cudaGetLastError() { cudaError_t e = vitc_emu::last_error; vitc_emu::last_error = cudaSuccess; return e; }
inline cudaError_t cudaPeekAtLastError() { return vitc_emu::last_error; }
// Device memory is filled with 0xff bytes (a NaN in f32, f16 and bf16), as a GPU leaves it holding
// garbage: a kernel that reads what nothing wrote computes NaN instead of a lucky zero. The size is
// exact (posix_memalign), so AddressSanitizer's redzone starts right after the last byte.
inline cudaError_t cudaMalloc(void** p, size_t n) {
  if (posix_memalign(p, 256, n ? n : 1)) { *p = nullptr; return cudaErrorMemoryAllocation; }
  memset(*p, 0xff, n);
  return cudaSuccess;
}
template <class T> cudaError_t cudaMalloc(T** p, size_t n) { return cudaMalloc((void**)p, n); }
inline cudaError_t cudaFree(void* p) { free(p); return cudaSuccess; }
inline cudaError_t cudaMemcpy(void* d, const void* s, size_t n, cudaMemcpyKind) { memmove(d, s, n); return cudaSuccess; }
inline cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind k, cudaStream_t = nullptr) { return cudaMemcpy(d, s, n, k); }
inline cudaError_t cudaMemset(void* d, int v, size_t n) { memset(d, v, n); return cudaSuccess; }
inline cudaError_t cudaMemsetAsync(void* d, int v, size_t n, cudaStream_t = nullptr) { return cudaMemset(d, v, n); }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamCreate(cudaStream_t* s) { *s = new vitc_emu::Stream{nullptr}; return cudaSuccess; }
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { return cudaStreamCreate(s); }
inline cudaError_t cudaStreamDestroy(cudaStream_t s) { delete s; return cudaSuccess; }
inline cudaError_t cudaGetDevice(int* d) { *d = 0; return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) {
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "vitc CPU emulation");
  // Few multiprocessors: launch heuristics then pick the small-batch variants, as on a GPU at batch 1.
  p->multiProcessorCount = 4;
  p->major = 8;
  p->minor = 0;
  p->totalGlobalMem = (size_t)1 << 34;
  p->sharedMemPerBlock = 48 * 1024;
  return cudaSuccess;
}
template <class F> cudaError_t cudaFuncSetAttribute(F, cudaFuncAttribute, int) { return cudaSuccess; }
inline cudaError_t cudaEventCreate(cudaEvent_t* e) { *e = new vitc_emu_event{0}; return cudaSuccess; }
inline cudaError_t cudaEventDestroy(cudaEvent_t e) { delete e; return cudaSuccess; }
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t = nullptr) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  e->t = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
  return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
inline cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) { *ms = (float)(b->t - a->t); return cudaSuccess; }
inline cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  if (!s) return cudaErrorStreamCaptureUnsupported;
  s->capturing = new vitc_emu::Graph{nullptr, 0, 0};
  return cudaSuccess;
}
inline cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* g) {
  if (!s || !s->capturing) return cudaErrorInvalidValue;
  *g = s->capturing;
  s->capturing = nullptr;
  return cudaSuccess;
}
/** The executable graph takes over the recorded launches (vitc destroys the graph right after). */
inline cudaError_t cudaGraphInstantiate(cudaGraphExec_t* e, cudaGraph_t g, unsigned long long = 0) {
  *e = new vitc_emu::Graph{g->items, g->n, g->cap};
  g->items = nullptr;
  g->n = g->cap = 0;
  return cudaSuccess;
}
inline cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t) {
  for (int i = 0; i < e->n; i++) e->items[i].run(e->items[i].grid, e->items[i].block, e->items[i].obj);
  return cudaSuccess;
}
inline cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) {
  for (int i = 0; i < e->n; i++) e->items[i].del(e->items[i].obj);
  free(e->items);
  delete e;
  return cudaSuccess;
}
inline cudaError_t cudaGraphDestroy(cudaGraph_t g) { cudaGraphExecDestroy(g); return cudaSuccess; }
