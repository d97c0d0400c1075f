/** `llm2vec merge`: base model + PEFT adapters → one Hugging Face folder (src/train/merge.ts). */
import type { Command } from "commander";
import { merge, type MergeOptions } from "../../train/merge.js";

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description("merge PEFT LoRA adapters into the base weights and write a model folder")
    .requiredOption("--model <dir>", "base model folder")
    .requiredOption("--adapter <dir...>", "adapter folder(s), merged in order (MNTP, then SimCSE)")
    .requiredOption("--output <dir>", "the merged model folder")
    .option("--overwrite", "replace an existing output folder")
    .action(async (o: MergeOptions) => {
      await merge(o);
      process.stderr.write(`merged ${o.adapter.length} adapter(s) into ${o.output}\n`);
    });
}
