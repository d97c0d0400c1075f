// Products with block-quantized weights (llama.cpp's Q8_0 / Q4_0 layouts, see QuantWeight in
// src/tensor/backend/types.ts): activations quantized per row and 32-block to int8, each block's
// dot an exact integer scaled by d_w·d_x, summed in f32. One dot kernel per ISA (generic, AVX2),
// chosen in isa.cc; the driver (quant.cc) quantizes the activations and threads over tiles.
#pragma once
#include <cstdint>

namespace llm {

constexpr long QBLOCK = 32;

struct QuantKernel {
  const char* name;
  // Σ_b f16(dw[b])·dx[b]·(w_b · x_b) over nb blocks of one weight row and one activation row.
  float (*dot_q8)(const int8_t* w, const uint16_t* dw, const int8_t* x, const float* dx, long nb);
  float (*dot_q4)(const uint8_t* w, const uint16_t* dw, const int8_t* x, const float* dx, long nb);
};

const QuantKernel* quant_kernel_generic();
const QuantKernel* quant_kernel_avx2();  // null when not compiled in

// Activation rows [M, K] to int8 [M, Kp] and f32 scales [M, Kp/32]; twin of `quantizeRows` in
// src/tensor/quant.ts (scale max|x|/127, round half away from zero; NaN/Inf → a NaN scale).
void quantize_rows(const float* A, long M, long K, long Kp, int8_t* q, float* s);

// C[M,N] = alpha·A[M,K]·Wᵀ + beta·C; kind 0 = q8_0 (qs int8 [N,Kp]), 1 = q4_0 (qs u8 [N,Kp/2]).
void gemm_q(const QuantKernel* k, long M, long N, long K, long Kp, int kind, const float* A, const void* qs, const uint16_t* d,
            float* C, float alpha, float beta);

}  // namespace llm
