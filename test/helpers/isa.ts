/**
 * The kernels the addon must have picked under the LLM2VEC_NATIVE_ISA cap on this CPU, so a test
 * that caps the ISA can check that the capped kernels are the ones that actually ran (a test that
 * only sets the variable passes just as well when the cap is ignored).
 */
import type { NativeInfo } from "../../src/tensor/backend/native.js";

export function expectedKernels(info: NativeInfo): { gemm: string; kernels: string } {
  const cap = process.env.LLM2VEC_NATIVE_ISA;
  const avx2 = cap !== "generic" && info.cpu.avx2;
  const avx512 = avx2 && cap !== "avx2" && info.cpu.avx512f;
  return { gemm: avx512 ? "avx512" : avx2 ? "avx2" : "generic", kernels: avx2 ? "avx2" : "generic" };
}

/** A label for test names: what ran, and whether the cap could be honoured on this CPU. */
export function isaSkipReason(info: NativeInfo | null): string | undefined {
  if (!info) return "native addon not built";
  const cap = process.env.LLM2VEC_NATIVE_ISA;
  if (cap === "avx2" && !info.cpu.avx2) return "this CPU has no AVX2/FMA/F16C";
  return undefined;
}
