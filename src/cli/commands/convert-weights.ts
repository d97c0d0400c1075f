/** `llm2vec convert-weights`: a PyTorch .bin model folder → the same folder with safetensors weights. */
import type { Command } from "commander";
import { convertTorchBinFolder, parseByteSize, DEFAULT_MAX_SHARD_BYTES } from "../../formats/convert-weights.js";

interface Flags {
  output: string;
  overwrite?: boolean;
  maxShardSize?: string;
}

export function registerConvertWeights(program: Command): void {
  program
    .command("convert-weights")
    .description("convert a folder's pytorch_model.bin (or sharded .bin) weights to safetensors, copying config and tokenizer files; the pickle is decoded without executing anything")
    .argument("<dir>", "model folder with pytorch_model.bin or pytorch_model.bin.index.json")
    .requiredOption("--output <dir>", "folder to create")
    .option("--max-shard-size <size>", `shard above this size, e.g. 5GB or 500MB (default ${DEFAULT_MAX_SHARD_BYTES / 1e9}GB, as transformers)`)
    .option("--overwrite", "replace an existing output folder")
    .action((dir: string, f: Flags) => {
      const r = convertTorchBinFolder({
        input: dir,
        output: f.output,
        overwrite: f.overwrite,
        maxShardBytes: f.maxShardSize === undefined ? undefined : parseByteSize(f.maxShardSize, "--max-shard-size"),
      });
      process.stderr.write(`wrote ${f.output}: ${r.tensors} tensors, ${(r.bytes / 1e6).toFixed(1)} MB in ${r.files.join(", ")}\n`);
    });
}
