// RMSNorm (forward/backward, (1+w) variant, 16-bit weights) and rotate-half RoPE.
// Included inside an ISA namespace after simd.h.
#pragma once
#include <cmath>
#include <cstdlib>

// Splits [0, n) into chunks of at least `grain` items (parallel only when it pays).
template <class F>
static void chunked(long n, long grain, F&& f) {
  if (n <= 0) return;
  long nt = llm::num_threads();
  long chunks = n / grain;
  if (chunks > nt * 4) chunks = nt * 4;
  if (chunks <= 1) {
    f(0L, n, 0);
    return;
  }
  llm::parallel_for(static_cast<int>(chunks), [&](int c, int tid) { f(n * c / chunks, n * (c + 1) / chunks, tid); });
}

// Widened weights (1 + w when addOne), malloc'd; caller frees.
static float* effective_weights(const void* w, int wdt, bool addOne, long C) {
  float* we = static_cast<float*>(std::malloc(sizeof(float) * (C > 0 ? C : 1)));
  widen_row(w, wdt, 0, C, we);
  if (addOne)
    for (long c = 0; c < C; c++) we[c] += 1.f;
  return we;
}

static void rmsnorm_fwd(const float* x, const void* w, int wdt, bool addOne, float eps, long N, long C, float* out, float* rstd) {
  float* we = effective_weights(w, wdt, addOne, C);
  chunked(N, 16384 / (C > 0 ? C : 1) + 1, [&](long r0, long r1, int) {
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * C;
      float* o = out + r * C;
      float rs = 1.f / std::sqrt(sumsq(xr, C) / static_cast<float>(C) + eps);
      rstd[r] = rs;
      for (long c = 0; c < C; c++) o[c] = xr[c] * rs * we[c];
    }
  });
  std::free(we);
}

static void rmsnorm_bwd(const float* x, const void* w, int wdt, bool addOne, const float* rstd, const float* dOut, long N, long C,
                        float* dx, float* dw) {
  float* we = effective_weights(w, wdt, addOne, C);
  long nt = llm::num_threads();
  long chunks = N * C < 32768 ? 1 : (N < nt ? N : nt);
  if (chunks < 1) chunks = 1;
  // Per-chunk dW partials, summed in chunk order afterwards.
  float* part = dw ? static_cast<float*>(std::calloc(static_cast<size_t>(chunks * C > 0 ? chunks * C : 1), sizeof(float))) : nullptr;
  auto body = [&](int ch, int) {
    long r0 = N * ch / chunks, r1 = N * (ch + 1) / chunks;
    float* pw = part ? part + ch * C : nullptr;
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * C;
      const float* g = dOut + r * C;
      float* d = dx + r * C;
      float rs = rstd[r];
      float dot = 0.f;
      for (long c = 0; c < C; c++) d[c] = g[c] * we[c];  // temporarily dOut·w
      dot = dotf(d, xr, C);
      float coef = rs * rs * rs * dot / static_cast<float>(C);
      for (long c = 0; c < C; c++) d[c] = d[c] * rs - xr[c] * coef;
      if (pw)
        for (long c = 0; c < C; c++) pw[c] += g[c] * xr[c] * rs;
    }
  };
  if (chunks == 1) body(0, 0);
  else llm::parallel_for(static_cast<int>(chunks), body);
  if (dw) {
    for (long ch = 0; ch < chunks; ch++)
      for (long c = 0; c < C; c++) dw[c] += part[ch * C + c];
    std::free(part);
  }
  std::free(we);
}

static void rope(const float* x, const int32_t* pos, const float* cs, const float* sn, long N, long H, long D, bool inverse,
                 float* out) {
  const long half = D / 2;
  chunked(N, 32768 / (H * D > 0 ? H * D : 1) + 1, [&](long n0, long n1, int) {
    for (long n = n0; n < n1; n++) {
      const float* c = cs + static_cast<long>(pos[n]) * half;
      const float* s = sn + static_cast<long>(pos[n]) * half;
      const float sg = inverse ? -1.f : 1.f;
      for (long h = 0; h < H; h++) {
        const float* xi = x + (n * H + h) * D;
        float* o = out + (n * H + h) * D;
        for (long i = 0; i < half; i++) {
          float x1 = xi[i], x2 = xi[i + half], si = sg * s[i];
          o[i] = x1 * c[i] - x2 * si;
          o[i + half] = x2 * c[i] + x1 * si;
        }
      }
    }
  });
}
