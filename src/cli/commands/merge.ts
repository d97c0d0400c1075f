/**
 * `llm2vec merge`: base model + PEFT adapters → one Hugging Face folder, W += (alpha/r)·B·A per
 * adapter in order, the delta computed in float32 and stored back in each weight's dtype (bf16
 * stays bf16). Written atomically; `encode`, `eval` and `serve` load it like any model folder.
 */
import type { Command } from "commander";
import { LLM2Vec } from "../../encoder/llm2vec.js";
import { saveModelFolder } from "../../formats/model-folder.js";
import { refuseOutputOverlap } from "../../formats/real-path.js";

export async function mergeCommand(o: { model: string; adapter: string[]; output: string; overwrite?: boolean }): Promise<void> {
  if (!o.adapter?.length) throw new Error("merge: give at least one --adapter");
  // Replacing an input would destroy it, and merging into the model folder would apply the adapter again on every re-run.
  refuseOutputOverlap(o.output, "--output", [{ flag: "--model", dir: o.model }, ...o.adapter.map((dir) => ({ flag: "--adapter", dir }))]);
  const enc = await LLM2Vec.fromPretrained(o.model, { adapter: o.adapter, mergeAdapter: true });
  saveModelFolder(enc, o.model, o.output, o.overwrite ?? false);
}

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description("merge PEFT LoRA adapters into the base weights and write a model folder")
    .requiredOption("--model <dir>", "base model folder")
    .requiredOption("--adapter <dir...>", "adapter folder(s), merged in order (MNTP, then SimCSE)")
    .requiredOption("--output <dir>", "the merged model folder")
    .option("--overwrite", "replace an existing output folder")
    .action(async (o: { model: string; adapter: string[]; output: string; overwrite?: boolean }) => {
      await mergeCommand(o);
      process.stderr.write(`merged ${o.adapter.length} adapter(s) into ${o.output}\n`);
    });
}
