/**
 * The native-vs-reference cases with the ISA capped at AVX2/FMA, so the 6×16 AVX2 GEMM kernel is
 * exercised even on machines whose default pick is the AVX-512 kernel.
 * The NaN-propagation cases run here too, and both files assert the kernels that actually ran.
 */
process.env.LLM2VEC_NATIVE_ISA = "avx2";
await import("./native-vs-reference.test.js");
await import("./native-gemm-vs-reference.test.js");
await import("./native-nan.test.js");
await import("./gemm-bf16.test.js");
await import("./gemm-packed.test.js");
await import("./gemm-quant.test.js");
