// The portable quantized dot kernels and the driver shared by every ISA (see quant.h).
#include "quant.h"

#include <cmath>
#include <vector>

#include "common.h"
#include "thread_pool.h"

namespace llm {
namespace qgeneric {
#define QUANT_NAME "generic"
#include "quant_impl.h"
}  // namespace qgeneric
const QuantKernel* quant_kernel_generic() { return &qgeneric::table; }

void quantize_rows(const float* A, long M, long K, long Kp, int8_t* q, float* s) {
  const long nb = Kp / QBLOCK;
  for (long m = 0; m < M; m++)
    for (long b = 0; b < nb; b++) {
      const long k0 = b * QBLOCK, k1 = k0 + QBLOCK < K ? k0 + QBLOCK : K;
      const float* x = A + m * K;
      int8_t* qr = q + m * Kp;
      for (long k = k0; k < k0 + QBLOCK; k++) qr[k] = 0;
      float amax = 0;
      bool bad = false;
      for (long k = k0; k < k1; k++) {
        if (!std::isfinite(x[k])) bad = true;
        else if (std::fabs(x[k]) > amax) amax = std::fabs(x[k]);
      }
      const float d = amax / 127.0f;
      s[m * nb + b] = bad ? NAN : d;
      if (bad || d == 0) continue;
      const float id = 1.0f / d;
      for (long k = k0; k < k1; k++) qr[k] = static_cast<int8_t>(std::round(x[k] * id));
    }
}

void gemm_q(const QuantKernel* k, long M, long N, long K, long Kp, int kind, const float* A, const void* qs, const uint16_t* d,
            float* C, float alpha, float beta) {
  const long nb = Kp / QBLOCK;
  std::vector<int8_t> xq(static_cast<size_t>(M * Kp));
  std::vector<float> xs(static_cast<size_t>(M * nb));
  // Activation rows in parallel chunks (a row's quantization is independent of the others).
  const long rowChunk = 64, rowTasks = (M + rowChunk - 1) / rowChunk;
  parallel_for(static_cast<int>(rowTasks), [&](int t, int) {
    const long m0 = t * rowChunk, m1 = m0 + rowChunk < M ? m0 + rowChunk : M;
    quantize_rows(A + m0 * K, m1 - m0, K, Kp, xq.data() + m0 * Kp, xs.data() + m0 * nb);
  });
  // Tiles of 64 weight rows × 64 activation rows: a weight tile (64·Kp bytes or half) stays in
  // cache while every activation row of the tile meets it.
  const long tn = 64, tm = 64, nTiles = (N + tn - 1) / tn, mTiles = (M + tm - 1) / tm;
  const int8_t* w8 = static_cast<const int8_t*>(qs);
  const uint8_t* w4 = static_cast<const uint8_t*>(qs);
  parallel_for(static_cast<int>(nTiles * mTiles), [&](int t, int) {
    const long n0 = (t / mTiles) * tn, m0 = (t % mTiles) * tm;
    const long n1 = n0 + tn < N ? n0 + tn : N, m1 = m0 + tm < M ? m0 + tm : M;
    for (long n = n0; n < n1; n++)
      for (long m = m0; m < m1; m++) {
        const int8_t* x = xq.data() + m * Kp;
        const float* dx = xs.data() + m * nb;
        const float v = kind == 0 ? k->dot_q8(w8 + n * Kp, d + n * nb, x, dx, nb) : k->dot_q4(w4 + n * Kp / 2, d + n * nb, x, dx, nb);
        float* c = C + m * N + n;
        *c = beta == 0 ? alpha * v : alpha * v + beta * *c;
      }
  });
}

}  // namespace llm
