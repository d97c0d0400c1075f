// AVX-512-BF16 GEMM kernel (vdpbf16ps) for GEMM_BF16 products: operands rounded to bf16 once,
// while packing, and multiplied pairwise along k with f32 accumulation; C is f32. Compiled with
// -mavx512bf16 and only reached after the run-time CPU check in addon.cc (avx512f, bw, vl and
// bf16 all present). Packed words hold two bf16 values along k (GemmKernel::kpair = 2).
//
// vdpbf16ps treats bf16 denormals as zero (inputs and outputs) and rounds the sum of each pair's
// two products once; elsewhere the result equals f32 arithmetic on the rounded operands up to
// the accumulation order.
#include "gemm.h"

// GCC 12 flags its own intrinsics (_mm512_cvtph_ps, _mm512_cvtepu16_epi32 start from an
// "undefined" register) as maybe-uninitialized; nothing here reads uninitialised data.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512BF16__) && defined(__AVX2__) && \
    defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include "common.h"
#include "thread_pool.h"

namespace llm {
namespace avx512bf16_gemm {
#include "gemm_pack.h"
#include "gemm_pack_avx2.h"
#include "gemm_small.h"
#include "gemm_store_avx512.h"

// 12 rows × 32 columns: 24 zmm accumulators, two B registers and the broadcast A word.
constexpr int MR = 12, NV = 2, NR = 16 * NV;

void micro(long kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta, int m, int n) {
  const long kp = (kc + 1) / 2;
  __m512 c[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) c[i][v] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (long p = 0; p < kp; p++) {
    __m512bh b[NV];
    _mm_prefetch(reinterpret_cast<const char*>(Ap + 8 * MR), _MM_HINT_T0);
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) _mm_prefetch(reinterpret_cast<const char*>(Bp + 8 * NR + 16 * v), _MM_HINT_T0);
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) b[v] = (__m512bh)_mm512_castps_si512(_mm512_load_ps(Bp + 16 * v));
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      // Broadcasting the word as a float moves its bits unchanged.
      __m512bh a = (__m512bh)_mm512_castps_si512(_mm512_set1_ps(Ap[i]));
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) c[i][v] = _mm512_dpbf16_ps(c[i][v], a, b[v]);
    }
    Ap += MR;
    Bp += NR;
  }
  store_acc_avx512<MR, NV>(c, C, ldc, alpha, beta, m, n);
}

// Sixteen elements p[i..i+n) (n ≤ 16, the rest zero) widened to f32 from dtype dt.
inline __m512 load16(const void* p, int dt, long i, int n) {
  const __mmask16 m = n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1);
  if (dt == DT_F32) return _mm512_maskz_loadu_ps(m, static_cast<const float*>(p) + i);
  __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i);
  if (dt == DT_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  return _mm512_cvtph_ps(h);
}

// Words of one contiguous run of kc elements (a row of A, a column of op(B) stored as a row):
// word w = (x[2w], x[2w+1]) rounded, the high half zero past kc. Writes (kc + 1) / 2 words.
void row_words(const void* src, int dt, long kc, float* dst) {
  long k = 0;
  for (; k < kc; k += 32) {
    const int rest = static_cast<int>(kc - k < 32 ? kc - k : 32);
    __m512 x0 = load16(src, dt, k, rest < 16 ? rest : 16);
    __m512 x1 = rest > 16 ? load16(src, dt, k + 16, rest - 16) : _mm512_setzero_ps();
    __m512i w = (__m512i)_mm512_cvtne2ps_pbh(x1, x0);  // bf16 in element order: 16 words
    const int nw = (rest + 1) / 2;
    const __mmask16 wm = nw >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << nw) - 1);
    _mm512_mask_storeu_ps(dst + k / 2, wm, _mm512_castsi512_ps(w));
  }
}

