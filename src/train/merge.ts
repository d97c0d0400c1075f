/**
 * Base model + PEFT adapters → one Hugging Face folder: W += (alpha/r)·B·A per adapter in order,
 * the delta computed in float32 and stored back in each weight's dtype (bf16 stays bf16). Written
 * atomically (LLM2Vec.save); `encode`, `eval` and `serve` load it like any model folder.
 */
import { LLM2Vec } from "../encoder/llm2vec.js";

export interface MergeOptions {
  model: string;
  /** Adapter folders, merged in order (MNTP, then SimCSE). */
  adapter: string[];
  output: string;
  overwrite?: boolean;
}

export async function merge(o: MergeOptions): Promise<void> {
  if (!o.adapter?.length) throw new Error("merge: give at least one --adapter");
  const enc = await LLM2Vec.fromPretrained(o.model, { adapter: o.adapter, mergeAdapter: true });
  enc.save(o.output, { overwrite: o.overwrite });
}
