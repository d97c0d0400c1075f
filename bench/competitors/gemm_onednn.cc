// oneDNN's bf16 matmul as the competitor of llm2vec's bf16 GEMM (bench/gemm-bf16.ts builds this
// with Debian's libdnnl-dev; it is never a runtime dependency of llm2vec).
//   gemm_onednn M,N,K,warmup,reps [M,N,K,warmup,reps ...]
// For each case: src bf16 M×K (row-major), weights bf16 K×N stored N×K (a Linear weight, format
// "ba"), dst f32 M×N. Prints one JSON line per case: median ms and the implementation oneDNN
// chose (e.g. "brg:avx512_core_bf16"). Threads: OMP_NUM_THREADS (set by the bench).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

using namespace dnnl;

int main(int argc, char** argv) {
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  for (int a = 1; a < argc; a++) {
    long M, N, K, warmup, reps;
    if (std::sscanf(argv[a], "%ld,%ld,%ld,%ld,%ld", &M, &N, &K, &warmup, &reps) != 5) {
      std::fprintf(stderr, "bad case %s\n", argv[a]);
      return 2;
    }
    memory::desc src_md({M, K}, memory::data_type::bf16, memory::format_tag::ab);
    memory::desc wei_md({K, N}, memory::data_type::bf16, memory::format_tag::ba);
    memory::desc dst_md({M, N}, memory::data_type::f32, memory::format_tag::ab);
    matmul::primitive_desc pd(matmul::desc(src_md, wei_md, dst_md), eng);
    memory src(src_md, eng), wei(wei_md, eng), dst(dst_md, eng);
    // Random-ish bf16 values (bit patterns of small floats).
    auto fill = [](memory& m, long n, unsigned seed) {
      uint16_t* p = static_cast<uint16_t*>(m.get_data_handle());
      unsigned x = seed;
      for (long i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        float f = (static_cast<float>(x >> 8) / 16777216.f) * 2.f - 1.f;
        uint32_t u;
        std::memcpy(&u, &f, 4);
        p[i] = static_cast<uint16_t>(u >> 16);
      }
    };
    fill(src, M * K, 1);
    fill(wei, K * N, 2);
    matmul prim(pd);
    auto run = [&] {
      prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
      strm.wait();
    };
    for (long i = 0; i < warmup; i++) run();
    std::vector<double> ts;
    for (long i = 0; i < reps; i++) {
      auto t0 = std::chrono::steady_clock::now();
      run();
      ts.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ts.begin(), ts.end());
    std::printf("{\"M\":%ld,\"N\":%ld,\"K\":%ld,\"ms\":%.4f,\"impl\":\"%s\"}\n", M, N, K, ts[ts.size() / 2], pd.impl_info_str());
    std::fflush(stdout);
  }
  return 0;
}
