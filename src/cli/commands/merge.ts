/** `llm2vec merge`: base model + PEFT adapters → one Hugging Face folder (src/train/merge.ts). */
import type { Command } from "commander";
import { merge, type MergeOptions } from "../../train/merge.js";
import { revisionOption, baseOption, quantizeOption } from "../encoder-flags.js";

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description("merge PEFT LoRA adapters into the base weights and write a model folder")
    .requiredOption("--model <dir|id>", "base model folder or Hub id, or a PEFT adapter folder over its base (a -mntp folder)")
    .option("--adapter <dir...>", "adapter folder(s), merged in order (MNTP, then SimCSE)")
    .addOption(baseOption())
    .addOption(revisionOption())
    .addOption(quantizeOption("write the merged projections quantized, int8 or int4 (folded into the f32/bf16 weights first; the folder loads back as stored)"))
    .requiredOption("--output <dir>", "the merged model folder")
    .option("--overwrite", "replace an existing output folder")
    .action(async (o: MergeOptions) => {
      await merge(o);
      process.stderr.write(`merged into ${o.output}\n`);
    });
}
