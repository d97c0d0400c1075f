// AVX2 build of the quantized kernels (compiled with -mavx2 -mfma -mf16c; chosen at run time).
#include <immintrin.h>

#include <cmath>
#include <vector>

#include "common.h"
#include "quant.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
namespace llm {
namespace qavx2 {
#define QUANT_NAME "avx2"
#include "quant_impl.h"
}  // namespace qavx2
const QuantKernel* quant_kernel_avx2() { return &qavx2::table; }
}  // namespace llm
#else
namespace llm {
const QuantKernel* quant_kernel_avx2() { return nullptr; }
}  // namespace llm
#endif
