// AVX2/FMA GEMM kernel: 6×16 micro-tile (12 ymm accumulators). Compiled with -mavx2 -mfma
// -mf16c; only reached after a run-time CPU check.
#include "gemm.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include "common.h"
#include "thread_pool.h"

namespace llm {
namespace avx2_gemm {
#include "gemm_pack.h"
#include "gemm_pack_avx2.h"
#include "gemm_small.h"

constexpr int MR = 6, NR = 16;

void micro(long kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta, int m, int n) {
  __m256 c[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (long k = 0; k < kc; k++) {
    __m256 b0 = _mm256_load_ps(Bp), b1 = _mm256_load_ps(Bp + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      __m256 a = _mm256_broadcast_ss(Ap + i);
      c[i][0] = _mm256_fmadd_ps(a, b0, c[i][0]);
      c[i][1] = _mm256_fmadd_ps(a, b1, c[i][1]);
    }
    Ap += MR;
    Bp += NR;
  }
  __m256 va = _mm256_set1_ps(alpha);
  if (m == MR && n == NR) {
    if (beta == 0.f) {
#pragma GCC unroll 6
      for (int i = 0; i < MR; i++) {
        _mm256_storeu_ps(C + i * ldc, _mm256_mul_ps(va, c[i][0]));
        _mm256_storeu_ps(C + i * ldc + 8, _mm256_mul_ps(va, c[i][1]));
      }
    } else {
      __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
      for (int i = 0; i < MR; i++) {
        float* r = C + i * ldc;
        _mm256_storeu_ps(r, _mm256_fmadd_ps(va, c[i][0], _mm256_mul_ps(vb, _mm256_loadu_ps(r))));
        _mm256_storeu_ps(r + 8, _mm256_fmadd_ps(va, c[i][1], _mm256_mul_ps(vb, _mm256_loadu_ps(r + 8))));
      }
    }
    return;
  }
  alignas(32) float acc[MR * NR];
  // Fully unrolled like every loop over c[][]: a rolled loop here would make GCC keep the
  // accumulators in memory and store them on every k step.
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    _mm256_store_ps(acc + i * NR, c[i][0]);
    _mm256_store_ps(acc + i * NR + 8, c[i][1]);
  }
  store_tile_scalar<NR>(acc, C, ldc, alpha, beta, m, n);
}

void packA(const float* A, long lda, bool tA, long i0, long mc, long k0, long kc, float* Ap) {
  pack_a_avx2<MR>(A, lda, tA, i0, mc, k0, kc, Ap);
}
void packB(const void* B, int dt, long ldb, bool tB, long k0, long kc, long j0, long nc, float* Bp) {
  pack_b_avx2<NR>(B, dt, ldb, tB, k0, kc, j0, nc, Bp);
}

// MC, KC, NC: A block 72×384 (108 KiB) in L2, B sliver 384×16 (24 KiB) in L1, B panel
// 384×4096 (6 MiB) in L3. Measured (1 thread, 2048³): 77 GFLOP/s vs 67 with 144×256×3072;
// software prefetch measured slower for this kernel.
#ifndef LLM_AVX2_BLOCKS
#define LLM_AVX2_BLOCKS 72, 384, 4096
#endif
const GemmKernel kernel = {"avx2", MR, NR, LLM_AVX2_BLOCKS, 1, micro, packA, packB, SMALL_M, small_m, round_bf16_words};
}  // namespace avx2_gemm

const GemmKernel* gemm_kernel_avx2() { return &avx2_gemm::kernel; }
}  // namespace llm
#else
namespace llm {
const GemmKernel* gemm_kernel_avx2() { return nullptr; }
}  // namespace llm
#endif
