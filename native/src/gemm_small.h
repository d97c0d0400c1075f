// Products with few rows (M ≤ SMALL_M: a decode step multiplies one token, or one per sequence
// of a batch, by every weight matrix): no packing, B is streamed once from memory as stored
// (f32/bf16/f16, widened in registers) and each B vector loaded serves up to RB rows of A. The
// product is bound by the bandwidth B streams at, so the loops keep many independent
// accumulators (one per row × column of a register tile) and use the widest vectors the
// translation unit has. Included inside an ISA namespace after gemm_pack.h (and gemm_pack_avx2.h
// for the AVX2 loads when available).
//
// Every output element is computed by the same arithmetic whatever the tile, the row chunk or
// the column range a thread gets: op(B) transposed (N×K, weights): W-lane partial sums over k in
// steps of W, reduced in a fixed order, then the K % W tail in order; op(B) K×N: one sequential
// fused sum over k per element, columns in vectors of W and a scalar tail at the end of the
// range (ranges start at multiples of SMALL_COL_ALIGN, so only the last range has one). Results
// therefore do not depend on the thread count.
#pragma once

#ifndef LLM_SMALL_M
#define LLM_SMALL_M 16  // rows with a bf16/f16 B (gemm.cc caps an f32 B at 8); measured with bench/gemm.ts, decode rows
#endif
constexpr int SMALL_M = LLM_SMALL_M;
constexpr long SMALL_COL_ALIGN = 16;  // column ranges handed to threads start at multiples of this

