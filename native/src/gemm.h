// BLIS-style GEMM: C = alpha·op(A)·op(B) + beta·C, batched with strides, B in f32/bf16/f16.
#pragma once
#include <cstdint>

namespace llm {

struct GemmArgs {
  long batch, M, N, K;
  bool transA, transB;
  const float* A;
  long lda, strideA;
  const void* B;
  int bDtype;
  long ldb, strideB;
  float* C;
  long ldc, strideC;
  float alpha, beta;
  // GEMM_F32, or GEMM_BF16: op(A) and op(B) are rounded to bf16 (round to nearest even) before
  // they are multiplied, products accumulate in f32 and C stays f32 (PyTorch's bf16 autocast with
  // f32 outputs). Every kernel gives these semantics; only the accumulation order differs.
  int compute = 0;
  // Optional: op(B) already packed whole for this kernel and compute dtype (pack_b_whole), as a
  // frozen weight can be once for all its products. Only for one product or a B shared by the
  // batch (strideB 0); paths that read B as stored (few rows, split K) ignore it.
  const float* Bpacked = nullptr;
};

enum GemmCompute : int { GEMM_F32 = 0, GEMM_BF16 = 1 };

// One ISA's building blocks. Packed buffers are arrays of 32-bit words. With kpair 1 a word is
// one f32 element: packed A is MR-row slivers, element (i,k) at k*MR+i; packed B is NR-column
// slivers, element (k,j) at k*NR+j. With kpair 2 (bf16 dot-product kernels) a word holds the two
// bf16 elements k = 2p (low half) and 2p+1 (high half), so a sliver spans ceil(kc/2) words per
// row/column and the word of pair p sits where element p would. Slivers are zero-padded to
// MR/NR (and to an even k).
struct GemmKernel {
  const char* name;
  int MR, NR;
  int MC, KC, NC;
  int kpair;
  // C[0:m,0:n] = alpha·Ap·Bp + beta·C (beta == 0: C is not read). m ≤ MR, n ≤ NR.
  void (*micro)(long kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha, float beta, int m, int n);
  // Packs op(A)[i0:i0+mc, k0:k0+kc].
  void (*packA)(const float* A, long lda, bool transA, long i0, long mc, long k0, long kc, float* Ap);
  // Packs op(B)[k0:k0+kc, j0:j0+nc], widening from dtype.
  void (*packB)(const void* B, int dtype, long ldb, bool transB, long k0, long kc, long j0, long nc, float* Bp);
  // Few-row products without packing: C[0:M, n0:n1] for M ≤ smallM (K > 0).
  int smallM;
  void (*smallRows)(const GemmArgs& g, const float* A, const void* B, float* C, long n0, long n1);
  // Rounds n packed f32 words to bf16 precision in place (kpair 1 kernels under GEMM_BF16).
  void (*roundBf16)(float* p, long n);
};

const GemmKernel* gemm_kernel_generic();
const GemmKernel* gemm_kernel_avx2();    // null when not compiled in
const GemmKernel* gemm_kernel_avx512();  // null when not compiled in
// AVX-512-BF16 (vdpbf16ps) kernel for GEMM_BF16 products only; null when not compiled in.
const GemmKernel* gemm_kernel_avx512bf16();

void gemm(const GemmKernel* kern, const GemmArgs& g);

// Packed-once B (gemm_packed.cc): the panels the driver would pack per call, in its order
// (column blocks of NC from 0, in each the K panels of KC), with bf16 rounding under GEMM_BF16.
long packed_b_words(const GemmKernel* kern, long N, long K);
// Packs g's op(B) (B, bDtype, ldb, transB, N, K, compute) into out[packed_b_words(kern, N, K)].
void pack_b_whole(const GemmKernel* kern, const GemmArgs& g, float* out);
// The packed panel holding op(B)[pc:pc+KC, jc:jc+NC] (jc a multiple of NC, pc of KC).
const float* packed_b_panel(const GemmKernel* kern, const GemmArgs& g, long jc, long pc);
// A small stable number per kernel (0 generic, 1 avx2, 2 avx512, 3 avx512bf16; −1 unknown), so a
// packed buffer can say which kernel's layout it holds.
int gemm_kernel_id(const GemmKernel* kern);

// The kernel picked at load time (generic until set); attention builds on it.
const GemmKernel* active_gemm();
void set_active_gemm(const GemmKernel* k);

// Single product C = alpha·op(A)·op(B) + beta·C on f32 operands with the active kernel.
void sgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda, const float* B, long ldb,
           float beta, float* C, long ldc);

}  // namespace llm
