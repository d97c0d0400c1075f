// Inverted dropout with the counter-based hash (common.h dropout_keep): out[i] = x[i]/(1-p) where
// element i is kept, else 0. Stateless, so the forward and the backward regenerate the same mask
// from the seed, and no mask is stored. Element indices are the flat index in x (the TypeScript
// twin is dropoutKeep in src/tensor/backend/types.ts). Included inside an ISA namespace.
#pragma once

static void dropout_apply(const float* x, float* out, long n, double p, uint32_t seed, double indexOffset) {
  // Element i hashes index indexOffset + i (mod 2^32): a chunk of a batch draws the batch's mask.
  const uint32_t off = static_cast<uint32_t>(static_cast<uint64_t>(indexOffset));
  const uint32_t mix = llm::fmix32(seed);
  const uint32_t thr = llm::dropout_threshold(p);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  chunked(n, EW_GRAIN, [&](long i0, long i1, int) {
    long i = i0;
#if defined(__AVX2__)
    // 8 hashes at a time (the compiler does not vectorise the scalar form). (h >> 8) < 2^24, so
    // the signed compare h > thr − 1 is the unsigned h ≥ thr (thr = 0 gives −1: keep all).
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i vmix = _mm256_set1_epi32(static_cast<int>(mix));
    const __m256i c1 = _mm256_set1_epi32(static_cast<int>(0x85ebca6bu));
    const __m256i c2 = _mm256_set1_epi32(static_cast<int>(0xc2b2ae35u));
    const __m256i thrm1 = _mm256_set1_epi32(static_cast<int>(thr) - 1);
    const __m256 vscale = _mm256_set1_ps(scale);
    for (; i + 8 <= i1; i += 8) {
      __m256i h = _mm256_xor_si256(_mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(i) + off)), lane), vmix);
      h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
      h = _mm256_mullo_epi32(h, c1);
      h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 13));
      h = _mm256_mullo_epi32(h, c2);
      h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 16));
      const __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_srli_epi32(h, 8), thrm1));
      _mm256_storeu_ps(out + i, _mm256_and_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vscale), keep));
    }
#endif
    for (; i < i1; i++) {
      const uint32_t h = llm::fmix32((static_cast<uint32_t>(i) + off) ^ mix);
      const float v = x[i] * scale;
      out[i] = (h >> 8) >= thr ? v : 0.0f;
    }
  });
}
