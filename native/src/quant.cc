// The portable quantized kernels and the driver shared by every ISA (see quant.h).
#include "quant.h"

#include <algorithm>
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

// Q4_1's (d, m) for the first len values of a block, in double: the operations and order of
// fitQ41 in src/tensor/quant.ts (min/max grid, its integers, one least-squares refit).
static void fit_q41(const float* v, long len, double* d, double* m) {
  double lo = v[0], hi = v[0];
  for (long j = 1; j < len; j++) lo = std::min(lo, static_cast<double>(v[j])), hi = std::max(hi, static_cast<double>(v[j]));
  const double d0 = (hi - lo) / 15;
  *d = 0, *m = lo;
  if (!(d0 > 0)) return;
  double sq = 0, sx = 0, sqq = 0, sqx = 0;
  for (long j = 0; j < len; j++) {
    const double q = std::min(15.0, std::floor((v[j] - lo) / d0 + 0.5));
    sq += q;
    sx += v[j];
    sqq += q * q;
    sqx += q * v[j];
  }
  const double den = len * sqq - sq * sq;
  const double d1 = den > 0 ? (len * sqx - sq * sx) / den : 0;
  if (d1 > 0) *d = d1, *m = (sx - d1 * sq) / len;
  else *d = d0;
}

// One row; returns false at its first refusal.
static bool quantize_weight_row(const void* data, int dtype, long n, long K, int kind, void* qs, uint16_t* d, uint16_t* mins, QuantRefusal* why) {
  const long nb = (K + QBLOCK - 1) / QBLOCK, Kp = nb * QBLOCK;
  float vals[QBLOCK];
  for (long b = 0; b < nb; b++) {
    const long k0 = b * QBLOCK;
    float amax = 0, m = 0;
    for (long j = 0; j < QBLOCK; j++) {
      const long k = k0 + j;
      const float v = k < K ? load_widen(data, dtype, n * K + k) : 0.0f;
      if (!std::isfinite(v)) {
        *why = {1, n, k, v};
        return false;
      }
      vals[j] = v;
      if (std::fabs(v) > amax) amax = std::fabs(v), m = v;
    }
    if (kind == 2) {
      double fd, fm;
      fit_q41(vals, K - k0 < QBLOCK ? K - k0 : QBLOCK, &fd, &fm);
      if (std::fabs(fd) > 65504.0 || std::fabs(fm) > 65504.0) {
        *why = {2, n, 0, amax};
        return false;
      }
      const uint16_t dh = f32_to_f16(static_cast<float>(fd)), mh = f32_to_f16(static_cast<float>(fm));
      d[n * nb + b] = dh;
      mins[n * nb + b] = mh;
      const float df = f16_to_f32(dh), mf = f16_to_f32(mh), id = df == 0 ? 0.0f : 1.0f / df;
      auto q = [&](long j) {
        if (k0 + j >= K) return 0;
        const int r = round_half_away((vals[j] - mf) * id);
        return r < 0 ? 0 : r > 15 ? 15 : r;
      };
      uint8_t* row = static_cast<uint8_t*>(qs) + (n * Kp + k0) / 2;
      for (long j = 0; j < QBLOCK / 2; j++) row[j] = static_cast<uint8_t>(q(j) | q(j + QBLOCK / 2) << 4);
      continue;
    }
    // The scale in double, then f32, then f16: the TypeScript twin's roundings.
    const double scale = kind == 0 ? static_cast<double>(amax) / 127.0 : static_cast<double>(m) / -8.0;
    if (std::fabs(scale) > 65504.0) {
      *why = {2, n, 0, amax};
      return false;
    }
    const uint16_t dh = f32_to_f16(static_cast<float>(scale));
    d[n * nb + b] = dh;
    const float df = f16_to_f32(dh), id = df == 0 ? 0.0f : 1.0f / df;
    auto q = [&](long j, int lo, int hi) { const int r = round_half_away(vals[j] * id); return r < lo ? lo : r > hi ? hi : r; };
    if (kind == 0) {
      int8_t* row = static_cast<int8_t*>(qs) + n * Kp + k0;
      for (long j = 0; j < QBLOCK; j++) row[j] = static_cast<int8_t>(q(j, -127, 127));
    } else {
      uint8_t* row = static_cast<uint8_t*>(qs) + (n * Kp + k0) / 2;
      for (long j = 0; j < QBLOCK / 2; j++) row[j] = static_cast<uint8_t>((q(j, -8, 7) + 8) | (q(j + QBLOCK / 2, -8, 7) + 8) << 4);
    }
  }
  return true;
}

QuantRefusal quantize_weight(const void* data, int dtype, long N, long K, int kind, void* qs, uint16_t* d, uint16_t* m) {
  const long chunk = 16, tasks = (N + chunk - 1) / chunk;
  std::vector<QuantRefusal> why(static_cast<size_t>(tasks));
  parallel_for(static_cast<int>(tasks), [&](int t, int) {
    for (long n = t * chunk; n < N && n < (t + 1) * chunk; n++)
      if (!quantize_weight_row(data, dtype, n, K, kind, qs, d, m, &why[static_cast<size_t>(t)])) return;
  });
  for (const QuantRefusal& w : why)
    if (w.code) return w;
  return {};
}

void gemm_q(const QuantKernel* k, long M, long N, long K, long Kp, int kind, const float* A, const void* qs, const uint16_t* d,
            const uint16_t* m, float* C, float alpha, float beta) {
  const long nb = Kp / QBLOCK;
  std::vector<int8_t> xq(static_cast<size_t>(M * Kp));
  std::vector<float> xs(static_cast<size_t>(M * nb)), xsum(static_cast<size_t>(M * nb));
  // Activations quantized once per call, rows in parallel chunks (each row is independent).
  const long rowChunk = 16, rowTasks = (M + rowChunk - 1) / rowChunk;
  parallel_for(static_cast<int>(rowTasks), [&](int t, int) {
    const long m0 = t * rowChunk, m1 = m0 + rowChunk < M ? m0 + rowChunk : M;
    k->quantize_rows(A + m0 * K, m1 - m0, K, Kp, xq.data() + m0 * Kp, xs.data() + m0 * nb, xsum.data() + m0 * nb);
  });
  // Tiles of 64 weight rows × 64 activation rows: the weight tile (64·Kp bytes or half) stays in
  // cache while every activation row of the tile meets it. Few rows (decode steps): tiles of 16
  // weight rows, so both threads share the weight stream.
  const long tn = M <= 4 ? 16 : 64, tm = 64, nTiles = (N + tn - 1) / tn, mTiles = (M + tm - 1) / tm;
  parallel_for(static_cast<int>(nTiles * mTiles), [&](int t, int) {
    const long n0 = (t / mTiles) * tn, m0 = (t % mTiles) * tm;
    const long n1 = n0 + tn < N ? n0 + tn : N, m1 = m0 + tm < M ? m0 + tm : M;
    k->tile(kind, qs, d, kind == 2 ? m : nullptr, nb, n0, n1, xq.data(), xs.data(), xsum.data(), m0, m1, C, N, alpha, beta);
  });
}

}  // namespace llm
