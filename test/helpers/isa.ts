/**
 * The kernels the addon must have picked under the LLM2VEC_NATIVE_ISA cap on this CPU, so a test
 * that caps the ISA can check that the capped kernels are the ones that actually ran (a test that
 * only sets the variable passes just as well when the cap is ignored).
 */
import type { NativeInfo } from "../../src/tensor/backend/native.js";

/**
 * gemmBf16 lists the kernels allowed: without a cap, on a CPU with bf16 units, the addon times
 * both paths and keeps the faster, so either may run (gemmBf16Why says which timing decided).
 */
export function expectedKernels(info: NativeInfo): { gemm: string; gemmBf16: string[]; kernels: string } {
  const cap = process.env.LLM2VEC_NATIVE_ISA;
  const avx2 = cap !== "generic" && info.cpu.avx2;
  const avx512 = avx2 && cap !== "avx2" && info.cpu.avx512f;
  const bf16 = avx512 && cap !== "avx512" && info.cpu.avx512bf16;
  const gemm = avx512 ? "avx512" : avx2 ? "avx2" : "generic";
  const rounded = `${gemm}-rounded`;
  const gemmBf16 = !bf16 ? [rounded] : cap === "avx512bf16" ? ["avx512bf16"] : ["avx512bf16", rounded];
  return { gemm, gemmBf16, kernels: avx512 ? "avx512" : avx2 ? "avx2" : "generic" };
}

/** A label for test names: what ran, and whether the cap could be honoured on this CPU. */
export function isaSkipReason(info: NativeInfo | null): string | undefined {
  if (!info) return "native addon not built";
  const cap = process.env.LLM2VEC_NATIVE_ISA;
  if (cap === "avx2" && !info.cpu.avx2) return "this CPU has no AVX2/FMA/F16C";
  if (cap === "avx512" && !info.cpu.avx512f) return "this CPU has no AVX-512F";
  if (cap === "avx512bf16" && !info.cpu.avx512bf16) return "this CPU has no AVX-512-BF16";
  return undefined;
}
