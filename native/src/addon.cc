// N-API glue of the non-GEMM kernels (attention, norms, RoPE, pointwise, losses) and the module
// entry: unpacks typed arrays and scalar parameter blocks and forwards to the kernel table that
// isa.cc chose. The GEMM glue is addon_gemm.cc, the process-level calls (info, thread priority,
// allocator, pinning the library) addon_process.cc; shapes are validated in native.ts.
#include <napi.h>

#include <string>
#include <vector>

#include "addon_glue.h"
#include "common.h"
#include "isa.h"
#include "kernels.h"
#include "napi_args.h"
#include "thread_pool.h"

namespace {

using namespace llm;
using namespace llm::napi_glue;

const Kernels* g_k = nullptr;

AttnShape attn_shape(const double* p, const uint8_t* mask) {
  AttnShape s;
  s.B = static_cast<long>(p[0]);
  s.T = static_cast<long>(p[1]);
  s.S = static_cast<long>(p[2]);
  s.H = static_cast<long>(p[3]);
  s.KVH = static_cast<long>(p[4]);
  s.D = static_cast<long>(p[5]);
  s.causal = p[6] != 0;
  s.scale = static_cast<float>(p[7]);
  s.dropoutP = p[8];
  s.seed = static_cast<uint32_t>(p[9]);
  s.dropoutBatchOffset = static_cast<long>(p[10]);
  s.kvStride = static_cast<long>(p[11]);
  s.softcap = static_cast<float>(p[12]);
  s.window = static_cast<long>(p[13]);
  s.keyMask = mask;
  return s;
}

#define KNAME "attentionForward"
napi_value AttnFwd(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 7) return fail(env, "attentionForward: expected 7 arguments");
  F32(0, q);
  F32(1, k);
  F32(2, v);
  F32(3, out);
  F32(4, lse);
  void* mask = nullptr;
  if (!arr(env, a.argv[5], napi_uint8_array, &mask, nullptr, true)) return fail(env, "attentionForward: keyMask must be a Uint8Array or null");
  PARAMS(6, p, 14);
  AttnShape s = attn_shape(p, static_cast<const uint8_t*>(mask));
  g_k->attn_fwd(s, q, k, v, out, lse);
  return nullptr;
}
#undef KNAME

// Packed (varlen) forward: `rows` rows back to back in q/k/v/out ([N, H, D], [N, KVH, D]), row b
// holding tokens [starts[b], starts[b+1]); each row attends within itself (no mask, no dropout:
// inference). One call per layer instead of one per row: the rows run in parallel, each through
// the ordinary B = 1 kernel on its own span (serial inside, since the pool is busy), so every
// row's result is bit-equal to that row's own call. A row long enough to dominate the batch
// would leave the other threads idle at the end, so such rows run first, one at a time, with
// the kernel's own parallelism over heads. lse is [N, H]-sized, row b's block at starts[b]·H.
// Shapes and the starts are validated in native.ts.
#define KNAME "attentionForwardPacked"
napi_value AttnFwdPacked(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 7) return fail(env, "attentionForwardPacked: expected 7 arguments");
  F32(0, q);
  F32(1, k);
  F32(2, v);
  F32(3, out);
  F32(4, lse);
  I32(5, starts);
  PARAMS(6, p, 8);
  const long rows = static_cast<long>(p[0]), H = static_cast<long>(p[1]), KVH = static_cast<long>(p[2]), D = static_cast<long>(p[3]);
  auto run_row = [&](long b) {
    const long s0 = starts[b], L = starts[b + 1] - s0;
    if (L <= 0) return;
    // The padded forward's parameter block for this row alone: B = 1, T = S = kvStride = L.
    const double rp[14] = {1, static_cast<double>(L), static_cast<double>(L), p[1], p[2], p[3], p[4], p[5], 0, 0, 0, static_cast<double>(L), p[6], p[7]};
    const AttnShape s = attn_shape(rp, nullptr);
    g_k->attn_fwd(s, q + s0 * H * D, k + s0 * KVH * D, v + s0 * KVH * D, out + s0 * H * D, lse + s0 * H);
  };
  double total = 0;
  for (long b = 0; b < rows; b++) total += static_cast<double>(starts[b + 1] - starts[b]) * (starts[b + 1] - starts[b]);
  const double big = total / (2.0 * num_threads());
  std::vector<long> rest;
  rest.reserve(static_cast<size_t>(rows));
  for (long b = 0; b < rows; b++) {
    const double L = starts[b + 1] - starts[b];
    if (num_threads() > 1 && L * L > big) run_row(b);
    else rest.push_back(b);
  }
  parallel_for(static_cast<int>(rest.size()), [&](int t, int) { run_row(rest[static_cast<size_t>(t)]); });
  return nullptr;
}
#undef KNAME

