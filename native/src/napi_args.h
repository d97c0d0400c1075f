// Shared N-API helpers for the glue files (addon.cc, addon_gemm.cc): typed-array unpacking and
// the argument macros. Shapes are validated in native.ts; here only element types are checked.
#pragma once
#include <napi.h>

#include <string>

#include "common.h"

namespace llm {
namespace napi_glue {

inline napi_value fail(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

// Typed array data pointer; null when `v` is JS null/undefined and `optional`.
inline bool arr(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len, bool optional = false) {
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

inline double num(napi_env env, napi_value v) {
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
// As F32OPT, also giving the array's length in elements (0 for null).
#define F32OPT_LEN(i, name, len)                                                              \
  float* name = nullptr;                                                                    \
  size_t len = 0;                                                                           \
  if (!arr(a.env, a.argv[i], napi_float32_array, reinterpret_cast<void**>(&name), &len, true)) \
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
inline bool storage(napi_env env, napi_value v, int dt, const void** data) {
  void* d = nullptr;
  bool ok = arr(env, v, dt == DT_F32 ? napi_float32_array : napi_uint16_array, &d, nullptr);
  *data = d;
  return ok && (dt == DT_F32 || dt == DT_BF16 || dt == DT_F16);
}

}  // namespace napi_glue
}  // namespace llm
