// Non-GEMM kernels, one table per ISA (generic scalar, AVX2/FMA). Semantics match
// src/tensor/backend/types.ts; shapes are validated by the TypeScript side.
#pragma once
#include <cstdint>

namespace llm {

struct AttnShape {
  long B, T, S, H, KVH, D;
  bool causal;
  const uint8_t* keyMask;  // [B, kvStride] or null (only the first S keys of a row are read)
  float scale;
  double dropoutP;
  uint32_t seed;
  long dropoutBatchOffset;  // dropout index of row b is that of row b + offset (GradCache chunks)
  long kvStride;            // keys between batch rows of k/v/keyMask (≥ S; a KV cache's capacity). Forward only
  float softcap;            // > 0: scores become softcap·tanh(score / softcap) before the mask (Gemma 2); 0 = none
  long window;              // > 0 and causal: query i sees only keys j > i + (S − T) − window (a sliding window); 0 = none
};

enum ActKind : int { ACT_SILU = 0, ACT_GELU_TANH = 1 };

struct Kernels {
  const char* name;
  void (*attn_fwd)(const AttnShape& s, const float* q, const float* k, const float* v, float* out, float* lse);
  void (*attn_bwd)(const AttnShape& s, const float* q, const float* k, const float* v, const float* out, const float* lse,
                   const float* dOut, float* dq, float* dk, float* dv);
  void (*rmsnorm_fwd)(const float* x, const void* w, int wdt, bool addOne, float eps, long N, long C, float* out, float* rstd);
  void (*rmsnorm_bwd)(const float* x, const void* w, int wdt, bool addOne, const float* rstd, const float* dOut, long N, long C,
                      float* dx, float* dw);
  void (*rope)(const float* x, const int32_t* pos, const float* cos, const float* sin, long N, long H, long D, bool inverse,
               float* out);
  void (*gated_fwd)(int kind, const float* gate, const float* up, float* out, long n);
  void (*gated_bwd)(int kind, const float* gate, const float* up, const float* dOut, float* dGate, float* dUp, long n);
  void (*ce_fwd)(const float* logits, const int32_t* targets, int32_t ignore, long N, long V, float* loss, float* lse);
  void (*ce_bwd)(const float* logits, const int32_t* targets, int32_t ignore, const float* lse, const float* rowScale, long N,
                 long V, float* dLogits);
  void (*embedding)(const void* table, int dt, const int32_t* ids, long n, long C, float* out);
  void (*add)(const float* a, const float* b, float* out, long n);
  void (*mul)(const float* a, const float* b, float* out, long n);
  void (*axpy)(float alpha, const float* x, float* y, long n);
  void (*scale)(const float* x, float alpha, float* out, long n);
  void (*dropout)(const float* x, float* out, long n, double p, uint32_t seed, double indexOffset);
};

const Kernels* kernels_generic();
const Kernels* kernels_avx2();    // null when not compiled in
const Kernels* kernels_avx512();  // the same bodies built with -mavx512f (16-wide vf); null when not compiled in

}  // namespace llm
