// GEMM driver (cache blocking, threading, batching) and the portable scalar kernel.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "common.h"
#include "thread_pool.h"

namespace llm {
namespace generic_gemm {
#include "gemm_pack.h"
#include "gemm_small.h"

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

const GemmKernel kernel = {"generic", MR, NR, 128, 256, 2048, 1, micro, packA, packB, SMALL_M, small_m, round_bf16_words};
}  // namespace generic_gemm

const GemmKernel* gemm_kernel_generic() { return &generic_gemm::kernel; }

namespace {

// Words a packed row/column of kc elements takes (see GemmKernel::kpair).
inline long words(const GemmKernel* kr, long kc) { return kr->kpair == 2 ? (kc + 1) / 2 : kc; }
inline long padded(long n, int r) { return (n + r - 1) / r * r; }
// Whether packed f32 words must be rounded to bf16 (a GEMM_BF16 product on an f32 kernel).
inline bool rounds(const GemmKernel* kr, const GemmArgs& g) { return g.compute == GEMM_BF16 && kr->kpair == 1; }

// Computes the block C[m0:m1, n0:n1] of one product on the calling thread.
void gemm_block(const GemmKernel* kr, const GemmArgs& g, const float* A, const void* B, float* C, long m0, long m1, long n0,
                long n1) {
  const int MR = kr->MR, NR = kr->NR;
  const long MC = kr->MC, KC = kr->KC, NC = kr->NC;
  const long K = g.K;
  long ncmax = std::min(NC, n1 - n0);
  long kcmax = std::min(KC, K);
  long mcmax = std::min(MC, m1 - m0);
  // A packed-once B holds panels from column 0 over all of N: usable for the whole width only.
  const bool prepacked = g.Bpacked != nullptr && n0 == 0 && n1 == g.N;
  float* Bscratch = prepacked ? nullptr : thread_scratch(0, 0, static_cast<size_t>((ncmax + NR) * kcmax));
  float* Ap = thread_scratch(0, 1, static_cast<size_t>((mcmax + MR) * kcmax));
  const bool round = rounds(kr, g);
  for (long jc = n0; jc < n1; jc += NC) {
    long nc = std::min(NC, n1 - jc);
    for (long pc = 0; pc < K; pc += KC) {
      long kc = std::min(KC, K - pc);
      long kw = words(kr, kc);
      float beta = pc == 0 ? g.beta : 1.f;
      const float* Bp = Bscratch;
      if (prepacked) {
        Bp = packed_b_panel(kr, g, jc, pc);
      } else {
        kr->packB(B, g.bDtype, g.ldb, g.transB, pc, kc, jc, nc, Bscratch);
        if (round) kr->roundBf16(Bscratch, padded(nc, NR) * kw);
      }
      for (long ic = m0; ic < m1; ic += MC) {
        long mc = std::min(MC, m1 - ic);
        kr->packA(A, g.lda, g.transA, ic, mc, pc, kc, Ap);
        if (round) kr->roundBf16(Ap, padded(mc, MR) * kw);
        for (long jr = 0; jr < nc; jr += NR) {
          int nr = static_cast<int>(std::min<long>(NR, nc - jr));
          const float* bp = Bp + jr * kw;
          for (long ir = 0; ir < mc; ir += MR) {
            int mr = static_cast<int>(std::min<long>(MR, mc - ir));
            kr->micro(kc, Ap + ir * kw, bp, C + (ic + ir) * g.ldc + jc + jr, g.ldc, g.alpha, beta, mr, nr);
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

namespace {

// One product on all threads, BLIS style: for each (jc, pc) panel the threads first pack the
// KC×NC panel of B together (one shared copy), then take (MC block × NR-sliver range) tiles
// from a dynamic queue, each packing its own A block. Finer tiles than threads keep both cores
// busy when one of them is slowed down by another process.
void gemm_shared(const GemmKernel* kr, const GemmArgs& g, const float* A, const void* B, float* C, int nt) {
  const int MR = kr->MR, NR = kr->NR;
  const long M = g.M, N = g.N, K = g.K, KC = kr->KC, NC = kr->NC;
  // Row blocks: at most MC rows, and enough blocks to share out.
  long mc = kr->MC;
  long want = 4L * nt;
  if ((M + mc - 1) / mc < want) {
    mc = ((M + want - 1) / want + MR - 1) / MR * MR;
    if (mc < 4L * MR) mc = std::min<long>(4L * MR, kr->MC);
  }
  const long mBlocks = (M + mc - 1) / mc;
  const bool round = rounds(kr, g);
  const long ncmax = std::min(NC, N), kcmax = std::min(KC, K);
  float* Bscratch = g.Bpacked ? nullptr : thread_scratch(0, 3, static_cast<size_t>((ncmax + NR) * kcmax));
  for (long jc = 0; jc < N; jc += NC) {
    const long nc = std::min(NC, N - jc);
    const long slivers = (nc + NR - 1) / NR;
    // Column chunks per row block so that there are ≥ want tiles in all.
    long nChunks = std::max<long>(1, std::min(slivers, (want + mBlocks - 1) / mBlocks));
    for (long pc = 0; pc < K; pc += KC) {
      const long kc = std::min(KC, K - pc);
      const long kw = words(kr, kc);
      const float beta = pc == 0 ? g.beta : 1.f;
      const float* Bp = g.Bpacked ? packed_b_panel(kr, g, jc, pc) : Bscratch;
      if (!g.Bpacked) {
        const long packTasks = std::min<long>(slivers, 2L * nt);
        parallel_for(static_cast<int>(packTasks), [&](int t, int) {
          long s0 = slivers * t / packTasks, s1 = slivers * (t + 1) / packTasks;
          long j0 = s0 * NR, j1 = std::min(nc, s1 * NR);
          if (j1 <= j0) return;
          kr->packB(B, g.bDtype, g.ldb, g.transB, pc, kc, jc + j0, j1 - j0, Bscratch + j0 * kw);
          if (round) kr->roundBf16(Bscratch + j0 * kw, padded(j1 - j0, NR) * kw);
        });
      }
      parallel_for(static_cast<int>(mBlocks * nChunks), [&](int t, int) {
        long ib = t / nChunks, ch = t % nChunks;
        long ic = ib * mc, mcur = std::min(mc, M - ic);
        long s0 = slivers * ch / nChunks, s1 = slivers * (ch + 1) / nChunks;
        float* Ap = thread_scratch(0, 1, static_cast<size_t>((mc + MR) * kc));
        kr->packA(A, g.lda, g.transA, ic, mcur, pc, kc, Ap);
        if (round) kr->roundBf16(Ap, padded(mcur, MR) * kw);
        for (long s = s0; s < s1; s++) {
          long jr = s * NR;
          int nr = static_cast<int>(std::min<long>(NR, nc - jr));
          const float* bp = Bp + jr * kw;
          for (long ir = 0; ir < mcur; ir += MR) {
            int mr = static_cast<int>(std::min<long>(MR, mcur - ir));
            kr->micro(kc, Ap + ir * kw, bp, C + (ic + ir) * g.ldc + jc + jr, g.ldc, g.alpha, beta, mr, nr);
          }
        }
      });
    }
  }
}

// Small outputs over a long K (LoRA weight gradients: 16×64 summed over 8192 tokens): the row and
// column split of gemm_shared finds one or two tiles per K panel and dispatches twice per panel,
// so the threads spend the product waking each other (10× slower than one thread on a busy
// machine). Split K instead, in slices of fixed length, each into its own buffer, then add the
// slices in order: one dispatch, and the result does not depend on the thread count.
constexpr long kSplitKSlice = 2048;

bool split_k_shape(const GemmArgs& g) { return g.M * g.N <= 8192 && g.K >= 2 * kSplitKSlice; }

void gemm_split_k(const GemmKernel* kr, const GemmArgs& g, const float* A, const void* B, float* C, long esz, bool parallel) {
  const long P = (g.K + kSplitKSlice - 1) / kSplitKSlice, MN = g.M * g.N;
  std::vector<float> part(static_cast<size_t>(P * MN));
  auto slice = [&](long p) {
    const long k0 = p * kSplitKSlice;
    GemmArgs s = g;
    s.Bpacked = nullptr;  // a K slice is not a packed-once B's layout
    s.K = std::min(kSplitKSlice, g.K - k0);
    s.alpha = 1.f;
    s.beta = 0.f;
    s.ldc = g.N;
    const float* a = g.transA ? A + k0 * g.lda : A + k0;
    const void* b = static_cast<const char*>(B) + (g.transB ? k0 : k0 * g.ldb) * esz;
    gemm_block(kr, s, a, b, part.data() + p * MN, 0, g.M, 0, g.N);
  };
  if (parallel) parallel_for(static_cast<int>(P), [&](int p, int) { slice(p); });
  else
    for (long p = 0; p < P; p++) slice(p);
  for (long i = 0; i < g.M; i++) {
    float* c = C + i * g.ldc;
    for (long j = 0; j < g.N; j++) {
      float sum = 0.f;
      for (long p = 0; p < P; p++) sum += part[static_cast<size_t>(p * MN + i * g.N + j)];
      c[j] = g.beta == 0.f ? g.alpha * sum : g.alpha * sum + g.beta * c[j];
    }
  }
}

}  // namespace

void gemm(const GemmKernel* kr, const GemmArgs& args) {
  if (args.batch <= 0 || args.M <= 0 || args.N <= 0) return;
  GemmArgs g = args;
  if (g.batch > 1 && g.strideB != 0) g.Bpacked = nullptr;  // one packed B cannot stand for several
  const long esz = g.bDtype == DT_F32 ? 4 : 2;
  const int nt = num_threads();
  const double flops = 2.0 * g.M * g.N * (g.K > 0 ? g.K : 1) * g.batch;
  auto operands = [&](long b, const float*& A, const void*& B, float*& C) {
    A = g.A + b * g.strideA;
    B = static_cast<const char*>(g.B) + b * g.strideB * esz;
    C = g.C + b * g.strideC;
  };
  auto serial = [&](long b) {
    const float* A;
    const void* B;
    float* C;
    operands(b, A, B, C);
    if (g.K <= 0) scale_block(g, C, 0, g.M, 0, g.N);
    else gemm_block(kr, g, A, B, C, 0, g.M, 0, g.N);
  };
  // A shared output (strideC 0) accumulates over the batch in order: never split the batch then.
  const bool serialBatch = g.strideC == 0 && g.batch > 1;
  // A few rows: stream B once, no packing. Under GEMM_BF16 only when B is already bf16 (the
  // streaming loop reads B as stored; small_m rounds its copy of A).
  const bool smallOk = g.compute == GEMM_F32 || g.bDtype == DT_BF16;
  // Up to smallM rows for a 16-bit B (the packed path would widen all of it per call); an f32 B
  // packs without widening, and at 9–16 rows both paths measured the same (bench/gemm.ts, decode rows).
  const long smallRows = g.bDtype == DT_F32 ? std::min(kr->smallM, 8) : kr->smallM;
  if (g.M <= smallRows && g.K > 0 && smallOk && kr->smallRows) {
    auto rows = [&](long b, long n0, long n1) {
      const float* A;
      const void* B;
      float* C;
      operands(b, A, B, C);
      kr->smallRows(g, A, B, C, n0, n1);
    };
    if (nt == 1 || flops < kParallelFlops) {
      for (long b = 0; b < g.batch; b++) rows(b, 0, g.N);
    } else if (!serialBatch && g.batch >= 2L * nt) {
      parallel_for(static_cast<int>(g.batch), [&](int b, int) { rows(b, 0, g.N); });
    } else {
      const long chunks = std::max<long>(1, std::min<long>(4L * nt, g.N / 64));
      for (long b = 0; b < g.batch; b++)
        parallel_for(static_cast<int>(chunks), [&](int c, int) {
          const long al = generic_gemm::SMALL_COL_ALIGN;  // see gemm_small.h: keeps each column's arithmetic split-independent
          long n0 = g.N * c / chunks / al * al, n1 = c + 1 == chunks ? g.N : g.N * (c + 1) / chunks / al * al;
          if (n1 > n0) rows(b, n0, n1);
        });
    }
    return;
  }
  if (split_k_shape(g)) {  // shape-based, so 1 and N threads give the same bits
    const bool par = nt > 1 && flops >= kParallelFlops && (serialBatch || g.batch < 2L * nt);
    auto one = [&](long b) {
      const float* A;
      const void* B;
      float* C;
      operands(b, A, B, C);
      gemm_split_k(kr, g, A, B, C, esz, par);
    };
    if (par || nt == 1 || flops < kParallelFlops) {
      for (long b = 0; b < g.batch; b++) one(b);
    } else {
      parallel_for(static_cast<int>(g.batch), [&](int b, int) { one(b); });
    }
    return;
  }
  if (nt == 1 || flops < kParallelFlops) {
    for (long b = 0; b < g.batch; b++) serial(b);
    return;
  }
  if (!serialBatch && g.batch >= 2L * nt) {
    parallel_for(static_cast<int>(g.batch), [&](int b, int) { serial(b); });
    return;
  }
  for (long b = 0; b < g.batch; b++) {
    const float* A;
    const void* B;
    float* C;
    operands(b, A, B, C);
    if (g.K <= 0) serial(b);
    else gemm_shared(kr, g, A, B, C, nt);
  }
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
