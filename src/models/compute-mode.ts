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
 * "auto" picks bf16 only where it is stored and pays (chooseAutoDtype), and says which it chose.
 */
import { backend } from "../tensor/backend/index.js";
import { nativeInfo } from "../tensor/backend/native.js";
import { COMPUTE_DTYPES, type ComputeDtype } from "../tensor/compute.js";
import type { DecoderModel } from "./decoder.js";
import { noteToStderr } from "./load.js";

const said = new Set<string>();

function once(code: string, message: string): void {
  if (said.has(code)) return;
  said.add(code);
  process.emitWarning(message, { code });
}

/** The bf16 GEMM path this process runs, whether it has bf16 units, and why (the addon's timing when it has). */
export interface Bf16Path {
  kernel: string;
  units: boolean;
  why?: string;
}

export function bf16Path(): Bf16Path {
  if (backend().name !== "native") return { kernel: "reference (rounded operands)", units: false, why: "the TypeScript reference backend is running" };
  const info = nativeInfo();
  if (!info) return { kernel: "unknown", units: false, why: "the native addon reports nothing" };
  if (!info.gemmBf16.endsWith("-rounded")) return { kernel: info.gemmBf16, units: true, why: info.gemmBf16Why };
  const why = info.gemmBf16Why.startsWith("timed:")
    ? `this CPU's bf16 units run slower than its f32 FMA (${info.gemmBf16Why})`
    : info.cpu.avx512bf16
      ? `LLM2VEC_NATIVE_ISA=${process.env.LLM2VEC_NATIVE_ISA} caps the kernels below AVX-512-BF16`
      : "this CPU has no bf16 matrix units (AVX-512-BF16)";
  return { kernel: info.gemmBf16, units: false, why };
}

/** A compute dtype as asked: "auto" lets chooseAutoDtype decide. */
export type ComputeDtypeOption = ComputeDtype | "auto";

export interface DtypeChoice {
  dtype: ComputeDtype;
  reason: string;
}

/**
 * What "auto" runs: bf16 when every projection weight not quantized is stored in 16 bits (bf16
 * or f16: no f32 precision is lost by rounding them) and the addon chose its bf16 kernel over the
 * f32 one (it times both micro-kernels once per process, see native/src/isa.cc), else f32.
 * `bf16` is injectable so the decision is testable on any CPU.
 */
export function chooseAutoDtype(model: DecoderModel, bf16: Bf16Path = bf16Path()): DtypeChoice {
  const stored = [...model.linearModules()].map(([, l]) => l.weight).filter((w) => !w.quant);
  if (stored.length === 0) return { dtype: "f32", reason: "the projections are quantized, so their products are integer ones either way" };
  const wide = stored.filter((w) => w.dtype === "f32").length;
  if (wide > 0) return { dtype: "f32", reason: `${wide} of ${stored.length} projection weights are stored in f32` };
  if (!bf16.units) return { dtype: "f32", reason: `the weights are 16-bit, but ${bf16.why ?? "there is no bf16 kernel"}` };
  return { dtype: "bf16", reason: `the weights are 16-bit and the bf16 kernel ${bf16.kernel} is the faster (${bf16.why ?? "chosen by the addon"})` };
}

/**
 * Sets the model's compute dtype and returns it; "auto" decides by chooseAutoDtype and says
 * what it chose through `note`. `source` names the option or flag in errors and notes.
 */
export function setComputeDtype(model: DecoderModel, asked: ComputeDtypeOption, source = "computeDtype", note: (line: string) => void = noteToStderr, bf16?: Bf16Path): ComputeDtype {
  let dtype = asked;
  if (dtype === "auto") {
    const c = chooseAutoDtype(model, bf16);
    note(`${source} auto: ${c.dtype} (${c.reason})`);
    dtype = c.dtype;
  }
  if (!COMPUTE_DTYPES.includes(dtype)) throw new Error(`${source}: must be one of ${[...COMPUTE_DTYPES, "auto"].join(", ")}, got ${JSON.stringify(dtype)}`);
  model.computeDtype = dtype;
  if (dtype !== "bf16") return dtype;
  const p = bf16 ?? bf16Path();
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
  return dtype;
}
