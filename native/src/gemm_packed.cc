// Packing a GEMM's B operand once, for frozen weights: per call the driver packs every KC×NC
// panel of B (and, for bf16 compute on an f32 kernel, rounds it), which costs as much as a few
// dozen rows of the product; a server's small batches pay it on every weight of every request.
// The layout is exactly the per-call one, so a product gives the same bits either way.
#include <algorithm>
#include <utility>
#include <vector>

#include "common.h"
#include "gemm.h"
#include "thread_pool.h"

namespace llm {

namespace {
inline long words(const GemmKernel* kr, long kc) { return kr->kpair == 2 ? (kc + 1) / 2 : kc; }
inline long padded(long n, int r) { return (n + r - 1) / r * r; }
// Words of one packed column over all of K (the sum of every K panel's words).
inline long column_words(const GemmKernel* kr, long K) {
  const long full = K / kr->KC, rest = K % kr->KC;
  return full * words(kr, kr->KC) + (rest ? words(kr, rest) : 0);
}
}  // namespace

long packed_b_words(const GemmKernel* kr, long N, long K) {
  const long fullBlocks = N / kr->NC, rest = N % kr->NC;
  const long cols = fullBlocks * padded(kr->NC, kr->NR) + (rest ? padded(rest, kr->NR) : 0);
  return cols * column_words(kr, K);
}

const float* packed_b_panel(const GemmKernel* kr, const GemmArgs& g, long jc, long pc) {
  const long nc = std::min<long>(kr->NC, g.N - jc);
  return g.Bpacked + (jc / kr->NC) * padded(kr->NC, kr->NR) * column_words(kr, g.K) + padded(nc, kr->NR) * (pc / kr->KC) * words(kr, kr->KC);
}

void pack_b_whole(const GemmKernel* kr, const GemmArgs& g, float* out) {
  const bool round = g.compute == GEMM_BF16 && kr->kpair == 1;
  std::vector<std::pair<long, long>> panels;
  for (long jc = 0; jc < g.N; jc += kr->NC)
    for (long pc = 0; pc < g.K; pc += kr->KC) panels.emplace_back(jc, pc);
  GemmArgs at = g;
  at.Bpacked = out;
  parallel_for(static_cast<int>(panels.size()), [&](int t, int) {
    const auto [jc, pc] = panels[static_cast<size_t>(t)];
    const long nc = std::min<long>(kr->NC, g.N - jc), kc = std::min<long>(kr->KC, g.K - pc);
    float* dst = const_cast<float*>(packed_b_panel(kr, at, jc, pc));
    kr->packB(g.B, g.bDtype, g.ldb, g.transB, pc, kc, jc, nc, dst);
    if (round) kr->roundBf16(dst, padded(nc, kr->NR) * words(kr, kc));
  });
}

int gemm_kernel_id(const GemmKernel* kr) {
  const GemmKernel* known[] = {gemm_kernel_generic(), gemm_kernel_avx2(), gemm_kernel_avx512(), gemm_kernel_avx512bf16()};
  for (int i = 0; i < 4; i++)
    if (kr && known[i] == kr) return i;
  return -1;
}

}  // namespace llm
