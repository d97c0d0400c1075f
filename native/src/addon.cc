// N-API glue: unpacks typed arrays and scalar parameter blocks, picks the ISA once at load time,
// and forwards to the kernels. Argument validation against shapes is done in native.ts; here we
// only check that every buffer is a typed array of the expected element type.
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__linux__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

#include "common.h"
#include "gemm.h"
#include "kernels.h"
#include "thread_pool.h"

namespace {

using namespace llm;

const GemmKernel* g_gemm = nullptr;
const Kernels* g_k = nullptr;
std::string g_isa;

bool cpu_has(const char* feature) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  __builtin_cpu_init();
  if (!std::strcmp(feature, "avx2")) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!std::strcmp(feature, "f16c")) {
    // __builtin_cpu_supports has no "f16c" on older compilers; AVX2 parts all have it, but check CPUID anyway.
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    return (c >> 29) & 1;
  }
  if (!std::strcmp(feature, "avx512f")) return __builtin_cpu_supports("avx512f");
#else
  (void)feature;
#endif
  return false;
}

void select_isa() {
  const char* want = std::getenv("LLM2VEC_NATIVE_ISA");  // cap: generic | avx2 | avx512
  int cap = 2;
  if (want && !std::strcmp(want, "generic")) cap = 0;
  if (want && !std::strcmp(want, "avx2")) cap = 1;
  bool avx2 = cpu_has("avx2") && cpu_has("f16c");
  bool avx512 = avx2 && cpu_has("avx512f");
  g_gemm = gemm_kernel_generic();
  g_k = kernels_generic();
  if (cap >= 1 && avx2 && gemm_kernel_avx2() && kernels_avx2()) {
    g_gemm = gemm_kernel_avx2();
    g_k = kernels_avx2();
  }
  if (cap >= 2 && avx512 && gemm_kernel_avx512()) g_gemm = gemm_kernel_avx512();
  set_active_gemm(g_gemm);
  g_isa = std::string("gemm:") + g_gemm->name + " kernels:" + g_k->name;
}

napi_value fail(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

// Typed array data pointer; null when `v` is JS null/undefined and `optional`.
bool arr(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len, bool optional = false) {
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  if (optional && (vt == napi_null || vt == napi_undefined)) {
    *data = nullptr;
    if (len) *len = 0;
    return true;
  }
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return false;
  napi_typedarray_type t;
  size_t n;
  void* d;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, &n, &d, &ab, &off) != napi_ok) return false;
  if (t != want) return false;
  *data = d;
  if (len) *len = n;
  return true;
}

double num(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

struct Args {
  napi_env env;
  size_t argc = 16;
  napi_value argv[16];
  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(e, info, &argc, argv, nullptr, nullptr); }
};

#define F32(i, name)                                                              \
  float* name = nullptr;                                                          \
  if (!arr(a.env, a.argv[i], napi_float32_array, reinterpret_cast<void**>(&name), nullptr)) \
    return fail(a.env, std::string(KNAME ": argument " #name " must be a Float32Array"));
#define F32OPT(i, name)                                                                 \
  float* name = nullptr;                                                                \
  if (!arr(a.env, a.argv[i], napi_float32_array, reinterpret_cast<void**>(&name), nullptr, true)) \
    return fail(a.env, std::string(KNAME ": argument " #name " must be a Float32Array or null"));
#define I32(i, name)                                                            \
  int32_t* name = nullptr;                                                      \
  if (!arr(a.env, a.argv[i], napi_int32_array, reinterpret_cast<void**>(&name), nullptr)) \
    return fail(a.env, std::string(KNAME ": argument " #name " must be an Int32Array"));
#define PARAMS(i, name, count)                                                                  \
  double* name = nullptr;                                                                       \
  {                                                                                             \
    size_t n_ = 0;                                                                              \
    if (!arr(a.env, a.argv[i], napi_float64_array, reinterpret_cast<void**>(&name), &n_) || n_ < (count)) \
      return fail(a.env, std::string(KNAME ": bad parameter block"));                           \
  }

// Storage (f32 → Float32Array, 16-bit → Uint16Array) by dtype code.
bool storage(napi_env env, napi_value v, int dt, const void** data) {
  void* d;
  bool ok = arr(env, v, dt == DT_F32 ? napi_float32_array : napi_uint16_array, &d, nullptr);
  *data = d;
  return ok && (dt == DT_F32 || dt == DT_BF16 || dt == DT_F16);
}

#define KNAME "gemm"
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  if (a.argc < 4) return fail(env, "gemm: expected (A, B, C, params)");
  PARAMS(3, p, 15);
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
  gemm(g_gemm, g);
  return nullptr;
}
#undef KNAME

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
  PARAMS(6, p, 12);
  AttnShape s = attn_shape(p, static_cast<const uint8_t*>(mask));
  g_k->attn_fwd(s, q, k, v, out, lse);
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
  PARAMS(10, p, 12);
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

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", Napi::String::New(env, g_isa));
  o.Set("gemm", Napi::String::New(env, g_gemm->name));
  o.Set("kernels", Napi::String::New(env, g_k->name));
  o.Set("threads", Napi::Number::New(env, num_threads()));
  // What the CPU offers, so tests capped with LLM2VEC_NATIVE_ISA can assert the kernels that ran.
  Napi::Object cpu = Napi::Object::New(env);
  bool avx2 = cpu_has("avx2") && cpu_has("f16c");
  cpu.Set("avx2", Napi::Boolean::New(env, avx2));
  cpu.Set("avx512f", Napi::Boolean::New(env, avx2 && cpu_has("avx512f")));
  o.Set("cpu", cpu);
  return o;
}

// setComputeNice(nice): the calling thread and the pool's workers get this nice value; returns
// the number of threads changed or -errno (see thread_pool.h).
Napi::Value SetComputeNice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "setComputeNice: expected a nice value (number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, set_compute_nice(info[0].As<Napi::Number>().Int32Value()));
}

void def(Napi::Env env, Napi::Object exports, const char* name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  exports.Set(name, Napi::Value(env, fn));
}

// The thread pool is process-wide and its threads never exit, but Node unloads an addon (dlclose)
// once the last environment that loaded it is gone: a worker_threads worker that loaded it (the
// server's model worker) and then stopped, with the main thread never loading it, would leave the
// pool's threads running unmapped code (SIGSEGV). Taking a reference with RTLD_NODELETE keeps the
// library mapped for the life of the process.
void pin_library() {
#if defined(__linux__) || defined(__APPLE__)
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&pin_library), &self) && self.dli_fname) dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pin_library();
  select_isa();
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setComputeNice", Napi::Function::New(env, SetComputeNice, "setComputeNice"));
  def(env, exports, "gemm", Gemm);
  def(env, exports, "attentionForward", AttnFwd);
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
