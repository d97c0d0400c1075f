// AVX2/FMA build of the non-GEMM kernels (compiled with -mavx2 -mfma -mf16c; chosen at run time).
#include "kernels_prelude.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
namespace llm {
namespace kavx2 {
#define KERNELS_NAME "avx2"
#include "kernels_body.h"
}  // namespace kavx2
const Kernels* kernels_avx2() { return &kavx2::table; }
}  // namespace llm
#else
namespace llm {
const Kernels* kernels_avx2() { return nullptr; }
}  // namespace llm
#endif
