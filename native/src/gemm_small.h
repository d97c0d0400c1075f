// Products with very few rows (M ≤ SMALL_M, e.g. one token): no packing, B is streamed once
// and shared by the M rows. Included inside an ISA namespace after gemm_pack.h (and
// gemm_pack_avx2.h for the AVX2 loads when available).
#pragma once

constexpr int SMALL_M = 4;
constexpr long SMALL_NB = 256;  // columns per accumulator block (kept in L1)

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define LLM_SMALL_AVX2 1
#endif

// C[0:M, n0:n1] = alpha·op(A)·op(B) + beta·C, M ≤ SMALL_M.
static void small_m(const llm::GemmArgs& g, const float* A, const void* B, float* C, long n0, long n1) {
  const long M = g.M, K = g.K;
  const int dt = g.bDtype;
  // op(A) rows, contiguous (tiny: M×K).
  float* a = llm::thread_scratch(0, 4, static_cast<size_t>(M * K + SMALL_M * SMALL_NB));
  float* acc = a + M * K;
  for (long m = 0; m < M; m++)
    for (long k = 0; k < K; k++) a[m * K + k] = g.transA ? A[k * g.lda + m] : A[m * g.lda + k];
  // GEMM_BF16 reaches here only with B stored in bf16 (see gemm.cc), so rounding A is all it needs.
  if (g.compute == llm::GEMM_BF16) round_bf16_words(a, M * K);
  auto finish = [&](long nb0, long nb) {
    for (long m = 0; m < M; m++) {
      float* c = C + m * g.ldc + nb0;
      const float* s = acc + m * SMALL_NB;
      if (g.beta == 0.f)
        for (long j = 0; j < nb; j++) c[j] = g.alpha * s[j];
      else
        for (long j = 0; j < nb; j++) c[j] = g.alpha * s[j] + g.beta * c[j];
    }
  };
  for (long nb0 = n0; nb0 < n1; nb0 += SMALL_NB) {
    const long nb = n1 - nb0 < SMALL_NB ? n1 - nb0 : SMALL_NB;
    for (long m = 0; m < M; m++)
      for (long j = 0; j < nb; j++) acc[m * SMALL_NB + j] = 0.f;
    if (!g.transB) {  // B is K×N: acc[m, :] += a[m, k]·B[k, :]
      for (long k = 0; k < K; k++) {
        long base = k * g.ldb + nb0;
        long j = 0;
#ifdef LLM_SMALL_AVX2
        for (; j + 8 <= nb; j += 8) {
          __m256 b = load8_widen(B, dt, base + j);
          for (long m = 0; m < M; m++) {
            float* r = acc + m * SMALL_NB + j;
            _mm256_storeu_ps(r, _mm256_fmadd_ps(_mm256_set1_ps(a[m * K + k]), b, _mm256_loadu_ps(r)));
          }
        }
#endif
        for (; j < nb; j++) {
          float b = llm::load_widen(B, dt, base + j);
          for (long m = 0; m < M; m++) acc[m * SMALL_NB + j] += a[m * K + k] * b;
        }
      }
    } else {  // B is N×K: acc[m, j] = a[m, :]·B[j, :]
      for (long j = 0; j < nb; j++) {
        long base = (nb0 + j) * g.ldb;
        float dots[SMALL_M] = {0.f, 0.f, 0.f, 0.f};
        long k = 0;
#ifdef LLM_SMALL_AVX2
        __m256 s[SMALL_M];
        for (long m = 0; m < M; m++) s[m] = _mm256_setzero_ps();
        for (; k + 8 <= K; k += 8) {
          __m256 b = load8_widen(B, dt, base + k);
          for (long m = 0; m < M; m++) s[m] = _mm256_fmadd_ps(_mm256_loadu_ps(a + m * K + k), b, s[m]);
        }
        for (long m = 0; m < M; m++) {
          __m128 h = _mm_add_ps(_mm256_castps256_ps128(s[m]), _mm256_extractf128_ps(s[m], 1));
          h = _mm_add_ps(h, _mm_movehl_ps(h, h));
          h = _mm_add_ss(h, _mm_movehdup_ps(h));
          dots[m] = _mm_cvtss_f32(h);
        }
#endif
        for (; k < K; k++) {
          float b = llm::load_widen(B, dt, base + k);
          for (long m = 0; m < M; m++) dots[m] += a[m * K + k] * b;
        }
        for (long m = 0; m < M; m++) acc[m * SMALL_NB + j] = dots[m];
      }
    }
    finish(nb0, nb);
  }
}
