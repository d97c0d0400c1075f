// AVX2 + F16C packing of B (widening bf16/f16 on the fly), shared by the AVX2 and AVX-512
// translation units. Included inside an ISA namespace after gemm_pack.h.
#pragma once
#include <immintrin.h>

static inline __m256 load8_widen(const void* p, int dt, long i) {
  if (dt == llm::DT_F32) return _mm256_loadu_ps(static_cast<const float*>(p) + i);
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i));
  if (dt == llm::DT_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  return _mm256_cvtph_ps(h);
}

static inline void transpose8(__m256& r0, __m256& r1, __m256& r2, __m256& r3, __m256& r4, __m256& r5, __m256& r6, __m256& r7) {
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r0 = _mm256_permute2f128_ps(s0, s4, 0x20);
  r1 = _mm256_permute2f128_ps(s1, s5, 0x20);
  r2 = _mm256_permute2f128_ps(s2, s6, 0x20);
  r3 = _mm256_permute2f128_ps(s3, s7, 0x20);
  r4 = _mm256_permute2f128_ps(s0, s4, 0x31);
  r5 = _mm256_permute2f128_ps(s1, s5, 0x31);
  r6 = _mm256_permute2f128_ps(s2, s6, 0x31);
  r7 = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Packs op(B)[k0:k0+kc, j0:j0+nc] into NR-wide slivers (NR a multiple of 8).
template <int NR>
static void pack_b_avx2(const void* B, int dt, long ldb, bool transB, long k0, long kc, long j0, long nc, float* Bp) {
  static_assert(NR % 8 == 0, "NR must be a multiple of 8");
  for (long s = 0; s < nc; s += NR) {
    float* dst = Bp + s * kc;
    if (nc - s < NR) {  // ragged last sliver
      pack_b_scalar<NR>(B, dt, ldb, transB, k0, kc, j0 + s, nc - s, dst);
      continue;
    }
    if (!transB) {  // B is K×N: row k of the sliver is contiguous
      for (long k = 0; k < kc; k++) {
        long base = (k0 + k) * ldb + j0 + s;
        for (int v = 0; v < NR; v += 8) _mm256_storeu_ps(dst + k * NR + v, load8_widen(B, dt, base + v));
      }
    } else {  // B is N×K: transpose 8×8 blocks
      for (int g = 0; g < NR; g += 8) {
        long col = j0 + s + g;
        long k = 0;
        for (; k + 8 <= kc; k += 8) {
          long base = col * ldb + k0 + k;
          __m256 r0 = load8_widen(B, dt, base), r1 = load8_widen(B, dt, base + ldb), r2 = load8_widen(B, dt, base + 2 * ldb),
                 r3 = load8_widen(B, dt, base + 3 * ldb), r4 = load8_widen(B, dt, base + 4 * ldb),
                 r5 = load8_widen(B, dt, base + 5 * ldb), r6 = load8_widen(B, dt, base + 6 * ldb),
                 r7 = load8_widen(B, dt, base + 7 * ldb);
          transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
          float* d = dst + k * NR + g;
          _mm256_storeu_ps(d, r0);
          _mm256_storeu_ps(d + NR, r1);
          _mm256_storeu_ps(d + 2 * NR, r2);
          _mm256_storeu_ps(d + 3 * NR, r3);
          _mm256_storeu_ps(d + 4 * NR, r4);
          _mm256_storeu_ps(d + 5 * NR, r5);
          _mm256_storeu_ps(d + 6 * NR, r6);
          _mm256_storeu_ps(d + 7 * NR, r7);
        }
        for (; k < kc; k++)
          for (int j = 0; j < 8; j++) dst[k * NR + g + j] = llm::load_widen(B, dt, (col + j) * ldb + k0 + k);
      }
    }
  }
}

// Packs op(A)[i0:i0+mc, k0:k0+kc] into MR-row slivers. For a row-major A, 8-row groups are
// transposed with 8×8 AVX transposes, a 4-row group with a 4×8 one, and the last < 4 rows of a
// sliver (MR = 6) with scalar code; a transposed A (K×M) is already sliver-major and is copied.
template <int MR>
static void pack_a_avx2(const float* A, long lda, bool transA, long i0, long mc, long k0, long kc, float* Ap) {
  if (transA) {
    pack_a_tmpl<MR>(A, lda, transA, i0, mc, k0, kc, Ap);
    return;
  }
  for (long s = 0; s < mc; s += MR) {
    float* dst = Ap + s * kc;
    if (mc - s < MR) {
      pack_a_tmpl<MR>(A, lda, false, i0 + s, mc - s, k0, kc, dst);
      continue;
    }
    int g = 0;
    for (; g + 8 <= MR; g += 8) {
      long row = i0 + s + g;
      long k = 0;
      for (; k + 8 <= kc; k += 8) {
        const float* p = A + row * lda + k0 + k;
        __m256 r0 = _mm256_loadu_ps(p), r1 = _mm256_loadu_ps(p + lda), r2 = _mm256_loadu_ps(p + 2 * lda),
               r3 = _mm256_loadu_ps(p + 3 * lda), r4 = _mm256_loadu_ps(p + 4 * lda), r5 = _mm256_loadu_ps(p + 5 * lda),
               r6 = _mm256_loadu_ps(p + 6 * lda), r7 = _mm256_loadu_ps(p + 7 * lda);
        transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
        float* d = dst + k * MR + g;
        _mm256_storeu_ps(d, r0);
        _mm256_storeu_ps(d + MR, r1);
        _mm256_storeu_ps(d + 2 * MR, r2);
        _mm256_storeu_ps(d + 3 * MR, r3);
        _mm256_storeu_ps(d + 4 * MR, r4);
        _mm256_storeu_ps(d + 5 * MR, r5);
        _mm256_storeu_ps(d + 6 * MR, r6);
        _mm256_storeu_ps(d + 7 * MR, r7);
      }
      for (; k < kc; k++)
        for (int i = 0; i < 8; i++) dst[k * MR + g + i] = A[(row + i) * lda + k0 + k];
    }
    if (g + 4 <= MR) {
      long row = i0 + s + g;
      long k = 0;
      for (; k + 8 <= kc; k += 8) {
        const float* p = A + row * lda + k0 + k;
        __m256 r0 = _mm256_loadu_ps(p), r1 = _mm256_loadu_ps(p + lda), r2 = _mm256_loadu_ps(p + 2 * lda),
               r3 = _mm256_loadu_ps(p + 3 * lda);
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
        __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
        __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        float* d = dst + k * MR + g;
        _mm_storeu_ps(d, _mm256_castps256_ps128(s0));
        _mm_storeu_ps(d + MR, _mm256_castps256_ps128(s1));
        _mm_storeu_ps(d + 2 * MR, _mm256_castps256_ps128(s2));
        _mm_storeu_ps(d + 3 * MR, _mm256_castps256_ps128(s3));
        _mm_storeu_ps(d + 4 * MR, _mm256_extractf128_ps(s0, 1));
        _mm_storeu_ps(d + 5 * MR, _mm256_extractf128_ps(s1, 1));
        _mm_storeu_ps(d + 6 * MR, _mm256_extractf128_ps(s2, 1));
        _mm_storeu_ps(d + 7 * MR, _mm256_extractf128_ps(s3, 1));
      }
      for (; k < kc; k++)
        for (int i = 0; i < 4; i++) dst[k * MR + g + i] = A[(row + i) * lda + k0 + k];
      g += 4;
    }
    for (; g < MR; g++) {
      const float* r = A + (i0 + s + g) * lda + k0;
      for (long k = 0; k < kc; k++) dst[k * MR + g] = r[k];
    }
  }
}
