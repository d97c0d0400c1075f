// Run-time choice of the kernels, once at load: what the CPU (and the OS) offers, capped by
// LLM2VEC_NATIVE_ISA = generic | avx2 | avx512 | avx512bf16 (unset: the best this CPU has).
#pragma once
#include <string>

#include "gemm.h"
#include "kernels.h"

namespace llm {

struct CpuFeatures {
  bool avx2;        // AVX2 + FMA + F16C
  bool avx512f;     // and AVX-512F with the OS saving zmm state
  bool avx512bf16;  // and AVX-512 BW, VL and BF16 (vdpbf16ps)
};

struct IsaChoice {
  const GemmKernel* gemm;      // f32 products, and bf16 products where gemmBf16 is null
  const GemmKernel* gemmBf16;  // a kernel with bf16 units for GEMM_BF16 products, or null
  const Kernels* kernels;
  std::string label;  // e.g. "gemm:avx512 gemm-bf16:avx512bf16 kernels:avx2"
};

CpuFeatures cpu_features();
const IsaChoice& isa_choice();  // computed on first call

// The kernel a product runs on.
inline const GemmKernel* gemm_for(const IsaChoice& c, const GemmArgs& g) {
  return g.compute == GEMM_BF16 && c.gemmBf16 ? c.gemmBf16 : c.gemm;
}

}  // namespace llm
