/**
 * PyTorch `.bin` model folder → safetensors model folder, as transformers' `save_pretrained`
 * lays it out: `model.safetensors` when the tensors fit in one shard, otherwise
 * `model-0000i-of-0000n.safetensors` plus `model.safetensors.index.json`. Every other top-level
 * file (config, tokenizer, generation config...) is copied. The output folder is written
 * atomically, and tensors are streamed one at a time, so memory holds one tensor, not a shard.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { openTorchBinWeights } from "./hf-folder.js";
import { writeFolderAtomically, atomicWriteText } from "./atomic.js";
import { numel } from "./safetensors.js";
import { writeSafetensorsStreaming, type TensorSpec } from "./safetensors-write.js";

/** transformers' default `max_shard_size` ("5GB", decimal). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface ConvertWeightsOptions {
  input: string;
  output: string;
  overwrite?: boolean;
  /** Start a new shard before a tensor that would take a shard past this many bytes. */
  maxShardBytes?: number;
}

export interface ConvertWeightsResult {
  files: string[];
  tensors: number;
  bytes: number;
}

/** The .bin weight files and their index, which are not copied. */
const BIN_FILE = /^pytorch_model(-\d+-of-\d+)?\.bin(\.index\.json)?$/;

export function convertTorchBinFolder(o: ConvertWeightsOptions): ConvertWeightsResult {
  const maxShard = o.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(maxShard > 0)) throw new Error(`max shard size must be a positive number of bytes, got ${maxShard}`);
  if (!fs.existsSync(o.input) || !fs.statSync(o.input).isDirectory()) throw new Error(`${o.input}: model folder does not exist`);
  const src = openTorchBinWeights(o.input);
  if (!src) throw new Error(`${o.input}: no pytorch_model.bin or pytorch_model.bin.index.json to convert`);
  try {
    // Greedy shards in the checkpoint's order, as transformers' shard_checkpoint does.
    const shards: Array<{ specs: TensorSpec[]; bytes: number }> = [];
    let total = 0;
    for (const name of src.names()) {
      const info = src.info(name);
      if (!["F32", "BF16", "F16"].includes(info.dtype)) throw new Error(`${o.input}: tensor "${name}" has dtype ${info.dtype}, which cannot be converted (only F32, BF16, F16)`);
      const bytes = numel(info.shape) * (info.dtype === "F32" ? 4 : 2);
      let last = shards[shards.length - 1];
      if (!last || (last.bytes > 0 && last.bytes + bytes > maxShard)) shards.push((last = { specs: [], bytes: 0 }));
      last.specs.push({ name, dtype: info.dtype, shape: info.shape });
      last.bytes += bytes;
      total += bytes;
    }
    const names = shards.length <= 1 ? ["model.safetensors"] : shards.map((_, i) => `model-${String(i + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`);
    const bytesOf = (name: string) => {
      const t = src.read(name);
      return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    };
    writeFolderAtomically(o.output, o.overwrite === true, (tmp) => {
      for (const f of fs.readdirSync(o.input)) {
        const from = path.join(o.input, f);
        if (!BIN_FILE.test(f) && fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(tmp, f));
      }
      const weightMap: Record<string, string> = {};
      shards.forEach((s, i) => {
        writeSafetensorsStreaming(path.join(tmp, names[i]!), s.specs, bytesOf, { format: "pt" });
        for (const t of s.specs) weightMap[t.name] = names[i]!;
      });
      if (shards.length === 0) writeSafetensorsStreaming(path.join(tmp, names[0]!), [], bytesOf, { format: "pt" });
      if (shards.length > 1) atomicWriteText(path.join(tmp, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + "\n");
    });
    return { files: shards.length > 1 ? [...names, "model.safetensors.index.json"] : names, tensors: src.names().length, bytes: total };
  } finally {
    src.close();
  }
}

/** "5GB", "500MB", "2KB" (decimal, as transformers), or a plain byte count. */
export function parseByteSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$/i.exec(text);
  const unit = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[(m?.[2] ?? "B").toUpperCase() as "B"];
  const n = m ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(n > 0)) throw new Error(`${flag}: expected a size such as 5GB, 500MB or a byte count, got "${text}"`);
  return n;
}