#define KNAME "attentionBackward"
napi_value AttnBwd(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 11) return fail(env, "attentionBackward: expected 11 arguments");
  F32(0, q);
  F32(1, k);
  F32(2, v);
  F32(3, out);
  F32(4, lse);
  F32(5, dOut);
  F32(6, dq);
  F32(7, dk);
  F32(8, dv);
  void* mask = nullptr;
  if (!arr(env, a.argv[9], napi_uint8_array, &mask, nullptr, true)) return fail(env, "attentionBackward: keyMask must be a Uint8Array or null");
  PARAMS(10, p, 14);
  AttnShape s = attn_shape(p, static_cast<const uint8_t*>(mask));
  g_k->attn_bwd(s, q, k, v, out, lse, dOut, dq, dk, dv);
  return nullptr;
}
#undef KNAME

#define KNAME "rmsnormForward"
napi_value RmsFwd(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 5) return fail(env, "rmsnormForward: expected 5 arguments");
  F32(0, x);
  F32(2, out);
  F32(3, rstd);
  PARAMS(4, p, 5);
  int wdt = static_cast<int>(p[0]);
  const void* w;
  if (!storage(env, a.argv[1], wdt, &w)) return fail(env, "rmsnormForward: w does not match wDtype");
  g_k->rmsnorm_fwd(x, w, wdt, p[1] != 0, static_cast<float>(p[2]), static_cast<long>(p[3]), static_cast<long>(p[4]), out, rstd);
  return nullptr;
}
#undef KNAME

#define KNAME "rmsnormBackward"
napi_value RmsBwd(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 7) return fail(env, "rmsnormBackward: expected 7 arguments");
  F32(0, x);
  F32(2, rstd);
  F32(3, dOut);
  F32(4, dx);
  F32OPT(5, dw);
  PARAMS(6, p, 4);
  int wdt = static_cast<int>(p[0]);
  const void* w;
  if (!storage(env, a.argv[1], wdt, &w)) return fail(env, "rmsnormBackward: w does not match wDtype");
  g_k->rmsnorm_bwd(x, w, wdt, p[1] != 0, rstd, dOut, static_cast<long>(p[2]), static_cast<long>(p[3]), dx, dw);
  return nullptr;
}
#undef KNAME

#define KNAME "rope"
napi_value Rope(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 6) return fail(env, "rope: expected 6 arguments");
  F32(0, x);
  I32(1, pos);
  F32(2, cs);
  F32(3, sn);
  F32(4, out);
  PARAMS(5, p, 4);
  g_k->rope(x, pos, cs, sn, static_cast<long>(p[0]), static_cast<long>(p[1]), static_cast<long>(p[2]), p[3] != 0, out);
  return nullptr;
}
#undef KNAME

#define KNAME "gatedActForward"
napi_value GatedFwd(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 4) return fail(env, "gatedActForward: expected 4 arguments");
  int kind = static_cast<int>(num(env, a.argv[0]));
  size_t n = 0;
  float* gate;
  if (!arr(env, a.argv[1], napi_float32_array, reinterpret_cast<void**>(&gate), &n)) return fail(env, "gatedActForward: gate must be a Float32Array");
  F32(2, up);
  F32(3, out);
  g_k->gated_fwd(kind, gate, up, out, static_cast<long>(n));
  return nullptr;
}
#undef KNAME

#define KNAME "gatedActBackward"
napi_value GatedBwd(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 6) return fail(env, "gatedActBackward: expected 6 arguments");
  int kind = static_cast<int>(num(env, a.argv[0]));
  size_t n = 0;
  float* gate;
  if (!arr(env, a.argv[1], napi_float32_array, reinterpret_cast<void**>(&gate), &n)) return fail(env, "gatedActBackward: gate must be a Float32Array");
  F32(2, up);
  F32(3, dOut);
  F32(4, dGate);
  F32(5, dUp);
  g_k->gated_bwd(kind, gate, up, dOut, dGate, dUp, static_cast<long>(n));
  return nullptr;
}
#undef KNAME

#define KNAME "crossEntropyForward"
napi_value CeFwd(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 5) return fail(env, "crossEntropyForward: expected 5 arguments");
  F32(0, logits);
  I32(1, targets);
  F32(2, loss);
  F32(3, lse);
  PARAMS(4, p, 3);
  g_k->ce_fwd(logits, targets, static_cast<int32_t>(p[0]), static_cast<long>(p[1]), static_cast<long>(p[2]), loss, lse);
  return nullptr;
}
#undef KNAME

#define KNAME "crossEntropyBackward"
napi_value CeBwd(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 6) return fail(env, "crossEntropyBackward: expected 6 arguments");
  F32(0, logits);
  I32(1, targets);
  F32(2, lse);
  F32(3, rowScale);
  F32(4, dLogits);
  PARAMS(5, p, 3);
  g_k->ce_bwd(logits, targets, static_cast<int32_t>(p[0]), lse, rowScale, static_cast<long>(p[1]), static_cast<long>(p[2]), dLogits);
  return nullptr;
}
#undef KNAME

