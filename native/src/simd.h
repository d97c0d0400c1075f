// Vector helpers, compiled per ISA: AVX2/FMA intrinsics when the translation unit has them,
// plain loops otherwise. Included inside an ISA namespace; everything is static.
#pragma once
#include <cmath>
#include <cstdint>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define LLM_AVX2 1
#endif

#ifdef LLM_AVX2
static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline float hmax8(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
// Cephes-style expf, ~1 ulp on [-87, 88]; inputs below -87.3 (and -inf) give exactly 0 and NaN
// stays NaN. The operand order of the clamps matters: max/min_ps return their second operand when
// either is NaN, so (lo, x) keeps a NaN x, and the "not less than" mask is true for NaN, so the
// final AND keeps it too (with (x, lo) and GE a NaN became 0: attention then read a NaN score as a
// masked key and returned finite, wrong output).
static inline __m256 exp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.3f);
  __m256 keep = _mm256_cmp_ps(x, lo, _CMP_NLT_UQ);
  x = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(lo, x));
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500E-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(e)), keep);
}
#endif

#if defined(__AVX512F__)
// exp8 on 16 lanes, the same steps in the same order (so the same results lane for lane, NaN and
// the −87.3 cut included: max/min return their second operand on NaN as on AVX2).
static inline __m512 exp16(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.3f);
  const __mmask16 keep = _mm512_cmp_ps_mask(x, lo, _CMP_NLT_UQ);
  x = _mm512_min_ps(_mm512_set1_ps(88.0f), _mm512_max_ps(lo, x));
  __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), x);
  __m512 y = _mm512_set1_ps(1.9875691500E-4f);
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.3981999507E-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(8.3334519073E-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(4.1665795894E-2f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.6666665459E-1f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(5.0000001201E-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.f)));
  __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fx), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mov_ps(keep, _mm512_mul_ps(y, _mm512_castsi512_ps(e)));
}
#endif

// The widest float vector of the translation unit, for kernels written once for AVX2 and AVX-512
// (the AVX-512 kernel table is the same bodies compiled with -mavx512f): vf holds VW floats;
// vload_n / vstore_n touch only the first n < VW lanes (tails of rows).
#if defined(__AVX512F__)
#define LLM_VEC 1
typedef __m512 vf;
constexpr int VW = 16;
static inline vf vzero() { return _mm512_setzero_ps(); }
static inline vf vset1(float x) { return _mm512_set1_ps(x); }
static inline vf vload(const float* p) { return _mm512_loadu_ps(p); }
static inline void vstore(float* p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vload_n(const float* p, int n) { return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p); }
static inline void vstore_n(float* p, vf v, int n) { _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v); }
#elif defined(LLM_AVX2)
#define LLM_VEC 1
typedef __m256 vf;
constexpr int VW = 8;
static inline vf vzero() { return _mm256_setzero_ps(); }
static inline vf vset1(float x) { return _mm256_set1_ps(x); }
static inline vf vload(const float* p) { return _mm256_loadu_ps(p); }
static inline void vstore(float* p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline __m256i vlanes_below(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
static inline vf vload_n(const float* p, int n) { return _mm256_maskload_ps(p, vlanes_below(n)); }
static inline void vstore_n(float* p, vf v, int n) { _mm256_maskstore_ps(p, vlanes_below(n), v); }
#endif

static inline float dotf(const float* a, const float* b, long n) {
  long i = 0;
#ifdef LLM_AVX2
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum8(_mm256_add_ps(s0, s1));
#else
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  float s = (s0 + s1) + (s2 + s3);
#endif
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

static inline float sumsq(const float* a, long n) { return dotf(a, a, n); }

// Max of a row; NaN if any element is NaN (a plain `a > m ? a : m` or max_ps skips NaN, so a row
// with a NaN score looked finite to the softmax that follows).
static inline float maxf(const float* a, long n) {
  long i = 0;
  float m = -INFINITY;
  bool nan = false;
#ifdef LLM_AVX2
  if (n >= 8) {
    __m256 vm = _mm256_loadu_ps(a);
    __m256 vnan = _mm256_cmp_ps(vm, vm, _CMP_UNORD_Q);
    for (i = 8; i + 8 <= n; i += 8) {
      __m256 x = _mm256_loadu_ps(a + i);
      vm = _mm256_max_ps(vm, x);
      vnan = _mm256_or_ps(vnan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    }
    m = hmax8(vm);
    nan = _mm256_movemask_ps(vnan) != 0;
  }
#endif
  for (; i < n; i++) {
    nan |= a[i] != a[i];
    m = a[i] > m ? a[i] : m;
  }
  return nan ? NAN : m;
}

// y += a·x
static inline void axpyf(float a, const float* __restrict x, float* __restrict y, long n) {
  for (long i = 0; i < n; i++) y[i] += a * x[i];
}

// dst[i] = exp(src[i] − sub) (−inf → 0); returns the sum of the results.
static inline float exp_sub_sum(const float* src, float sub, float* dst, long n) {
  long i = 0;
  float s = 0.f;
#ifdef LLM_AVX2
  __m256 vs = _mm256_set1_ps(sub), acc = _mm256_setzero_ps();
#if defined(__AVX512F__)
  const __m512 vs16 = _mm512_set1_ps(sub);
  __m512 acc16 = _mm512_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(src + i), vs16));
    _mm512_storeu_ps(dst + i, e);
    acc16 = _mm512_add_ps(acc16, e);
  }
  acc = _mm256_add_ps(_mm512_castps512_ps256(acc16), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc16), 1)));
