// Gated activations, cross-entropy, embedding gather and elementwise ops.
// Included inside an ISA namespace after simd.h and norm_rope_impl.h (for `chunked`).
#pragma once
#include <cmath>

constexpr float SQRT_2_OVER_PI = 0.7978845608028654f;
constexpr long EW_GRAIN = 1L << 15;

#ifdef LLM_AVX2
// Lane-wise act(x) and act'(x).
static inline void act8(int kind, __m256 x, __m256& y, __m256& dy) {
  const __m256 one = _mm256_set1_ps(1.f);
  if (kind == llm::ACT_SILU) {
    __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
    y = _mm256_mul_ps(x, s);
    dy = _mm256_mul_ps(s, _mm256_fmadd_ps(x, _mm256_sub_ps(one, s), one));
    return;
  }
  __m256 x2 = _mm256_mul_ps(x, x);
  __m256 c = _mm256_set1_ps(SQRT_2_OVER_PI);
  __m256 inner = _mm256_mul_ps(c, _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(0.044715f), x2), x, x));
  // tanh(u) = 1 − 2/(e^{2u} + 1)
  __m256 e = exp8(_mm256_add_ps(inner, inner));
  __m256 t = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.f), _mm256_add_ps(e, one)));
  __m256 half = _mm256_set1_ps(0.5f);
  __m256 dInner = _mm256_mul_ps(c, _mm256_fmadd_ps(_mm256_set1_ps(3 * 0.044715f), x2, one));
  y = _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, t));
  dy = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_fnmadd_ps(t, t, one)), dInner,
                       _mm256_mul_ps(half, _mm256_add_ps(one, t)));
}
#endif

#if defined(__AVX512F__)
// act(x) on 16 lanes (the forward needs no derivative): act8's formulas on exp16.
static inline __m512 act16(int kind, __m512 x) {
  const __m512 one = _mm512_set1_ps(1.f);
  if (kind == llm::ACT_SILU) return _mm512_mul_ps(x, _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x)))));
  __m512 x2 = _mm512_mul_ps(x, x);
  __m512 inner = _mm512_mul_ps(_mm512_set1_ps(SQRT_2_OVER_PI), _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), x2), x, x));
  __m512 e = exp16(_mm512_add_ps(inner, inner));
  __m512 t = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.f), _mm512_add_ps(e, one)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(one, t));
}
#endif

static inline void act1(int kind, float x, float& y, float& dy) {
  if (kind == llm::ACT_SILU) {
    float s = 1.f / (1.f + std::exp(-x));
    y = x * s;
    dy = s * (1.f + x * (1.f - s));
    return;
  }
  float inner = SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
  float t = std::tanh(inner);
  float dInner = SQRT_2_OVER_PI * (1.f + 3.f * 0.044715f * x * x);
  y = 0.5f * x * (1.f + t);
  dy = 0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * dInner;
}

static void gated_fwd(int kind, const float* gate, const float* up, float* out, long n) {
  chunked(n, EW_GRAIN, [&](long i0, long i1, int) {
    long i = i0;
#if defined(__AVX512F__)
    for (; i + 16 <= i1; i += 16) _mm512_storeu_ps(out + i, _mm512_mul_ps(act16(kind, _mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
#endif
#ifdef LLM_AVX2
    for (; i + 8 <= i1; i += 8) {
      __m256 y, dy;
      act8(kind, _mm256_loadu_ps(gate + i), y, dy);
      _mm256_storeu_ps(out + i, _mm256_mul_ps(y, _mm256_loadu_ps(up + i)));
    }
#endif
    for (; i < i1; i++) {
      float y, dy;
      act1(kind, gate[i], y, dy);
      out[i] = y * up[i];
    }
  });
}

static void gated_bwd(int kind, const float* gate, const float* up, const float* dOut, float* dGate, float* dUp, long n) {
  chunked(n, EW_GRAIN, [&](long i0, long i1, int) {
    long i = i0;
#ifdef LLM_AVX2
    for (; i + 8 <= i1; i += 8) {
      __m256 y, dy;
      act8(kind, _mm256_loadu_ps(gate + i), y, dy);
      __m256 g = _mm256_loadu_ps(dOut + i);
      __m256 u = _mm256_loadu_ps(up + i);
      _mm256_storeu_ps(dUp + i, _mm256_mul_ps(g, y));
      _mm256_storeu_ps(dGate + i, _mm256_mul_ps(_mm256_mul_ps(g, u), dy));
    }
#endif
    for (; i < i1; i++) {
      float y, dy;
      act1(kind, gate[i], y, dy);
      float g = dOut[i], u = up[i];
      dUp[i] = g * y;
      dGate[i] = g * u * dy;
    }
  });
}

static void ce_fwd(const float* logits, const int32_t* targets, int32_t ignore, long N, long V, float* loss, float* lse) {
  chunked(N, 32768 / (V > 0 ? V : 1) + 1, [&](long r0, long r1, int) {
    for (long r = r0; r < r1; r++) {
      const float* x = logits + r * V;
      float m = maxf(x, V);
      float l;
      if (m == INFINITY || m == -INFINITY || m != m) {
        l = m;  // degenerate rows follow IEEE like the reference (±inf / NaN)
        if (m == -INFINITY) l = -INFINITY;
      } else {
        l = m + std::log(exp_sub_sum_nostore(x, m, V));
      }
      lse[r] = l;
      int32_t t = targets[r];
      loss[r] = t == ignore ? 0.f : l - x[t];
    }
  });
}

static void ce_bwd(const float* logits, const int32_t* targets, int32_t ignore, const float* lse, const float* rowScale, long N,
                   long V, float* dLogits) {
  chunked(N, 32768 / (V > 0 ? V : 1) + 1, [&](long r0, long r1, int) {
    for (long r = r0; r < r1; r++) {
      float* d = dLogits + r * V;
      int32_t t = targets[r];
      if (t == ignore) {
        for (long c = 0; c < V; c++) d[c] = 0.f;
        continue;
      }
      float sc = rowScale[r];
      exp_sub_sum(logits + r * V, lse[r], d, V);
      for (long c = 0; c < V; c++) d[c] *= sc;
      d[t] -= sc;
    }
  });
}

static void embedding(const void* table, int dt, const int32_t* ids, long n, long C, float* out) {
  chunked(n, 65536 / (C > 0 ? C : 1) + 1, [&](long i0, long i1, int) {
    for (long i = i0; i < i1; i++) widen_row(table, dt, static_cast<long>(ids[i]) * C, C, out + i * C);
  });
}

static void ew_add(const float* a, const float* b, float* out, long n) {
  chunked(n, EW_GRAIN * 4, [&](long i0, long i1, int) {
    for (long i = i0; i < i1; i++) out[i] = a[i] + b[i];
  });
}
static void ew_mul(const float* a, const float* b, float* out, long n) {
  chunked(n, EW_GRAIN * 4, [&](long i0, long i1, int) {
    for (long i = i0; i < i1; i++) out[i] = a[i] * b[i];
  });
}
static void ew_axpy(float alpha, const float* x, float* y, long n) {
  chunked(n, EW_GRAIN * 4, [&](long i0, long i1, int) {
    for (long i = i0; i < i1; i++) y[i] += alpha * x[i];
  });
}
static void ew_scale(const float* x, float alpha, float* out, long n) {
  chunked(n, EW_GRAIN * 4, [&](long i0, long i1, int) {
    for (long i = i0; i < i1; i++) out[i] = x[i] * alpha;
  });
}