#define KNAME "embeddingForward"
napi_value Embedding(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 5) return fail(env, "embeddingForward: expected 5 arguments");
  int dt = static_cast<int>(num(env, a.argv[1]));
  const void* table;
  if (!storage(env, a.argv[0], dt, &table)) return fail(env, "embeddingForward: table does not match dtype");
  size_t n = 0;
  int32_t* ids;
  if (!arr(env, a.argv[2], napi_int32_array, reinterpret_cast<void**>(&ids), &n)) return fail(env, "embeddingForward: ids must be an Int32Array");
  long C = static_cast<long>(num(env, a.argv[3]));
  F32(4, out);
  g_k->embedding(table, dt, ids, static_cast<long>(n), C, out);
  return nullptr;
}
#undef KNAME

#define KNAME "elementwise"
// Binary elementwise: (a, b, out), length from out.
template <int OP>
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 3) return fail(env, "elementwise: expected 3 arguments");
  F32(0, x);
  F32(1, y);
  size_t n = 0;
  float* out;
  if (!arr(env, a.argv[2], napi_float32_array, reinterpret_cast<void**>(&out), &n)) return fail(env, "elementwise: out must be a Float32Array");
  if (OP == 0) g_k->add(x, y, out, static_cast<long>(n));
  else g_k->mul(x, y, out, static_cast<long>(n));
  return nullptr;
}

napi_value Axpy(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 3) return fail(env, "axpy: expected 3 arguments");
  float alpha = static_cast<float>(num(env, a.argv[0]));
  F32(1, x);
  size_t n = 0;
  float* y;
  if (!arr(env, a.argv[2], napi_float32_array, reinterpret_cast<void**>(&y), &n)) return fail(env, "axpy: y must be a Float32Array");
  g_k->axpy(alpha, x, y, static_cast<long>(n));
  return nullptr;
}

napi_value Scale(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 3) return fail(env, "scale: expected 3 arguments");
  F32(0, x);
  float alpha = static_cast<float>(num(env, a.argv[1]));
  size_t n = 0;
  float* out;
  if (!arr(env, a.argv[2], napi_float32_array, reinterpret_cast<void**>(&out), &n)) return fail(env, "scale: out must be a Float32Array");
  g_k->scale(x, alpha, out, static_cast<long>(n));
  return nullptr;
}
napi_value Dropout(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 5) return fail(env, "dropout: expected 5 arguments");
  F32(0, x);
  size_t n = 0;
  float* out;
  if (!arr(env, a.argv[1], napi_float32_array, reinterpret_cast<void**>(&out), &n)) return fail(env, "dropout: out must be a Float32Array");
  g_k->dropout(x, out, static_cast<long>(n), num(env, a.argv[2]), static_cast<uint32_t>(num(env, a.argv[3])), num(env, a.argv[4]));
  return nullptr;
}
#undef KNAME

void def(Napi::Env env, Napi::Object exports, const char* name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  exports.Set(name, Napi::Value(env, fn));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pin_library();
  const IsaChoice& c = isa_choice();
  set_active_gemm(c.gemm);
  g_k = c.kernels;
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setComputeNice", Napi::Function::New(env, SetComputeNice, "setComputeNice"));
  exports.Set("setMmapThreshold", Napi::Function::New(env, SetMmapThreshold, "setMmapThreshold"));
  def(env, exports, "mapFile", MapFile);
  def(env, exports, "releasePages", ReleasePages);
  def(env, exports, "gemm", Gemm);
  def(env, exports, "packB", PackB);
  def(env, exports, "gemmQ", GemmQ);
  def(env, exports, "quantizeWeight", QuantizeWeight);
  def(env, exports, "attentionForward", AttnFwd);
  def(env, exports, "attentionForwardPacked", AttnFwdPacked);
  def(env, exports, "attentionBackward", AttnBwd);
  def(env, exports, "rmsnormForward", RmsFwd);
  def(env, exports, "rmsnormBackward", RmsBwd);
  def(env, exports, "rope", Rope);
  def(env, exports, "gatedActForward", GatedFwd);
  def(env, exports, "gatedActBackward", GatedBwd);
  def(env, exports, "crossEntropyForward", CeFwd);
  def(env, exports, "crossEntropyBackward", CeBwd);
  def(env, exports, "embeddingForward", Embedding);
  def(env, exports, "add", Binary<0>);
  def(env, exports, "mul", Binary<1>);
  def(env, exports, "axpy", Axpy);
  def(env, exports, "scale", Scale);
  def(env, exports, "dropout", Dropout);
  return exports;
}

}  // namespace

NODE_API_MODULE(llm2vec_native, Init)