// Words pairing two rows elementwise: word j = (r0[j], r1[j]) rounded, for j in [0, n); r1 null = zeros.
void pair_words(const void* r0, const void* r1, int dt, long off, long n, float* dst) {
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4,
                                       19, 3, 18, 2, 17, 1, 16, 0);
  for (long j = 0; j < n; j += 16) {
    const int rest = static_cast<int>(n - j < 16 ? n - j : 16);
    __m512 x0 = load16(r0, dt, off + j, rest);
    __m512 x1 = r1 ? load16(r1, dt, off + j, rest) : _mm512_setzero_ps();
    __m512i w = _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(x1, x0));  // interleave r0/r1
    _mm512_mask_storeu_ps(dst + j, static_cast<__mmask16>(rest >= 16 ? 0xffff : (1u << rest) - 1), _mm512_castsi512_ps(w));
  }
}

inline const void* at(const void* p, int dt, long i) {
  return static_cast<const char*>(p) + i * (dt == DT_F32 ? 4 : 2);
}

// op(A)[i0:i0+mc, k0:k0+kc] as words, then into MR-row slivers by the f32 packer (bits unchanged).
void packA(const float* A, long lda, bool tA, long i0, long mc, long k0, long kc, float* Ap) {
  const long kw = (kc + 1) / 2;
  float* W = thread_scratch(0, 5, static_cast<size_t>(mc * kw + 16));
  if (!tA) {  // row i contiguous in k: W is mc × kw
    for (long i = 0; i < mc; i++) row_words(A + (i0 + i) * lda + k0, DT_F32, kc, W + i * kw);
    pack_a_avx2<MR>(W, kw, false, 0, mc, 0, kw, Ap);
  } else {  // A is K×M: pair rows k, k+1; W is kw × mc, i.e. a transposed word matrix
    for (long w = 0; w < kw; w++) {
      const float* r0 = A + (k0 + 2 * w) * lda;
      const float* r1 = 2 * w + 1 < kc ? r0 + lda : nullptr;
      pair_words(r0, r1, DT_F32, i0, mc, W + w * mc);
    }
    pack_a_avx2<MR>(W, mc, true, 0, mc, 0, kw, Ap);
  }
}

// op(B)[k0:k0+kc, j0:j0+nc] as words (rounded from its storage dtype), then into NR slivers.
void packB(const void* B, int dt, long ldb, bool tB, long k0, long kc, long j0, long nc, float* Bp) {
  const long kw = (kc + 1) / 2;
  float* W = thread_scratch(0, 6, static_cast<size_t>(nc * kw + 16));
  if (tB) {  // B is N×K: column j of op(B) is row j, contiguous in k; W is nc × kw
    for (long j = 0; j < nc; j++) row_words(at(B, dt, (j0 + j) * ldb + k0), dt, kc, W + j * kw);
    pack_b_avx2<NR>(W, DT_F32, kw, true, 0, kw, 0, nc, Bp);
  } else {  // B is K×N: pair rows k, k+1; W is kw × nc
    for (long w = 0; w < kw; w++) {
      const void* r0 = at(B, dt, (k0 + 2 * w) * ldb);
      const void* r1 = 2 * w + 1 < kc ? at(B, dt, (k0 + 2 * w + 1) * ldb) : nullptr;
      pair_words(r0, r1, dt, j0, nc, W + w * nc);
    }
    pack_b_avx2<NR>(W, DT_F32, nc, false, 0, kw, 0, nc, Bp);
  }
}

#ifndef LLM_AVX512BF16_BLOCKS
#define LLM_AVX512BF16_BLOCKS 48, 768, 2048  // MC, KC (elements, 384 words), NC
#endif
const GemmKernel kernel = {"avx512bf16", MR, NR, LLM_AVX512BF16_BLOCKS, 2, micro, packA, packB, SMALL_M, small_m, round_bf16_words};
}  // namespace avx512bf16_gemm

const GemmKernel* gemm_kernel_avx512bf16() { return &avx512bf16_gemm::kernel; }
}  // namespace llm
#else
namespace llm {
const GemmKernel* gemm_kernel_avx512bf16() { return nullptr; }
}  // namespace llm
#endif
