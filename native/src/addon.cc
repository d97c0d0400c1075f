// Placeholder translation unit; the kernels land in the native/ tree.
#include <napi.h>
static Napi::Object Init(Napi::Env env, Napi::Object exports) { return exports; }
NODE_API_MODULE(llm2vec_native, Init)
