// N-API glue of the GEMM family: unpacks gemm(A, B, C, params) and runs the product on the
// kernel isa.cc chose for its compute dtype.
#include "addon_glue.h"
#include "gemm.h"
#include "isa.h"
#include "napi_args.h"

#include <cstdint>
#include <string>

namespace llm {
namespace napi_glue {

// The micro-kernels load packed B with aligned vector loads: a pack lives at the first 64-byte
// boundary of its Float32Array, which is allocated kPackSlack words longer than the pack.
constexpr long kPackSlack = 15;
inline float* aligned64(float* p) {
  return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~static_cast<uintptr_t>(63));
}

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
  const GemmKernel* kr = gemm_for(isa_choice(), g);
  // Optional packed-once B (argument 4, described by p[16..20]): used only when it was packed by
  // this very kernel for this product's N, K, transB and compute; anything else packs per call
  // as usual (a different kernel chosen since, for instance), which gives the same result.
  if (a.argc >= 5 && p[16] >= 0) {
    F32OPT_LEN(4, packed, len);
    const bool fits = packed && static_cast<int>(p[16]) == gemm_kernel_id(kr) && static_cast<long>(p[17]) == g.N &&
                      static_cast<long>(p[18]) == g.K && (p[19] != 0) == g.transB && static_cast<int>(p[20]) == g.compute &&
                      static_cast<long>(len) == packed_b_words(kr, g.N, g.K) + kPackSlack;
    if (fits) g.Bpacked = aligned64(packed);
  }
  gemm(kr, g);
  return nullptr;
}
#undef KNAME

#define KNAME "packB"
// packB(B, out | null, params [N, K, transB, bDtype, ldb, compute]) → the words to allocate for
// the packed B on the kernel this compute dtype runs on (out null: only the count; the pack plus
// alignment slack), and that kernel's id.
napi_value PackB(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 3) return fail(env, "packB: expected (B, out, params)");
  PARAMS(2, p, 6);
  GemmArgs g{};
  g.batch = 1;
  g.M = 1;
  g.N = static_cast<long>(p[0]);
  g.K = static_cast<long>(p[1]);
  g.transB = p[2] != 0;
  g.bDtype = static_cast<int>(p[3]);
  g.ldb = static_cast<long>(p[4]);
  g.compute = p[5] != 0 ? GEMM_BF16 : GEMM_F32;
  if (g.N <= 0 || g.K <= 0) return fail(env, "packB: N and K must be positive");
  if (!storage(env, a.argv[0], g.bDtype, &g.B)) return fail(env, "packB: B does not match bDtype");
  const GemmKernel* kr = gemm_for(isa_choice(), g);
  const long need = packed_b_words(kr, g.N, g.K) + kPackSlack;
  F32OPT_LEN(1, out, len);
  if (out) {
    if (static_cast<long>(len) != need) return fail(env, "packB: out has " + std::to_string(len) + " words, the packed B takes " + std::to_string(need));
    pack_b_whole(kr, g, aligned64(out));
  }
  napi_value res, w, id;
  napi_create_object(env, &res);
  napi_create_double(env, static_cast<double>(need), &w);
  napi_create_int32(env, gemm_kernel_id(kr), &id);
  napi_set_named_property(env, res, "words", w);
  napi_set_named_property(env, res, "kernel", id);
  return res;
}
#undef KNAME

#define KNAME "gemmQ"
// gemmQ(A, qs, d, C, params [M, N, K, Kp, kind, alpha, beta], m): m is q4_1's minimums (a
// Uint16Array like d), absent for the other kinds; shapes checked in native-gemm.ts.
napi_value GemmQ(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 5) return fail(env, "gemmQ: expected (A, qs, d, C, params)");
  PARAMS(4, p, 7);
  F32(0, A);
  F32(3, C);
  const int kind = static_cast<int>(p[4]);
  void* qs = nullptr;
  void* d = nullptr;
  size_t qlen = 0, dlen = 0;
  if (!arr(env, a.argv[1], kind == 0 ? napi_int8_array : napi_uint8_array, &qs, &qlen)) return fail(env, "gemmQ: qs has the wrong element type");
  if (!arr(env, a.argv[2], napi_uint16_array, &d, &dlen)) return fail(env, "gemmQ: d must be a Uint16Array");
  void* m = nullptr;
  if (kind == 2 && (a.argc < 6 || !arr(env, a.argv[5], napi_uint16_array, &m, nullptr))) return fail(env, "gemmQ: q4_1 needs its minimums m as a Uint16Array");
  gemm_q(isa_choice().quant, static_cast<long>(p[0]), static_cast<long>(p[1]), static_cast<long>(p[2]), static_cast<long>(p[3]), kind, A, qs,
         static_cast<const uint16_t*>(d), static_cast<const uint16_t*>(m), C, static_cast<float>(p[5]), static_cast<float>(p[6]));
  return nullptr;
}
#undef KNAME

#define KNAME "quantizeWeight"
// quantizeWeight(data, qs, d, params [N, K, dtype, kind], why Float64Array(4), m): why = [code, n,
// k, value]; m (q4_1's minimums, a Uint16Array like d) only for kind 2.
napi_value QuantizeWeight(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 5) return fail(env, "quantizeWeight: expected (data, qs, d, params, why)");
  PARAMS(3, p, 4);
  PARAMS(4, why, 4);
  const int dtype = static_cast<int>(p[2]), kind = static_cast<int>(p[3]);
  const void* data;
  if (!storage(env, a.argv[0], dtype, &data)) return fail(env, "quantizeWeight: data does not match dtype");
  void* qs = nullptr;
  void* d = nullptr;
  if (!arr(env, a.argv[1], kind == 0 ? napi_int8_array : napi_uint8_array, &qs, nullptr)) return fail(env, "quantizeWeight: qs has the wrong element type");
  if (!arr(env, a.argv[2], napi_uint16_array, &d, nullptr)) return fail(env, "quantizeWeight: d must be a Uint16Array");
  void* m = nullptr;
  if (kind == 2 && (a.argc < 6 || !arr(env, a.argv[5], napi_uint16_array, &m, nullptr))) return fail(env, "quantizeWeight: q4_1 needs m as a Uint16Array");
  const QuantRefusal r = quantize_weight(data, dtype, static_cast<long>(p[0]), static_cast<long>(p[1]), kind, qs, static_cast<uint16_t*>(d), static_cast<uint16_t*>(m));
  why[0] = r.code;
  why[1] = static_cast<double>(r.n);
  why[2] = static_cast<double>(r.k);
  why[3] = r.value;
  return nullptr;
}
#undef KNAME

}  // namespace napi_glue
}  // namespace llm
