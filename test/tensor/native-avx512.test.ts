/**
 * The native-vs-reference and bf16 GEMM cases with the ISA capped at AVX-512F: on a CPU with
 * AVX-512-BF16 this runs bf16-compute products on the f32 AVX-512 kernel with rounded operands
 * (the path of AVX-512 CPUs without bf16 units). Both files assert the kernels that actually ran.
 */
process.env.LLM2VEC_NATIVE_ISA = "avx512";
await import("./native-vs-reference.test.js");
await import("./native-gemm-vs-reference.test.js");
await import("./gemm-bf16.test.js");
await import("./gemm-packed.test.js");
await import("./gemm-quant.test.js");
