/**
 * Choosing a model's compute dtype (`computeDtype` in the library, `--dtype` on the CLI). bf16
 * means PyTorch's bf16 autocast with f32 GEMM outputs: the operands of every projection and of
 * the LM head are rounded to bf16 and multiplied with f32 accumulation; norms, RoPE, attention,
 * activations and losses stay f32 (see src/tensor/compute.ts). Weights keep their storage dtype:
 * bf16 weights are used as stored, f32 and f16 ones are rounded while the GEMM packs them.
 *
 * The numerics are the same on every machine (up to summation order); only the speed depends on
 * the CPU. Where no bf16 unit is there, where it times slower than f32 FMA, or where
 * LLM2VEC_NATIVE_ISA caps it off, the f32 kernels run on rounded operands, and this says so once.
 */
import { backend } from "../tensor/backend/index.js";
import { nativeInfo } from "../tensor/backend/native.js";
import { COMPUTE_DTYPES, type ComputeDtype } from "../tensor/compute.js";
import type { DecoderModel } from "./decoder.js";

const said = new Set<string>();

function once(code: string, message: string): void {
  if (said.has(code)) return;
  said.add(code);
  process.emitWarning(message, { code });
}

/** The bf16 GEMM path this process runs, and whether it has bf16 units. */
export function bf16Path(): { kernel: string; units: boolean; why?: string } {
  if (backend().name !== "native") return { kernel: "reference (rounded operands)", units: false, why: "the TypeScript reference backend is running" };
  const info = nativeInfo();
  if (!info) return { kernel: "unknown", units: false, why: "the native addon reports nothing" };
  if (!info.gemmBf16.endsWith("-rounded")) return { kernel: info.gemmBf16, units: true };
  const why = info.gemmBf16Why.startsWith("timed:")
    ? `this CPU's bf16 units run slower than its f32 FMA (${info.gemmBf16Why})`
    : info.cpu.avx512bf16
      ? `LLM2VEC_NATIVE_ISA=${process.env.LLM2VEC_NATIVE_ISA} caps the kernels below AVX-512-BF16`
      : "this CPU has no bf16 matrix units (AVX-512-BF16)";
  return { kernel: info.gemmBf16, units: false, why };
}

export function setComputeDtype(model: DecoderModel, dtype: ComputeDtype, source = "computeDtype"): void {
  if (!COMPUTE_DTYPES.includes(dtype)) throw new Error(`${source}: must be one of ${COMPUTE_DTYPES.join(", ")}, got ${JSON.stringify(dtype)}`);
  model.computeDtype = dtype;
  if (dtype !== "bf16") return;
  const p = bf16Path();
  if (!p.units)
    once(
      "LLM2VEC_BF16_FALLBACK",
      `llm2vec: bf16 compute requested but ${p.why}: products run on the f32 kernel (${p.kernel}) with operands rounded to bf16. Results are those of bf16 compute; there is no speed-up (use the default f32 for speed here).`,
    );
  const f16 = [...model.linearModules()].filter(([, l]) => l.weight.dtype === "f16").length + (model.lmHead.dtype === "f16" ? 1 : 0);
  if (f16 > 0)
    once(
      "LLM2VEC_BF16_FROM_F16",
      `llm2vec: ${f16} weight matrices are stored in f16; bf16 compute rounds them to bf16 as they are used (3 mantissa bits fewer than f16, f32's range).`,
    );
}
