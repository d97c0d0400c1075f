// N-API glue of the GEMM family: unpacks gemm(A, B, C, params) and runs the product on the
// kernel isa.cc chose for its compute dtype.
#include "addon_glue.h"
#include "gemm.h"
#include "isa.h"
#include "napi_args.h"

namespace llm {
namespace napi_glue {

#define KNAME "gemm"
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 4) return fail(env, "gemm: expected (A, B, C, params)");
  PARAMS(3, p, 16);
  F32(0, A);
  F32(2, C);
  GemmArgs g;
  g.batch = static_cast<long>(p[0]);
  g.M = static_cast<long>(p[1]);
  g.N = static_cast<long>(p[2]);
  g.K = static_cast<long>(p[3]);
  g.transA = p[4] != 0;
  g.transB = p[5] != 0;
  g.A = A;
  g.lda = static_cast<long>(p[6]);
  g.strideA = static_cast<long>(p[7]);
  g.bDtype = static_cast<int>(p[8]);
  if (!storage(env, a.argv[1], g.bDtype, &g.B)) return fail(env, "gemm: B does not match bDtype");
  g.ldb = static_cast<long>(p[9]);
  g.strideB = static_cast<long>(p[10]);
  g.C = C;
  g.ldc = static_cast<long>(p[11]);
  g.strideC = static_cast<long>(p[12]);
  g.alpha = static_cast<float>(p[13]);
  g.beta = static_cast<float>(p[14]);
  g.compute = p[15] != 0 ? GEMM_BF16 : GEMM_F32;
  gemm(gemm_for(isa_choice(), g), g);
  return nullptr;
}
#undef KNAME

}  // namespace napi_glue
}  // namespace llm
