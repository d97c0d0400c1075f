/**
 * Base model + PEFT adapters → one Hugging Face folder: W += (alpha/r)·B·A per adapter in order,
 * the delta computed in float32 and stored back in each weight's dtype (bf16 stays bf16). The
 * model the load resolves to is written (a -mntp folder alone is base + MNTP), atomically, with
 * the base's side files; llm2vec_config.json records the template that applies (chat_template).
 * With `quantize`, the merged projections are then quantized and saved as such.
 */
import { LLM2Vec } from "../encoder/llm2vec.js";
import { saveModelFolder } from "../formats/model-folder.js";
import { refuseOutputOverlap } from "../formats/real-path.js";
import { resolveModel } from "../models/resolve.js";
import type { QuantizeOption } from "../tensor/quant.js";

export interface MergeOptions {
  /** A model folder or Hub id, or a PEFT adapter folder over its base (a -mntp folder). */
  model: string;
  /** Adapter folders or Hub ids, merged in order (MNTP, then SimCSE). */
  adapter?: string[];
  /** The base when `model` is a PEFT adapter without weights. */
  base?: string;
  /** Hub revision of `model`. */
  revision?: string;
  output: string;
  overwrite?: boolean;
  /** Write the merged weights quantized (the saved layout of models/quantized-folder.ts); default: the base's dtype. */
  quantize?: QuantizeOption;
}

export async function merge(o: MergeOptions): Promise<void> {
  const resolved = await resolveModel({ model: o.model, adapters: o.adapter, base: o.base, revision: o.revision });
  if (!resolved.adapters.length) throw new Error(`merge: ${o.model} has no adapter to merge; give at least one --adapter`);
  // Replacing an input would destroy it, and merging into the model folder would apply the adapter again on every re-run.
  refuseOutputOverlap(o.output, "--output", [
    { flag: "--model", dir: resolved.weightsDir },
    ...resolved.adapters.map((a) => ({ flag: a.reason === "requested" ? "--adapter" : "--model", dir: a.dir })),
  ]);
  // The adapters fold into the weights as loaded (f32/bf16), and only then are they quantized.
  const enc = LLM2Vec.fromResolved(resolved, { mergeAdapter: true, quantize: o.quantize, packWeightsMB: 0 });
  saveModelFolder(enc, resolved.weightsDir, o.output, o.overwrite ?? false);
}
