// The N-API entry points defined outside addon.cc (one file per kernel family).
#pragma once
#include <napi.h>

namespace llm {
namespace napi_glue {

napi_value Gemm(napi_env env, napi_callback_info info);   // addon_gemm.cc
napi_value PackB(napi_env env, napi_callback_info info);  // addon_gemm.cc
napi_value GemmQ(napi_env env, napi_callback_info info);  // addon_gemm.cc
napi_value QuantizeWeight(napi_env env, napi_callback_info info);  // addon_gemm.cc

Napi::Value Info(const Napi::CallbackInfo& info);              // addon_process.cc
Napi::Value SetComputeNice(const Napi::CallbackInfo& info);    // addon_process.cc
Napi::Value SetMmapThreshold(const Napi::CallbackInfo& info);  // addon_process.cc
void pin_library();                                            // addon_process.cc

napi_value MapFile(napi_env env, napi_callback_info info);  // addon_map.cc
napi_value ReleasePages(napi_env env, napi_callback_info info);  // addon_map.cc

}  // namespace napi_glue
}  // namespace llm
