/** `llm2vec import-llama2c`: a llama2.c checkpoint + tokenizer → a Hugging Face Llama folder. */
import { Command } from "commander";
import { importLlama2c } from "../../formats/llama2c.js";

export function registerImportLlama2c(program: Command): void {
  program
    .command("import-llama2c")
    .description("convert a llama2.c checkpoint (e.g. stories260K.bin + tok512.bin) into a Hugging Face Llama folder")
    .requiredOption("--model <file>", "llama2.c v0 checkpoint (.bin)")
    .requiredOption("--tokenizer <file>", "llama2.c tokenizer (.bin)")
    .requiredOption("--output <dir>", "folder to create")
    .option("--overwrite", "replace an existing output folder")
    .action((o: { model: string; tokenizer: string; output: string; overwrite?: boolean }) => {
      const { config } = importLlama2c(o);
      process.stderr.write(`wrote ${o.output} (dim ${config.dim}, ${config.nLayers} layers, vocab ${config.vocabSize})\n`);
    });
}
