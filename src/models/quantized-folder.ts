/**
 * The saved layout of block-quantized weights (tensor/quant.ts), so a quantized model loads back
 * as stored, with no re-quantization. A quantized projection `X.weight` [N, K] is written as two
 * safetensors tensors, its integers and its scales exactly as QuantWeight holds them:
 *
 *   X.weight.qs  I8 [N, Kp] (q8_0) or U8 [N, Kp/2] (q4_0, q4_1: llama.cpp's nibble order)
 *   X.weight.d   F16 [N, Kp/32], one scale per block of 32 along K (K zero-padded to Kp)
 *   X.weight.m   F16 [N, Kp/32], q4_1 only: one minimum per block
 *
 * and config.json carries a `quantization_config` in the shape transformers uses (its
 * `quant_method` names the method, so transformers refuses the folder instead of misreading it),
 * with llama.cpp's kind names and GPTQ/AWQ's `bits` / `group_size`.
 */
import type { WeightSource } from "../formats/hf-folder.js";
import type { TensorToWrite } from "../formats/safetensors-write.js";
import type { QuantKind, QuantWeight } from "../tensor/backend/types.js";
import { QBLOCK } from "../tensor/quant.js";
import { shapeStr, type Tensor } from "../tensor/tensor.js";
import type { WeightReader } from "./build.js";
import type { RawConfig } from "./config-fields.js";
import type { DecoderModel } from "./decoder.js";

export const QUANT_METHOD = "llm2vec";
export const LAYOUT_VERSION = 1;
const QS = ".qs";
const D = ".d";
const MIN = ".m";

/** Per kind: bits per value, the safetensors dtype of its integers, and whether it has block minimums. */
const KINDS: Record<QuantKind, { bits: number; qsDtype: "I8" | "U8"; mins: boolean }> = {
  q8_0: { bits: 8, qsDtype: "I8", mins: false },
  q4_0: { bits: 4, qsDtype: "U8", mins: false },
  q4_1: { bits: 4, qsDtype: "U8", mins: true },
};

/** config.json's `quantization_config` for weights of `kind`. */
export function quantizationConfig(kind: QuantKind): Record<string, unknown> {
  return { quant_method: QUANT_METHOD, quant_type: kind, bits: KINDS[kind].bits, group_size: QBLOCK, scale_dtype: "float16", layout_version: LAYOUT_VERSION };
}

/**
 * The kind a folder's config.json says its weights are stored in, or null when it has no
 * `quantization_config`. Refuses what this build cannot read, naming the file and the field.
 */
export function readQuantizationConfig(config: RawConfig, file: string): QuantKind | null {
  const q = config.quantization_config;
  if (q === undefined || q === null) return null;
  const field = (k: string) => `${file}: field "quantization_config.${k}"`;
  if (typeof q !== "object" || Array.isArray(q)) throw new Error(`${file}: field "quantization_config" must be an object`);
  const c = q as Record<string, unknown>;
  if (c.quant_method !== QUANT_METHOD) throw new Error(`${field("quant_method")} is ${JSON.stringify(c.quant_method)}; this build reads only "${QUANT_METHOD}" (its own saved layout); load the f32/bf16 checkpoint instead`);
  if (c.layout_version !== LAYOUT_VERSION) throw new Error(`${field("layout_version")} is ${JSON.stringify(c.layout_version)}; this build reads layout ${LAYOUT_VERSION}`);
  const kind = c.quant_type;
  if (typeof kind !== "string" || !Object.hasOwn(KINDS, kind)) throw new Error(`${field("quant_type")} is ${JSON.stringify(kind)}, a kind this build does not know (it knows ${Object.keys(KINDS).join(", ")})`);
  if (c.group_size !== QBLOCK) throw new Error(`${field("group_size")} is ${JSON.stringify(c.group_size)}; ${kind} uses blocks of ${QBLOCK}`);
  return kind as QuantKind;
}