#endif
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(src + i), vs));
    _mm256_storeu_ps(dst + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  s = hsum8(acc);
#endif
  for (; i < n; i++) {
    float e = std::exp(src[i] - sub);
    dst[i] = e;
    s += e;
  }
  return s;
}

// Σ exp(src[i] − sub) without storing.
static inline float exp_sub_sum_nostore(const float* src, float sub, long n) {
  long i = 0;
  float s = 0.f;
#ifdef LLM_AVX2
  __m256 vs = _mm256_set1_ps(sub), acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) acc = _mm256_add_ps(acc, exp8(_mm256_sub_ps(_mm256_loadu_ps(src + i), vs)));
  s = hsum8(acc);
#endif
  for (; i < n; i++) s += std::exp(src[i] - sub);
  return s;
}

// dst[0:n] = widen(src[off:off+n]).
static inline void widen_row(const void* src, int dt, long off, long n, float* dst) {
  if (dt == llm::DT_F32) {
    const float* s = static_cast<const float*>(src) + off;
    for (long i = 0; i < n; i++) dst[i] = s[i];
    return;
  }
  const uint16_t* s = static_cast<const uint16_t*>(src) + off;
  long i = 0;
  if (dt == llm::DT_BF16) {
    for (; i < n; i++) {
      uint32_t u = static_cast<uint32_t>(s[i]) << 16;
      std::memcpy(dst + i, &u, 4);
    }
    return;
  }
#if defined(LLM_AVX2) && defined(__F16C__)
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
#endif
  for (; i < n; i++) dst[i] = llm::f16_to_f32(s[i]);
}

// row[c] *= keep(base + c) ? keepScale : 0 for c in [0, n), where keep(idx) is the dropout test
// ((fmix32(uint32(idx) ^ seedMix) >> 8) >= thr).
static inline void dropout_scale_row(uint32_t seedMix, uint64_t base, uint32_t thr, float keepScale, float* row, long n) {
  long c = 0;
  uint32_t b32 = static_cast<uint32_t>(base);
#ifdef LLM_AVX2
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i vseed = _mm256_set1_epi32(static_cast<int>(seedMix));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(0x85ebca6bu)), m2 = _mm256_set1_epi32(static_cast<int>(0xc2b2ae35u));
  // Compare unsigned 24-bit values as signed: both sides are < 2^25, so no sign issues.
  const __m256i vthr = _mm256_set1_epi32(static_cast<int>(thr) - 1);
  const __m256 vks = _mm256_set1_ps(keepScale);
  for (; c + 8 <= n; c += 8) {
    __m256i h = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(b32 + static_cast<uint32_t>(c))), lane);
    h = _mm256_xor_si256(h, vseed);
    h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
    h = _mm256_mullo_epi32(h, m1);
    h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 13));
    h = _mm256_mullo_epi32(h, m2);
    h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
    __m256i keep = _mm256_cmpgt_epi32(_mm256_srli_epi32(h, 8), vthr);  // (h>>8) > thr-1
    __m256 f = _mm256_and_ps(_mm256_castsi256_ps(keep), vks);
    _mm256_storeu_ps(row + c, _mm256_mul_ps(_mm256_loadu_ps(row + c), f));
  }
#endif
  for (; c < n; c++) {
    uint32_t h = llm::fmix32((b32 + static_cast<uint32_t>(c)) ^ seedMix);
    row[c] *= (h >> 8) >= thr ? keepScale : 0.f;
  }
}
