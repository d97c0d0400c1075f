// The AVX-512 micro-kernels' epilogue: C[0:m,0:n] = alpha·acc + beta·C from MR×NV accumulator
// registers (NV vectors of 16 floats per row), shared by the f32 FMA and the vdpbf16ps kernels.
// Included inside an ISA-specific namespace after gemm_pack.h (store_tile_scalar); compiled with
// -mavx512f, after <immintrin.h>. Always inlined and fully unrolled: called out of line, or with a rolled loop, GCC
// would keep the accumulators in memory and store them on every k step of the caller.
#pragma once

template <int MR, int NV>
__attribute__((always_inline)) static inline void store_acc_avx512(__m512 (&c)[MR][NV], float* C, long ldc, float alpha, float beta, int m, int n) {
  constexpr int NR = 16 * NV;
  __m512 va = _mm512_set1_ps(alpha);
  if (m == MR && n == NR) {
    if (beta == 0.f) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(C + i * ldc + 16 * v, _mm512_mul_ps(va, c[i][v]));
    } else {
      __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
          float* r = C + i * ldc + 16 * v;
          _mm512_storeu_ps(r, _mm512_fmadd_ps(va, c[i][v], _mm512_mul_ps(vb, _mm512_loadu_ps(r))));
        }
    }
    return;
  }
  alignas(64) float acc[MR * NR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) _mm512_store_ps(acc + i * NR + 16 * v, c[i][v]);
  store_tile_scalar<NR>(acc, C, ldc, alpha, beta, m, n);
}
