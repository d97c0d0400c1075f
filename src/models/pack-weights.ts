/**
 * Packs a model's frozen projection weights once for the GEMM (tensor/packed-weights.ts), within
 * a memory budget: a pack is a float32 copy of the weight in the kernel's layout (as large as an
 * f32 weight, twice a bf16 one on the f32 kernels), so a model too big for the budget gets its
 * first layers packed and the rest packed per call as before. The LM head is left alone: encoding
 * never uses it and decoding multiplies it a few rows at a time, which reads weights as stored.
 *
 * With `quantize`, this is also where the projections (and, for generation, the LM head) become
 * block-quantized storage (tensor/quant.ts): the quantized blocks are their own pack, and the
 * original arrays are dropped, so the model takes about half (int8) or under a third (int4) of its
 * bf16 size. Embeddings, norms and LoRA adapters stay as they are.
 */
import type { ComputeDtype } from "../tensor/compute.js";
import { packWeight } from "../tensor/packed-weights.js";
import { QUANT_KINDS, quantBytes, quantizeWeight, type QuantizeOption } from "../tensor/quant.js";
import { Tensor } from "../tensor/tensor.js";
import { backend } from "../tensor/backend/index.js";
import { releaseMappedPages } from "../formats/file-map.js";
import type { DecoderModel } from "./decoder.js";

export interface PackReport {
  packed: number;
  /** Projections left to per-call packing because the budget ran out. */
  skipped: number;
  bytes: number;
}

/** Default budget of `packFrozenWeights` (and of LLM2Vec.fromPretrained's packWeightsMB). */
export const DEFAULT_PACK_BUDGET_MB = 2048;

export function packFrozenWeights(model: DecoderModel, compute: ComputeDtype, budgetBytes: number): PackReport {
  const r: PackReport = { packed: 0, skipped: 0, bytes: 0 };
  let full = false;
  for (const [, lin] of model.linearModules()) {
    const w = lin.weight;
    // f32 words per element (a bf16-pair kernel needs half): a conservative estimate before packing.
    // Once one does not fit, none after it is packed: the packed layers are a prefix.
    full ||= r.bytes + w.size * 4 > budgetBytes;
    if (w.quant) continue;
    if (full || w.requiresGrad) {
      r.skipped++;
      continue;
    }
    const b = packWeight(w, compute);
    if (b === 0) return r; // this backend cannot pack (the TypeScript reference)
    r.bytes += b;
    r.packed++;
  }
  return r;
}

export const QUANTIZE_OPTIONS = Object.keys(QUANT_KINDS) as QuantizeOption[];

export interface QuantizeReport {
  quantized: number;
  /** Bytes of the quantized storage (integers and scales). */
  bytes: number;
}

/**
 * Replaces every frozen projection weight (and the LM head when `lmHead`) by its quantized form.
 * Refuses a weight that trains (quantization is for frozen bases: LoRA over it trains in f32),
 * and NaN/Inf, naming the tensor. `where` names the option or flag in errors.
 */
export function quantizeFrozenWeights(model: DecoderModel, option: QuantizeOption, opts: { lmHead?: boolean; where?: string } = {}): QuantizeReport {
  const where = opts.where ?? "quantize";
  const kind = QUANT_KINDS[option];
  if (kind === undefined) throw new Error(`${where} must be one of ${QUANTIZE_OPTIONS.join(", ")}, got ${JSON.stringify(option)}`);
  const r: QuantizeReport = { quantized: 0, bytes: 0 };
  // The addon's twin where there is one (the same bits, threaded), else the TypeScript definition.
  const be = backend();
  const quantizeW = be.quantizeWeight ? be.quantizeWeight.bind(be) : quantizeWeight;
  const quantize = (w: Tensor, name: string): Tensor => {
    if (w.quant?.kind === kind) return w;
    if (w.quant) throw new Error(`${where} ${option}: ${name} is stored quantized as ${w.quant.kind} (config.json's quantization_config), which loads as stored; drop ${where} or load the f32/bf16 checkpoint`);
    if (w.requiresGrad) throw new Error(`${where}: ${name} trains; quantized weights are frozen (train LoRA adapters over them instead)`);
    const [N, K] = w.shape as [number, number];
    const q = Tensor.quantized(quantizeW(w.data, w.dtype, N, K, kind, name), name);
    // The stored weight is not read again: its pages of a mapped file leave the resident set.
    releaseMappedPages(w.data);
    r.quantized++;
    r.bytes += quantBytes(q.quant!);
    return q;
  };
  for (const [path, lin] of model.linearModules()) lin.weight = quantize(lin.weight, `${path}.weight`);
  if (opts.lmHead) Object.assign(model, { lmHead: quantize(model.lmHead, "lm_head.weight") });
  return r;
}
