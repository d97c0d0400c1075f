// Shared helpers for every translation unit: dtype codes, half-precision widening, the dropout
// hash (bit-for-bit twin of `dropoutKeep` in src/tensor/backend/types.ts).
#pragma once
#include <cstdint>
#include <cstring>

namespace llm {

enum DType : int { DT_F32 = 0, DT_BF16 = 1, DT_F16 = 2 };

static inline float bf16_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// f32 -> bf16 bits, round to nearest even; NaN stays NaN (quietened), ±Inf stays ±Inf, and a
// finite value past bf16's range rounds to ±Inf as IEEE rounding does. Twin of `roundBf16` in
// src/tensor/dtype.ts.
static inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// f32 rounded to the nearest bf16 value, as an f32.
static inline float round_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

// Exact IEEE half -> float, subnormals, infinities and NaN included (no F16C needed).
static inline float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        e++;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      mant &= 0x3ff;
      u = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | mant << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | mant << 13;
  } else {
    u = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// f32 -> f16 bits, round to nearest even (subnormals, overflow to ±Inf, NaN kept); twin of
// `f32ToF16` in src/tensor/dtype.ts.
static inline uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000, exp = (u >> 23) & 0xff;
  uint32_t mant = u & 0x7fffff;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00 | (mant ? 0x200 : 0));
  const int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    const int shift = 14 - e;
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) half++;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = static_cast<uint32_t>(e) << 10 | mant >> 13;
  const uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
  return static_cast<uint16_t>(sign | half);
}

static inline float load_widen(const void* p, int dt, long i) {
  if (dt == DT_F32) return static_cast<const float*>(p)[i];
  if (dt == DT_BF16) return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
  return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
}

// murmur3 fmix32.
static inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// Element `index` is kept iff this returns true. The index is reduced mod 2^32 exactly as the
// JavaScript `^` operator does (ToInt32); the comparison is done in double like JavaScript.
static inline bool dropout_keep(uint32_t seed_mix, uint64_t index, double p) {
  uint32_t h = fmix32(static_cast<uint32_t>(index) ^ seed_mix);
  return static_cast<double>(h >> 8) / 16777216.0 >= p;
}

// Integer form of the same test: (h >> 8) / 2^24 >= p  ⟺  (h >> 8) >= ceil(p·2^24), exact
// because p·2^24 is computed exactly in double and h >> 8 is an integer.
static inline uint32_t dropout_threshold(double p) {
  double t = p * 16777216.0;
  double c = static_cast<double>(static_cast<uint64_t>(t));
  if (c < t) c += 1.0;
  return static_cast<uint32_t>(c);
}

}  // namespace llm
