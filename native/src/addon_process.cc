// Process-level entry points of the addon: what the native side is (info), the compute threads'
// priority, the C allocator's mmap threshold, and keeping the library mapped while its threads run.
#include <napi.h>

#include <string>

#if defined(__linux__) || defined(__APPLE__)
#include <dlfcn.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "addon_glue.h"
#include "isa.h"
#include "thread_pool.h"

namespace llm {
namespace napi_glue {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const IsaChoice& c = isa_choice();
  const Bf16Choice& b = bf16_choice();  // may time the two bf16 paths once (~10 ms)
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", Napi::String::New(env, std::string("gemm:") + c.gemm->name + " gemm-bf16:" + b.name + " kernels:" + c.kernels->name));
  o.Set("gemm", Napi::String::New(env, c.gemm->name));
  // The kernel of bf16-compute products: one with bf16 units, or the f32 one on rounded operands.
  o.Set("gemmBf16", Napi::String::New(env, b.name));
  o.Set("gemmBf16Why", Napi::String::New(env, b.why));
  o.Set("kernels", Napi::String::New(env, c.kernels->name));
  o.Set("quant", Napi::String::New(env, c.quant->name));
  o.Set("threads", Napi::Number::New(env, num_threads()));
  // What the CPU offers, so tests capped with LLM2VEC_NATIVE_ISA can assert the kernels that ran.
  const CpuFeatures f = cpu_features();
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("avx2", Napi::Boolean::New(env, f.avx2));
  cpu.Set("avx512f", Napi::Boolean::New(env, f.avx512f));
  cpu.Set("avx512bf16", Napi::Boolean::New(env, f.avx512bf16));
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

// setMmapThreshold(bytes): allocations of at least `bytes` get their own mapping, returned to the
// OS when freed (glibc's M_MMAP_THRESHOLD; setting it also stops glibc from raising the threshold
// each time such a block is freed, which moves later large blocks into the arenas, where they
// fragment and stay). Returns 1 when set, 0 when refused, -1 where the C library has no mallopt.
Napi::Value SetMmapThreshold(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "setMmapThreshold: expected a size in bytes (number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
#if defined(__GLIBC__)
  return Napi::Number::New(env, mallopt(M_MMAP_THRESHOLD, info[0].As<Napi::Number>().Int32Value()) == 1 ? 1 : 0);
#else
  return Napi::Number::New(env, -1);
#endif
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

}  // namespace napi_glue
}  // namespace llm
