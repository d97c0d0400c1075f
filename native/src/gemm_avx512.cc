// AVX-512F GEMM kernel: 12×32 micro-tile (24 zmm accumulators). Compiled with -mavx512f;
// only reached after a run-time CPU check. Machines without AVX-512 use the AVX2 kernel.
#include "gemm.h"

// GCC 12 flags its own AVX-512 intrinsics (_mm512_cvtph_ps, _mm512_cvtepu16_epi32) as
// maybe-uninitialized; nothing here reads uninitialised data.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include "common.h"
#include "thread_pool.h"

namespace llm {
namespace avx512_gemm {
#include "gemm_pack.h"
#include "gemm_pack_avx2.h"
#include "gemm_small.h"
#include "gemm_store_avx512.h"

// Tile MR × 16·NV: 12×32 (24 zmm accumulators). 8×48 measured the same on large products but
// wastes a third of a sliver on the power-of-two widths of transformers (N = 64, 128, 1408 …).
#ifndef LLM_AVX512_TILE
#define LLM_AVX512_TILE 12, 2
#endif
// Software prefetch distance (k steps) for the A and B micro-panels; 0 disables.
#ifndef LLM_AVX512_PREFETCH
#define LLM_AVX512_PREFETCH 8
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
#if LLM_AVX512_PREFETCH > 0
    _mm_prefetch(reinterpret_cast<const char*>(Ap + LLM_AVX512_PREFETCH * MR), _MM_HINT_T0);
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) _mm_prefetch(reinterpret_cast<const char*>(Bp + LLM_AVX512_PREFETCH * NR + 16 * v), _MM_HINT_T0);
#endif
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
  store_acc_avx512<MR, NV>(c, C, ldc, alpha, beta, m, n);
}

void packA(const float* A, long lda, bool tA, long i0, long mc, long k0, long kc, float* Ap) {
  pack_a_avx2<MR>(A, lda, tA, i0, mc, k0, kc, Ap);
}
void packB(const void* B, int dt, long ldb, bool tB, long k0, long kc, long j0, long nc, float* Bp) {
  pack_b_avx2<NR>(B, dt, ldb, tB, k0, kc, j0, nc, Bp);
}

#ifndef LLM_AVX512_BLOCKS
#define LLM_AVX512_BLOCKS 48, 384, 2048  // MC, KC, NC (swept on a 2 MiB-L2 Xeon; flat within ±5%)
#endif
const GemmKernel kernel = {"avx512", MR, NR, LLM_AVX512_BLOCKS, 1, micro, packA, packB, SMALL_M, small_m, round_bf16_words};
}  // namespace avx512_gemm

const GemmKernel* gemm_kernel_avx512() { return &avx512_gemm::kernel; }
}  // namespace llm
#else
namespace llm {
const GemmKernel* gemm_kernel_avx512() { return nullptr; }
}  // namespace llm
#endif
