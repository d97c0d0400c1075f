/**
 * The h512 4-layer random model of the benchmarks (scripts/make-random-checkpoint.py's
 * `llama4-bench` preset: hidden 512, 8 heads, FFN 1408, 4 layers, vocab 32000, f32) as a loadable
 * encoder folder, for the serving benchmark. Written here in TypeScript (randomDecoder + the
 * safetensors writer) so the benchmark needs no PyTorch; the Llama-2 tokenizer fixture (32000 ids)
 * makes it a complete folder, as bench/checkpoints.ts does for the 1.3B checkpoint.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { randomDecoder } from "../src/models/build.js";
import { specFromConfig } from "../src/models/registry.js";
import { writeSafetensors, type TensorToWrite } from "../src/formats/safetensors-write.js";
import { benchCacheDir } from "./checkpoints.js";
import { ROOT } from "./common.js";

export const LLAMA4_BENCH_CONFIG = {
  architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 512, intermediate_size: 1408,
  num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 8, vocab_size: 32000,
  max_position_embeddings: 2048, rms_norm_eps: 1e-5, rope_theta: 10000.0, rope_scaling: null,
  hidden_act: "silu", tie_word_embeddings: false, attention_bias: false, mlp_bias: false,
  initializer_range: 0.02, bos_token_id: 1, eos_token_id: 2, torch_dtype: "float32",
};

export function llama4RandomCheckpoint(): string {
  const dir = path.join(benchCacheDir(), "llama4-h512-random-f32");
  if (["config.json", "model.safetensors", "tokenizer.json"].every((f) => fs.existsSync(path.join(dir, f)))) return dir;
  const tmp = `${dir}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  process.stderr.write(`[bench-cache] writing ${dir}: random weights at the llama4-bench shapes (f32, ~190 MB)\n`);
  const model = randomDecoder(specFromConfig(LLAMA4_BENCH_CONFIG, "llama4-bench"), 7);
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, t] of model.namedWeights()) tensors[name] = { dtype: t.dtype, shape: [...t.shape], data: t.data };
  writeSafetensors(path.join(tmp, "model.safetensors"), tensors, { format: "pt" });
  fs.writeFileSync(path.join(tmp, "config.json"), JSON.stringify(LLAMA4_BENCH_CONFIG, null, 2) + "\n");
  const tok = path.join(ROOT, "test/fixtures/tokenizers/llama2");
  fs.writeFileSync(path.join(tmp, "tokenizer.json"), gunzipSync(fs.readFileSync(path.join(tok, "tokenizer.json.gz"))));
  fs.copyFileSync(path.join(tok, "tokenizer_config.json"), path.join(tmp, "tokenizer_config.json"));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}