#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
namespace sv {
constexpr int W = 16, RB = 4;  // lanes; rows per register tile (accumulators ≤ 16 of 32 zmm)
using V = __m512;
static inline V zero() { return _mm512_setzero_ps(); }
static inline V loada(const float* p) { return _mm512_loadu_ps(p); }
static inline V set1(float x) { return _mm512_set1_ps(x); }
static inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
static inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
static inline float sum(V v) { return _mm512_reduce_add_ps(v); }
static inline float fmas(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
static inline V loadb(const void* p, int dt, long i) {
  if (dt == llm::DT_F32) return _mm512_loadu_ps(static_cast<const float*>(p) + i);
  __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(p) + i));
  if (dt == llm::DT_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  return _mm512_cvtph_ps(h);
}
// Columns per tile for MB rows (transposed B) / vectors of W columns per tile (plain B).
constexpr int cols_t(int mb) { return mb <= 2 ? 8 : mb <= 4 ? 4 : 2; }
constexpr int vecs_n(int mb) { return mb <= 4 ? 4 : 2; }
}  // namespace sv
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
namespace sv {
constexpr int W = 8, RB = 4;  // accumulators ≤ 8 of 16 ymm
using V = __m256;
static inline V zero() { return _mm256_setzero_ps(); }
static inline V loada(const float* p) { return _mm256_loadu_ps(p); }
static inline V set1(float x) { return _mm256_set1_ps(x); }
static inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
static inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
static inline float sum(V v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}
static inline float fmas(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
static inline V loadb(const void* p, int dt, long i) { return load8_widen(p, dt, i); }
constexpr int cols_t(int mb) { return mb <= 2 ? 4 : 2; }
constexpr int vecs_n(int mb) { return mb <= 2 ? 4 : 2; }
}  // namespace sv
#else
namespace sv {  // portable: one lane, the same loop structure
constexpr int W = 1, RB = 4;
using V = float;
static inline V zero() { return 0.f; }
static inline V loada(const float* p) { return *p; }
static inline V set1(float x) { return x; }
static inline V fma(V a, V b, V c) { return a * b + c; }
static inline void store(float* p, V v) { *p = v; }
static inline float sum(V v) { return v; }
static inline float fmas(float a, float b, float c) { return a * b + c; }
static inline V loadb(const void* p, int dt, long i) { return llm::load_widen(p, dt, i); }
constexpr int cols_t(int mb) { return mb <= 2 ? 4 : 2; }
constexpr int vecs_n(int) { return 2; }
}  // namespace sv
#endif

// Writes alpha·d + beta·c (beta == 0: c is not read, so NaN there is dropped).
static inline void small_out(float* c, float d, float alpha, float beta) { *c = beta == 0.f ? alpha * d : alpha * d + beta * *c; }

// op(B) = Bᵀ, B N×K: C[m, j..j+CB) for MB rows; a is MB rows of op(A), row stride lda.
template <int MB, int CB>
static inline void small_tile_t(const llm::GemmArgs& g, const float* a, long lda, const void* B, float* C, long j) {
  const long K = g.K, ldb = g.ldb;
  const int dt = g.bDtype;
  sv::V s[MB][CB];
#pragma GCC unroll 8
  for (int m = 0; m < MB; m++)
#pragma GCC unroll 8
    for (int c = 0; c < CB; c++) s[m][c] = sv::zero();
  long k = 0;
  for (; k + sv::W <= K; k += sv::W) {
    sv::V b[CB];
#pragma GCC unroll 8
    for (int c = 0; c < CB; c++) b[c] = sv::loadb(B, dt, (j + c) * ldb + k);
#pragma GCC unroll 8
    for (int m = 0; m < MB; m++) {
      sv::V av = sv::loada(a + m * lda + k);
#pragma GCC unroll 8
      for (int c = 0; c < CB; c++) s[m][c] = sv::fma(av, b[c], s[m][c]);
    }
  }
  for (int m = 0; m < MB; m++)
    for (int c = 0; c < CB; c++) {
      float d = sv::sum(s[m][c]);
      for (long t = k; t < K; t++) d = sv::fmas(a[m * lda + t], llm::load_widen(B, dt, (j + c) * ldb + t), d);
      small_out(C + m * g.ldc + j + c, d, g.alpha, g.beta);
    }
}

// op(B) = B, K×N: C[m, j..j+CV·W) for MB rows.
template <int MB, int CV>
static inline void small_tile_n(const llm::GemmArgs& g, const float* a, long lda, const void* B, float* C, long j) {
  const long K = g.K, ldb = g.ldb;
  const int dt = g.bDtype;
  sv::V s[MB][CV];
#pragma GCC unroll 8
  for (int m = 0; m < MB; m++)
#pragma GCC unroll 4
    for (int v = 0; v < CV; v++) s[m][v] = sv::zero();
  for (long k = 0; k < K; k++) {
    sv::V b[CV];
#pragma GCC unroll 4
    for (int v = 0; v < CV; v++) b[v] = sv::loadb(B, dt, k * ldb + j + v * sv::W);
#pragma GCC unroll 8
    for (int m = 0; m < MB; m++) {
      sv::V av = sv::set1(a[m * lda + k]);
#pragma GCC unroll 4
      for (int v = 0; v < CV; v++) s[m][v] = sv::fma(av, b[v], s[m][v]);
    }
  }
  alignas(64) float t[sv::W];
  for (int m = 0; m < MB; m++)
    for (int v = 0; v < CV; v++) {
      sv::store(t, s[m][v]);
      for (int l = 0; l < sv::W; l++) small_out(C + m * g.ldc + j + v * sv::W + l, t[l], g.alpha, g.beta);
    }
}

// Columns [n0, n1) for MB rows: full tiles, then one-column (one-vector) tiles for the rest.
template <int MB>
static void small_rows_mb(const llm::GemmArgs& g, const float* a, long lda, const void* B, float* C, long n0, long n1) {
  long j = n0;
  if (g.transB) {
    constexpr int CB = sv::cols_t(MB);
    for (; j + CB <= n1; j += CB) small_tile_t<MB, CB>(g, a, lda, B, C, j);
    for (; j < n1; j++) small_tile_t<MB, 1>(g, a, lda, B, C, j);
    return;
  }
  constexpr int CV = sv::vecs_n(MB);
  for (; j + CV * sv::W <= n1; j += CV * sv::W) small_tile_n<MB, CV>(g, a, lda, B, C, j);
  for (; j + sv::W <= n1; j += sv::W) small_tile_n<MB, 1>(g, a, lda, B, C, j);
  for (; j < n1; j++)  // scalar tail: the same sequential fused sum as a lane
    for (int m = 0; m < MB; m++) {
      float d = 0.f;
      for (long k = 0; k < g.K; k++) d = sv::fmas(a[m * lda + k], llm::load_widen(B, g.bDtype, k * g.ldb + j), d);
      small_out(C + m * g.ldc + j, d, g.alpha, g.beta);
    }
}

template <int... MBs>
struct SmallDispatch;
template <>
struct SmallDispatch<> {
  static void run(int, const llm::GemmArgs&, const float*, long, const void*, float*, long, long) {}
};
template <int MB, int... Rest>
struct SmallDispatch<MB, Rest...> {
  static void run(int mb, const llm::GemmArgs& g, const float* a, long lda, const void* B, float* C, long n0, long n1) {
    if (mb == MB) small_rows_mb<MB>(g, a, lda, B, C, n0, n1);
    else SmallDispatch<Rest...>::run(mb, g, a, lda, B, C, n0, n1);
  }
};

// C[0:M, n0:n1] = alpha·op(A)·op(B) + beta·C, M ≤ SMALL_M, in row chunks of at most RB rows
// (B is read from memory by the first chunk, from cache by the others).
static void small_m(const llm::GemmArgs& g, const float* A, const void* B, float* C, long n0, long n1) {
  const long M = g.M, K = g.K;
  const float* a = A;
  long lda = g.lda;
  // op(A) rows must be contiguous in k (and, for GEMM_BF16, rounded: B is already bf16 there, see
  // gemm.cc): otherwise work on a copy (tiny: M×K).
  if (g.transA || g.compute == llm::GEMM_BF16) {
    float* t = llm::thread_scratch(0, 4, static_cast<size_t>(M * K));
    for (long m = 0; m < M; m++)
      for (long k = 0; k < K; k++) t[m * K + k] = g.transA ? A[k * g.lda + m] : A[m * g.lda + k];
    if (g.compute == llm::GEMM_BF16) round_bf16_words(t, M * K);
    a = t;
    lda = K;
  }
  for (long m0 = 0; m0 < M; m0 += sv::RB) {
    const int mb = static_cast<int>(M - m0 < sv::RB ? M - m0 : sv::RB);
    SmallDispatch<1, 2, 3, 4, 5, 6, 7, 8>::run(mb, g, a + m0 * lda, lda, B, C + m0 * g.ldc, n0, n1);
  }
}
