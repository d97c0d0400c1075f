// Packing routines and the edge-safe store, shared (as templates) by every ISA translation unit.
// Included inside an ISA-specific namespace; nothing here has external linkage.
#pragma once

// Generic scalar packing of op(A) into MR-row slivers.
template <int MR>
static void pack_a_tmpl(const float* A, long lda, bool transA, long i0, long mc, long k0, long kc, float* Ap) {
  for (long s = 0; s < mc; s += MR) {
    int mr = static_cast<int>(mc - s < MR ? mc - s : MR);
    float* dst = Ap + s * kc;
    if (transA) {  // A is K×M: op(A)(i,k) = A[k*lda + i]
      const float* src = A + k0 * lda + i0 + s;
      if (mr == MR) {
        for (long k = 0; k < kc; k++) {
          const float* r = src + k * lda;
          for (int i = 0; i < MR; i++) dst[k * MR + i] = r[i];
        }
      } else {
        for (long k = 0; k < kc; k++) {
          const float* r = src + k * lda;
          int i = 0;
          for (; i < mr; i++) dst[k * MR + i] = r[i];
          for (; i < MR; i++) dst[k * MR + i] = 0.f;
        }
      }
    } else {  // A is M×K: rows contiguous in k
      for (int i = 0; i < MR; i++) {
        if (i < mr) {
          const float* r = A + (i0 + s + i) * lda + k0;
          for (long k = 0; k < kc; k++) dst[k * MR + i] = r[k];
        } else {
          for (long k = 0; k < kc; k++) dst[k * MR + i] = 0.f;
        }
      }
    }
  }
}

// Scalar widening pack of op(B) into NR-column slivers (used for edges and the generic ISA).
template <int NR>
static void pack_b_scalar(const void* B, int dt, long ldb, bool transB, long k0, long kc, long j0, long nc, float* Bp) {
  for (long s = 0; s < nc; s += NR) {
    int nr = static_cast<int>(nc - s < NR ? nc - s : NR);
    float* dst = Bp + s * kc;
    for (long k = 0; k < kc; k++) {
      for (int j = 0; j < NR; j++) {
        float v = 0.f;
        if (j < nr) {
          long col = j0 + s + j, row = k0 + k;
          v = llm::load_widen(B, dt, transB ? col * ldb + row : row * ldb + col);
        }
        dst[k * NR + j] = v;
      }
    }
  }
}

// Writes a full MR×NR accumulator tile held in `acc` (row-major, NR wide) to C[0:m,0:n].
template <int NR>
static inline void store_tile_scalar(const float* acc, float* C, long ldc, float alpha, float beta, int m, int n) {
  for (int i = 0; i < m; i++) {
    float* c = C + i * ldc;
    const float* a = acc + i * NR;
    if (beta == 0.f) {
      for (int j = 0; j < n; j++) c[j] = alpha * a[j];
    } else {
      for (int j = 0; j < n; j++) c[j] = alpha * a[j] + beta * c[j];
    }
  }
}

// Rounds packed f32 words to bf16 precision in place (bit arithmetic only, so the compiler
// vectorises it with whatever the translation unit's ISA allows).
static void round_bf16_words(float* p, long n) {
  for (long i = 0; i < n; i++) {
    uint32_t x;
    std::memcpy(&x, p + i, 4);
    uint32_t nan = (x & 0x7fffffffu) > 0x7f800000u;
    uint32_t r = (x + 0x7fffu + ((x >> 16) & 1u)) & 0xffff0000u;
    r = nan ? ((x | 0x00400000u) & 0xffff0000u) : r;
    std::memcpy(p + i, &r, 4);
  }
}
