// Inverted dropout with the counter-based hash (common.h dropout_keep): out[i] = x[i]/(1-p) where
// element i is kept, else 0. Stateless, so the forward and the backward regenerate the same mask
// from the seed, and no mask is stored. Element indices are the flat index in x (the TypeScript
// twin is dropoutKeep in src/tensor/backend/types.ts). Included inside an ISA namespace.
#pragma once

static void dropout_apply(const float* x, float* out, long n, double p, uint32_t seed) {
  const uint32_t mix = llm::fmix32(seed);
  const uint32_t thr = llm::dropout_threshold(p);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  chunked(n, EW_GRAIN, [&](long i0, long i1, int) {
    for (long i = i0; i < i1; i++) {
      const uint32_t h = llm::fmix32(static_cast<uint32_t>(i) ^ mix);
      out[i] = (h >> 8) >= thr ? x[i] * scale : 0.0f;
    }
  });
}
