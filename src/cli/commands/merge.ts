/**
 * `llm2vec merge`: base model + PEFT adapters → one Hugging Face folder, W += (alpha/r)·B·A per
 * adapter in order, the delta computed in float32 and stored back in each weight's dtype (bf16
 * stays bf16). Written atomically; `encode`, `eval` and `serve` load it like any model folder.
 */
import type { Command } from "commander";
import { LLM2Vec } from "../../encoder/llm2vec.js";
import { resolveModel } from "../../models/resolve.js";
import { saveModelFolder } from "../../formats/model-folder.js";
import { refuseOutputOverlap } from "../../formats/real-path.js";
import { revisionOption, baseOption } from "../encoder-flags.js";

export interface MergeCommandOptions {
  model: string;
  adapter?: string[];
  base?: string;
  revision?: string;
  output: string;
  overwrite?: boolean;
}

/**
 * Writes the model folder the load resolves to, adapters merged: a -mntp folder alone is base +
 * MNTP; llm2vec_config.json records the template that applies (chat_template).
 */
export async function mergeCommand(o: MergeCommandOptions): Promise<void> {
  const resolved = await resolveModel({ model: o.model, adapters: o.adapter, base: o.base, revision: o.revision });
  if (!resolved.adapters.length) throw new Error(`merge: ${o.model} has no adapter to merge; give at least one --adapter`);
  // Replacing an input would destroy it, and merging into the model folder would apply the adapter again on every re-run.
  refuseOutputOverlap(o.output, "--output", [
    { flag: "--model", dir: resolved.weightsDir },
    ...resolved.adapters.map((a) => ({ flag: a.reason === "requested" ? "--adapter" : "--model", dir: a.dir })),
  ]);
  const enc = LLM2Vec.fromResolved(resolved, { mergeAdapter: true });
  saveModelFolder(enc, resolved.weightsDir, o.output, o.overwrite ?? false);
}

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description("merge PEFT LoRA adapters into the base weights and write a model folder")
    .requiredOption("--model <dir|id>", "base model folder or Hub id, or a PEFT adapter folder over its base (a -mntp folder)")
    .option("--adapter <dir...>", "adapter folder(s), merged in order (MNTP, then SimCSE)")
    .addOption(baseOption())
    .addOption(revisionOption())
    .requiredOption("--output <dir>", "the merged model folder")
    .option("--overwrite", "replace an existing output folder")
    .action(async (o: MergeCommandOptions) => {
      await mergeCommand(o);
      process.stderr.write(`merged into ${o.output}\n`);
    });
}
