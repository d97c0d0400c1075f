// Run-time choice of the kernels, once at load: what the CPU (and the OS) offers, capped by
// LLM2VEC_NATIVE_ISA = generic | avx2 | avx512 | avx512bf16 (unset: the best this CPU has).
//
// bf16-compute products run either on a kernel with bf16 units (avx512bf16) or on the f32
// kernel with operands rounded to bf16. Both give the same numerics up to summation order; which
// is faster depends on the CPU (vdpbf16ps retires half the f32 FMA rate on some parts), so
// without an explicit cap the first bf16 product times both micro-kernels once (~10 ms, one
// thread, L1-resident tiles) and keeps the faster. LLM2VEC_NATIVE_ISA=avx512bf16 forces the
// bf16-unit kernel, avx512 and below force the rounded path.
#pragma once
#include <string>

#include "gemm.h"
#include "kernels.h"
#include "quant.h"

namespace llm {

struct CpuFeatures {
  bool avx2;        // AVX2 + FMA + F16C
  bool avx512f;     // and AVX-512F with the OS saving zmm state
  bool avx512bf16;  // and AVX-512 BW, VL and BF16 (vdpbf16ps)
};

struct IsaChoice {
  const GemmKernel* gemm;          // f32 products (and bf16 ones on rounded operands)
  const GemmKernel* bf16Units;     // the bf16-unit kernel the cap and the CPU allow, or null
  bool bf16Forced;                 // LLM2VEC_NATIVE_ISA=avx512bf16: use bf16Units without timing
  const Kernels* kernels;
  const QuantKernel* quant;        // dot kernels of quantized-weight products
};

struct Bf16Choice {
  const GemmKernel* kernel;  // runs GEMM_BF16 products; == isa_choice().gemm for the rounded path
  std::string name;          // "avx512bf16" or e.g. "avx512-rounded"
  std::string why;           // "forced by LLM2VEC_NATIVE_ISA", "timed: 85 vs 110 GFLOP/s", "no bf16 units"
  double unitsGflops, f32Gflops;  // the timing (0 when not timed)
};

CpuFeatures cpu_features();
const IsaChoice& isa_choice();    // computed on first call
const Bf16Choice& bf16_choice();  // computed (and timed, if need be) on first call

// The kernel a product runs on.
inline const GemmKernel* gemm_for(const IsaChoice& c, const GemmArgs& g) {
  return g.compute == GEMM_BF16 ? bf16_choice().kernel : c.gemm;
}

}  // namespace llm
