// AVX-512F build of the non-GEMM kernels: the AVX2/FMA bodies compiled with -mavx512f, where simd.h's
// vf is 16 floats wide (the panel attention) and the compiler may widen the plain loops; chosen at
// run time on CPUs with AVX-512F (LLM2VEC_NATIVE_ISA=avx2 caps it off).
#include "kernels_prelude.h"

#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
namespace llm {
namespace kavx512 {
#define KERNELS_NAME "avx512"
#include "kernels_body.h"
}  // namespace kavx512
const Kernels* kernels_avx512() { return &kavx512::table; }
}  // namespace llm
#else
namespace llm {
const Kernels* kernels_avx512() { return nullptr; }
}  // namespace llm
#endif
