/**
 * The same native-vs-reference cases on the portable (no AVX2) kernels, which a machine
 * without AVX2 would run: LLM2VEC_NATIVE_ISA=generic caps the ISA the addon picks at load time.
 */
process.env.LLM2VEC_NATIVE_ISA = "generic";
await import("./native-vs-reference.test.js");
await import("./native-gemm-vs-reference.test.js");
await import("./native-nan.test.js");
await import("./gemm-bf16.test.js");
await import("./gemm-packed.test.js");
await import("./gemm-quant.test.js");