/** The kind of the model's quantized weights, or null when none is quantized. */
export function modelQuantKind(model: DecoderModel): QuantKind | null {
  const kinds = new Set<QuantKind>();
  for (const [, t] of model.namedWeights()) if (t.quant) kinds.add(t.quant.kind);
  if (kinds.size > 1) throw new Error(`save: the model mixes quantized kinds (${[...kinds].join(", ")}); one folder holds one kind`);
  return kinds.size ? [...kinds][0]! : null;
}

/** The two tensors a quantized weight named `name` is saved as. */
export function quantizedTensors(name: string, q: QuantWeight): Record<string, TensorToWrite> {
  return {
    [name + QS]: { dtype: KINDS[q.kind].qsDtype, shape: [q.N, q.qs.length / q.N], data: q.qs },
    [name + D]: { dtype: "f16", shape: [q.N, q.d.length / q.N], data: q.d },
    ...(q.m ? { [name + MIN]: { dtype: "f16", shape: [q.N, q.m.length / q.N], data: q.m } } : {}),
  };
}

/**
 * A weight reader over a quantized folder's tensors: `X` reads as the QuantWeight of `X.qs` and
 * `X.d` (and `X.m` for q4_1) when those exist (their shapes checked against the one the config implies, naming the
 * tensor and both shapes), else as stored.
 */
export function quantizedReader(source: WeightSource, kind: QuantKind, where: string): WeightReader {
  const { bits, qsDtype, mins } = KINDS[kind];
  const quantized = (name: string) => source.has(name + QS);
  const expect = (name: string, dtype: string, shape: readonly number[]) => {
    if (!source.has(name)) throw new Error(`${where}: tensor "${name}" is missing (expected ${dtype} ${shapeStr(shape)} for ${kind})`);
    const info = source.info(name);
    if (info.dtype !== dtype) throw new Error(`${where}: tensor "${name}" has dtype ${info.dtype}; ${kind} stores it as ${dtype}`);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i]))
      throw new Error(`${where}: tensor "${name}" has shape ${shapeStr(info.shape)}, the config implies ${shapeStr(shape)} for ${kind}`);
  };
  return {
    has: (name) => quantized(name) || source.has(name),
    names: () =>
      source.names().flatMap((n) => {
        if (n.endsWith(QS)) return [n.slice(0, -QS.length)];
        const part = [D, MIN].find((s) => n.endsWith(s) && quantized(n.slice(0, -s.length)));
        return part ? [] : [n];
      }),
    read(name, shape) {
      if (!quantized(name)) return source.read(name);
      if (source.has(name)) throw new Error(`${where}: tensor "${name}" is stored both plain and quantized ("${name}${QS}")`);
      if (shape.length !== 2) throw new Error(`${where}: tensor "${name}${QS}": only 2-D projection weights can be quantized, the config implies ${shapeStr(shape)}`);
      const [N, K] = shape as [number, number];
      const Kp = Math.ceil(K / QBLOCK) * QBLOCK;
      expect(name + QS, qsDtype, [N, (Kp * bits) / 8]);
      expect(name + D, "F16", [N, Kp / QBLOCK]);
      const bytes = source.readBytes(name + QS);
      const qs = qsDtype === "I8" ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
      const d = source.read(name + D).data as Uint16Array;
      if (!mins) return { dtype: "f32", shape: [N, K], data: new Float32Array(0), quant: { kind, N, K, Kp, qs, d } };
      expect(name + MIN, "F16", [N, Kp / QBLOCK]);
      const m = source.read(name + MIN).data as Uint16Array;
      return { dtype: "f32", shape: [N, K], data: new Float32Array(0), quant: { kind, N, K, Kp, qs, d, m } };
    },
  };
}

/**
 * Only projections (and an untied LM head) run on quantized storage: a quantized embedding or
 * norm in a file is refused at load, naming it, rather than failing at the first forward.
 */
export function refuseQuantizedNonProjections(model: DecoderModel, where: string): void {
  const allowed = new Set<Tensor>([...model.linearModules()].map(([, l]) => l.weight));
  if (!model.spec.tieWordEmbeddings) allowed.add(model.lmHead);
  for (const [name, t] of model.namedWeights())
    if (t.quant && !allowed.has(t)) throw new Error(`${where}: tensor "${name}" is stored quantized (${name}${QS}), but only projection weights may be`);
}
