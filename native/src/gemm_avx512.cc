// AVX-512F GEMM kernel: 12×32 micro-tile (24 zmm accumulators). Compiled with -mavx512f;
// only reached after a run-time CPU check. Machines without AVX-512 use the AVX2 kernel.
#include "gemm.h"

#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include "common.h"

namespace llm {
namespace avx512_gemm {
#include "gemm_pack.h"
#include "gemm_pack_avx2.h"

constexpr int MR = 12, NR = 32;

void micro(long kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta, int m, int n) {
  __m512 c[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (long k = 0; k < kc; k++) {
    __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
      __m512 a = _mm512_set1_ps(Ap[i]);
      c[i][0] = _mm512_fmadd_ps(a, b0, c[i][0]);
      c[i][1] = _mm512_fmadd_ps(a, b1, c[i][1]);
    }
    Ap += MR;
    Bp += NR;
  }
  __m512 va = _mm512_set1_ps(alpha);
  if (m == MR && n == NR) {
    if (beta == 0.f) {
#pragma GCC unroll 12
      for (int i = 0; i < MR; i++) {
        _mm512_storeu_ps(C + i * ldc, _mm512_mul_ps(va, c[i][0]));
        _mm512_storeu_ps(C + i * ldc + 16, _mm512_mul_ps(va, c[i][1]));
      }
    } else {
      __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
      for (int i = 0; i < MR; i++) {
        float* r = C + i * ldc;
        _mm512_storeu_ps(r, _mm512_fmadd_ps(va, c[i][0], _mm512_mul_ps(vb, _mm512_loadu_ps(r))));
        _mm512_storeu_ps(r + 16, _mm512_fmadd_ps(va, c[i][1], _mm512_mul_ps(vb, _mm512_loadu_ps(r + 16))));
      }
    }
    return;
  }
  alignas(64) float acc[MR * NR];
  for (int i = 0; i < MR; i++) {
    _mm512_store_ps(acc + i * NR, c[i][0]);
    _mm512_store_ps(acc + i * NR + 16, c[i][1]);
  }
  store_tile_scalar<NR>(acc, C, ldc, alpha, beta, m, n);
}

void packA(const float* A, long lda, bool tA, long i0, long mc, long k0, long kc, float* Ap) {
  pack_a_avx2<MR>(A, lda, tA, i0, mc, k0, kc, Ap);
}
void packB(const void* B, int dt, long ldb, bool tB, long k0, long kc, long j0, long nc, float* Bp) {
  pack_b_avx2<NR>(B, dt, ldb, tB, k0, kc, j0, nc, Bp);
}

#ifndef LLM_AVX512_BLOCKS
#define LLM_AVX512_BLOCKS 192, 384, 3072  // MC, KC, NC (KC 384 measured a little faster at 2048³)
#endif
const GemmKernel kernel = {"avx512", MR, NR, LLM_AVX512_BLOCKS, micro, packA, packB};
}  // namespace avx512_gemm

const GemmKernel* gemm_kernel_avx512() { return &avx512_gemm::kernel; }
}  // namespace llm
#else
namespace llm {
const GemmKernel* gemm_kernel_avx512() { return nullptr; }
}  // namespace llm
#endif
