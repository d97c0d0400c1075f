// Portable build of the non-GEMM kernels (no ISA flags beyond the compiler default).
#include "kernels_prelude.h"

namespace llm {
namespace kgeneric {
#define KERNELS_NAME "generic"
#include "kernels_body.h"
}  // namespace kgeneric
const Kernels* kernels_generic() { return &kgeneric::table; }
}  // namespace llm
