// Products with block-quantized weights (llama.cpp's Q8_0 / Q4_0 / Q4_1 layouts, see QuantWeight
// in src/tensor/backend/types.ts): activations quantized per row and 32-block to int8, each block's
// dot an exact integer scaled by d_w·d_x, summed in f32; Q4_1 adds Σ_b m_w·d_x·Σq_x, its block
// minimums against the activation blocks' sums. One kernel table per ISA (generic, AVX2),
// chosen in isa.cc; the driver (quant.cc) quantizes the activations once per call and threads
// over tiles of weight rows × activation rows.
#pragma once
#include <cstdint>

namespace llm {

constexpr long QBLOCK = 32;

// Round half away from zero for |v| < 2^31, exactly (truncation is exact, and so is v − trunc(v)),
// inline where std::round would be a library call in the portable build.
static inline int round_half_away(float v) {
  int i = static_cast<int>(v);
  const float f = v - static_cast<float>(i);
  if (f >= 0.5f) i++;
  else if (f <= -0.5f) i--;
  return i;
}

struct QuantKernel {
  const char* name;
  // Activation rows [M, K] to int8 [M, Kp], f32 scales [M, Kp/32] and block sums scale·Σq
  // [M, Kp/32]; twin of `quantizeRows` in src/tensor/quant.ts (scale max|x|/127, round half away
  // from zero; NaN/Inf → a NaN scale and sum).
  void (*quantize_rows)(const float* A, long M, long K, long Kp, int8_t* q, float* s, float* sum);
  // C[m, n] = alpha·Σ_b (f16(dw[n,b])·xs[m,b]·(w_nb · x_mb) + f16(mw[n,b])·xsum[m,b]) + beta·C[m, n]
  // for n in [n0, n1), m in [m0, m1); kind 0 = q8_0 (qs int8 [N,Kp]), 1 = q4_0 (qs u8 [N,Kp/2]),
  // 2 = q4_1 (qs u8 [N,Kp/2], mw its minimums; null for the other kinds); C is [M, ldc].
  void (*tile)(int kind, const void* qs, const uint16_t* dw, const uint16_t* mw, long nb, long n0, long n1, const int8_t* xq, const float* xs,
               const float* xsum, long m0, long m1, float* C, long ldc, float alpha, float beta);
};

const QuantKernel* quant_kernel_generic();
const QuantKernel* quant_kernel_avx2();  // null when not compiled in

// C[M,N] = alpha·A[M,K]·Wᵀ + beta·C; kind 0 = q8_0 (qs int8 [N,Kp]), 1 = q4_0 (qs u8 [N,Kp/2]),
// 2 = q4_1 (qs u8 [N,Kp/2] and block minimums m; null for the other kinds).
void gemm_q(const QuantKernel* k, long M, long N, long K, long Kp, int kind, const float* A, const void* qs, const uint16_t* d,
            const uint16_t* m, float* C, float alpha, float beta);

// Why quantize_weight refused a weight: the first bad block in row-major block order.
struct QuantRefusal {
  int code = 0;  // 0 none, 1 a non-finite value at [n, k], 2 a block scale beyond f16 at row n
  long n = 0, k = 0;
  double value = 0;  // the non-finite value, or the block's max |x|
};

// A weight [N, K] stored as dtype (common.h) to Q8_0 (kind 0) / Q4_0 (kind 1) / Q4_1 (kind 2, its
// minimums into m) blocks: twin of `quantizeWeight` in src/tensor/quant.ts (same scale, fit,
// rounding and refusals), rows in parallel.
QuantRefusal quantize_weight(const void* data, int dtype, long N, long K, int kind, void* qs, uint16_t* d, uint16_t* m);

}  // namespace llm
