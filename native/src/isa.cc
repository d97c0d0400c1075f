// CPU feature detection and the LLM2VEC_NATIVE_ISA cap (see isa.h). A kernel is chosen only
// when CPUID reports every instruction it uses and XCR0 shows the OS saves the registers.
#include "isa.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#define LLM_X86 1
#endif

namespace llm {

namespace {

#ifdef LLM_X86
bool cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
  if (__get_cpuid_max(0, nullptr) < leaf) return false;
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
  return true;
}

unsigned long long xcr0() {
  unsigned r[4];
  if (!cpuid(1, 0, r) || !((r[2] >> 27) & 1)) return 0;  // no OSXSAVE
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}
#endif

CpuFeatures detect() {
  CpuFeatures f{false, false, false};
#ifdef LLM_X86
  unsigned l1[4], l7[4], l71[4];
  if (!cpuid(1, 0, l1) || !cpuid(7, 0, l7)) return f;
  const unsigned long long x = xcr0();
  const bool ymmOs = (x & 0x6) == 0x6;     // SSE + AVX state
  const bool zmmOs = (x & 0xe6) == 0xe6;   // and opmask, ZMM_Hi256, Hi16_ZMM
  const bool fma = (l1[2] >> 12) & 1, f16c = (l1[2] >> 29) & 1, avx = (l1[2] >> 28) & 1;
  const bool avx2 = (l7[1] >> 5) & 1;
  const bool avx512f = (l7[1] >> 16) & 1, avx512bw = (l7[1] >> 30) & 1, avx512vl = (l7[1] >> 31) & 1;
  const bool bf16 = cpuid(7, 1, l71) && ((l71[0] >> 5) & 1);  // CPUID.(7,1):EAX[5] AVX512_BF16
  f.avx2 = ymmOs && avx && avx2 && fma && f16c;
  f.avx512f = f.avx2 && zmmOs && avx512f;
  f.avx512bf16 = f.avx512f && avx512bw && avx512vl && bf16;
#endif
  return f;
}

// 0 generic, 1 avx2, 2 avx512, 3 avx512bf16.
int cap_from_env() {
  const char* want = std::getenv("LLM2VEC_NATIVE_ISA");
  if (!want || !*want) return 3;
  static const char* names[] = {"generic", "avx2", "avx512", "avx512bf16"};
  for (int i = 0; i < 4; i++)
    if (!std::strcmp(want, names[i])) return i;
  std::fprintf(stderr, "llm2vec: LLM2VEC_NATIVE_ISA=%s is not one of generic, avx2, avx512, avx512bf16; ignoring it\n", want);
  return 3;
}

IsaChoice choose() {
  const CpuFeatures f = cpu_features();
  const char* want = std::getenv("LLM2VEC_NATIVE_ISA");
  const int cap = cap_from_env();
  IsaChoice c{gemm_kernel_generic(), nullptr, false, kernels_generic(), quant_kernel_generic()};
  if (cap >= 1 && f.avx2 && gemm_kernel_avx2() && kernels_avx2()) {
    c.gemm = gemm_kernel_avx2();
    c.kernels = kernels_avx2();
    if (quant_kernel_avx2()) c.quant = quant_kernel_avx2();
  }
  if (cap >= 2 && f.avx512f && gemm_kernel_avx512()) {
    c.gemm = gemm_kernel_avx512();
    if (kernels_avx512()) c.kernels = kernels_avx512();
  }
  if (cap >= 3 && f.avx512bf16 && gemm_kernel_avx512bf16()) c.bf16Units = gemm_kernel_avx512bf16();
  c.bf16Forced = c.bf16Units && want && !std::strcmp(want, "avx512bf16");
  return c;
}

// GFLOP/s of one micro-kernel on L1-resident packed tiles (kc = 256, words of ones), best of 3.
double micro_rate(const GemmKernel* k) {
  const long kc = 256, words = k->kpair == 2 ? kc / 2 : kc;
  const size_t na = static_cast<size_t>(k->MR * words), nb = static_cast<size_t>(k->NR * words);
  float* Ap = static_cast<float*>(std::aligned_alloc(64, (na * 4 + 63) / 64 * 64));
  float* Bp = static_cast<float*>(std::aligned_alloc(64, (nb * 4 + 63) / 64 * 64));
  float* C = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(k->MR * k->NR) * 4 + 64));
  const uint32_t one = k->kpair == 2 ? 0x3f803f80u : 0x3f800000u;  // bf16 pair (1, 1) or f32 1
  for (size_t i = 0; i < na; i++) std::memcpy(Ap + i, &one, 4);
  for (size_t i = 0; i < nb; i++) std::memcpy(Bp + i, &one, 4);
  const int calls = 400;
  double best = 0;
  for (int t = 0; t < 4; t++) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; i++) k->micro(kc, Ap, Bp, C, k->NR, 1.f, 0.f, k->MR, k->NR);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (t > 0) best = std::max(best, 2.0 * k->MR * k->NR * kc * calls / s / 1e9);  // t = 0 warms up
  }
  std::free(Ap);
  std::free(Bp);
  std::free(C);
  return best;
}

Bf16Choice choose_bf16() {
  const IsaChoice& c = isa_choice();
  const std::string rounded = std::string(c.gemm->name) + "-rounded";
  if (!c.bf16Units) {
    const bool capped = cpu_features().avx512bf16 && gemm_kernel_avx512bf16();
    return {c.gemm, rounded, capped ? "bf16 units capped off by LLM2VEC_NATIVE_ISA" : "no bf16 units", 0, 0};
  }
  if (c.bf16Forced) return {c.bf16Units, c.bf16Units->name, "forced by LLM2VEC_NATIVE_ISA=avx512bf16", 0, 0};
  // Interleaved, best of two rounds each: the cores may be shared with other processes.
  double u = 0, f = 0;
  for (int r = 0; r < 2; r++) {
    u = std::max(u, micro_rate(c.bf16Units));
    f = std::max(f, micro_rate(c.gemm));
  }
  char why[160];
  // The rounded path also pays a rounding pass over the packed operands: a tie goes to the units.
  const bool units = u >= 0.95 * f;
  std::snprintf(why, sizeof why, "timed: %s micro-kernel %.0f GFLOP/s vs %s %.0f GFLOP/s", c.bf16Units->name, u, c.gemm->name, f);
  return {units ? c.bf16Units : c.gemm, units ? c.bf16Units->name : rounded, why, u, f};
}

}  // namespace

CpuFeatures cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

const IsaChoice& isa_choice() {
  static const IsaChoice c = choose();
  return c;
}

const Bf16Choice& bf16_choice() {
  static const Bf16Choice c = choose_bf16();
  return c;
}

}  // namespace llm
