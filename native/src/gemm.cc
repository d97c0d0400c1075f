// GEMM driver (cache blocking, threading, batching) and the portable scalar kernel.
#include "gemm.h"

#include <algorithm>
#include <atomic>

#include "common.h"
#include "thread_pool.h"

namespace llm {
namespace generic_gemm {
#include "gemm_pack.h"

constexpr int MR = 4, NR = 8;

void micro(long kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta, int m, int n) {
  float acc[MR * NR] = {0};
  for (long k = 0; k < kc; k++) {
    const float* a = Ap + k * MR;
    const float* b = Bp + k * NR;
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NR; j++) acc[i * NR + j] += a[i] * b[j];
  }
  store_tile_scalar<NR>(acc, C, ldc, alpha, beta, m, n);
}

void packA(const float* A, long lda, bool tA, long i0, long mc, long k0, long kc, float* Ap) {
  pack_a_tmpl<MR>(A, lda, tA, i0, mc, k0, kc, Ap);
}
void packB(const void* B, int dt, long ldb, bool tB, long k0, long kc, long j0, long nc, float* Bp) {
  pack_b_scalar<NR>(B, dt, ldb, tB, k0, kc, j0, nc, Bp);
}

const GemmKernel kernel = {"generic", MR, NR, 128, 256, 2048, micro, packA, packB};
}  // namespace generic_gemm

const GemmKernel* gemm_kernel_generic() { return &generic_gemm::kernel; }

namespace {

// Computes the block C[m0:m1, n0:n1] of one product on the calling thread.
void gemm_block(const GemmKernel* kr, const GemmArgs& g, const float* A, const void* B, float* C, long m0, long m1, long n0,
                long n1) {
  const int MR = kr->MR, NR = kr->NR;
  const long MC = kr->MC, KC = kr->KC, NC = kr->NC;
  const long K = g.K;
  long ncmax = std::min(NC, n1 - n0);
  long kcmax = std::min(KC, K);
  long mcmax = std::min(MC, m1 - m0);
  float* Bp = thread_scratch(0, 0, static_cast<size_t>((ncmax + NR) * kcmax));
  float* Ap = thread_scratch(0, 1, static_cast<size_t>((mcmax + MR) * kcmax));
  for (long jc = n0; jc < n1; jc += NC) {
    long nc = std::min(NC, n1 - jc);
    for (long pc = 0; pc < K; pc += KC) {
      long kc = std::min(KC, K - pc);
      float beta = pc == 0 ? g.beta : 1.f;
      kr->packB(B, g.bDtype, g.ldb, g.transB, pc, kc, jc, nc, Bp);
      for (long ic = m0; ic < m1; ic += MC) {
        long mc = std::min(MC, m1 - ic);
        kr->packA(A, g.lda, g.transA, ic, mc, pc, kc, Ap);
        for (long jr = 0; jr < nc; jr += NR) {
          int nr = static_cast<int>(std::min<long>(NR, nc - jr));
          const float* bp = Bp + jr * kc;
          for (long ir = 0; ir < mc; ir += MR) {
            int mr = static_cast<int>(std::min<long>(MR, mc - ir));
            kr->micro(kc, Ap + ir * kc, bp, C + (ic + ir) * g.ldc + jc + jr, g.ldc, g.alpha, beta, mr, nr);
          }
        }
      }
    }
  }
}

void scale_block(const GemmArgs& g, float* C, long m0, long m1, long n0, long n1) {
  for (long i = m0; i < m1; i++) {
    float* c = C + i * g.ldc;
    for (long j = n0; j < n1; j++) c[j] = g.beta == 0.f ? 0.f : g.beta * c[j];
  }
}

// Below this many flops (~50-100 µs on one core) a product runs on the calling thread: waking a
// worker costs tens of microseconds when the cores are shared.
constexpr double kParallelFlops = 6.0e6;

}  // namespace

void gemm(const GemmKernel* kr, const GemmArgs& g) {
  if (g.batch <= 0 || g.M <= 0 || g.N <= 0) return;
  const long esz = g.bDtype == DT_F32 ? 4 : 2;
  const int nt = num_threads();
  const double flops = 2.0 * g.M * g.N * (g.K > 0 ? g.K : 1) * g.batch;
  // Pieces per product: split M (or N when M is short) so that every thread has work.
  // A shared output (strideC 0) accumulates over the batch in order: never split the batch then.
  const bool serialBatch = g.strideC == 0 && g.batch > 1;
  long pm = 1, pn = 1;
  if (nt > 1 && flops >= kParallelFlops && (serialBatch || g.batch < 2L * nt)) {
    long want = nt * (g.batch == 1 || serialBatch ? 1 : 2);
    long mBlocks = (g.M + kr->MR - 1) / kr->MR, nBlocks = (g.N + kr->NR - 1) / kr->NR;
    if (mBlocks >= want * 4 || mBlocks >= nBlocks) pm = std::min(want, mBlocks);
    else pn = std::min(want, nBlocks);
  }
  const long pieces = pm * pn;
  const long ntasks = flops < kParallelFlops ? 1 : (serialBatch ? pieces : g.batch * pieces);
  auto body = [&](int task, int) {
    long lo = 0, hi = g.batch, piece = 0;
    if (serialBatch) {
      piece = task;
    } else if (ntasks > 1) {
      lo = task / pieces;
      hi = lo + 1;
      piece = task % pieces;
    }
    long pi = piece / pn, pj = piece % pn;
    // Split on MR/NR boundaries.
    long mBlocks = (g.M + kr->MR - 1) / kr->MR, nBlocks = (g.N + kr->NR - 1) / kr->NR;
    long m0 = std::min(g.M, (mBlocks * pi / pm) * kr->MR), m1 = std::min(g.M, (mBlocks * (pi + 1) / pm) * kr->MR);
    long n0 = std::min(g.N, (nBlocks * pj / pn) * kr->NR), n1 = std::min(g.N, (nBlocks * (pj + 1) / pn) * kr->NR);
    if (ntasks == 1) m0 = 0, m1 = g.M, n0 = 0, n1 = g.N;
    if (m0 >= m1 || n0 >= n1) return;
    for (long b = lo; b < hi; b++) {
      const float* A = g.A + b * g.strideA;
      const void* B = static_cast<const char*>(g.B) + b * g.strideB * esz;
      float* C = g.C + b * g.strideC;
      if (g.K <= 0) scale_block(g, C, m0, m1, n0, n1);
      else gemm_block(kr, g, A, B, C, m0, m1, n0, n1);
    }
  };
  parallel_for(static_cast<int>(ntasks), body);
}

namespace {
std::atomic<const GemmKernel*> g_active{nullptr};
}

const GemmKernel* active_gemm() {
  const GemmKernel* k = g_active.load(std::memory_order_relaxed);
  return k ? k : gemm_kernel_generic();
}
void set_active_gemm(const GemmKernel* k) { g_active.store(k, std::memory_order_relaxed); }

void sgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda, const float* B, long ldb,
           float beta, float* C, long ldc) {
  GemmArgs g{1, M, N, K, transA, transB, A, lda, 0, B, DT_F32, ldb, 0, C, ldc, 0, alpha, beta};
  gemm(active_gemm(), g);
}

}  // namespace llm
