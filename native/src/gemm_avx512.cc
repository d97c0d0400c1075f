// AVX-512F GEMM kernel: 12×32 micro-tile (24 zmm accumulators). Compiled with -mavx512f;
// only reached after a run-time CPU check. Machines without AVX-512 use the AVX2 kernel.
#include "gemm.h"

#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include "common.h"
#include "thread_pool.h"

namespace llm {
namespace avx512_gemm {
#include "gemm_pack.h"
#include "gemm_pack_avx2.h"
#include "gemm_small.h"

#ifndef LLM_AVX512_TILE
#define LLM_AVX512_TILE 12, 2
#endif
template <int MR_, int NV_>
struct Tile {
  static constexpr int MR = MR_, NV = NV_, NR = 16 * NV_;
};
using T = Tile<LLM_AVX512_TILE>;
constexpr int MR = T::MR, NV = T::NV, NR = T::NR;

void micro(long kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta, int m, int n) {
  __m512 c[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) c[i][v] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (long k = 0; k < kc; k++) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) b[v] = _mm512_load_ps(Bp + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      __m512 a = _mm512_set1_ps(Ap[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) c[i][v] = _mm512_fmadd_ps(a, b[v], c[i][v]);
    }
    Ap += MR;
    Bp += NR;
  }
  __m512 va = _mm512_set1_ps(alpha);
  if (m == MR && n == NR) {
    if (beta == 0.f) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(C + i * ldc + 16 * v, _mm512_mul_ps(va, c[i][v]));
    } else {
      __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
          float* r = C + i * ldc + 16 * v;
          _mm512_storeu_ps(r, _mm512_fmadd_ps(va, c[i][v], _mm512_mul_ps(vb, _mm512_loadu_ps(r))));
        }
    }
    return;
  }
  alignas(64) float acc[MR * NR];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) _mm512_store_ps(acc + i * NR + 16 * v, c[i][v]);
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
const GemmKernel kernel = {"avx512", MR, NR, LLM_AVX512_BLOCKS, micro, packA, packB, SMALL_M, small_m};
}  // namespace avx512_gemm

const GemmKernel* gemm_kernel_avx512() { return &avx512_gemm::kernel; }
}  // namespace llm
#else
namespace llm {
const GemmKernel* gemm_kernel_avx512() { return nullptr; }
}  // namespace llm
#endif
