/**
 * config.json semantics: `specFromConfig` (models/registry.ts) is the one interpreter of a Hugging
 * Face config. Real configs (test/fixtures/formats/configs) build the specs transformers would
 * build; bad configs fail naming the file and the field.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, type RawConfig } from "../../src/models/config-fields.js";
import { readSpec } from "../../src/models/load.js";
import { specFromConfig, SUPPORTED_MODEL_TYPES } from "../../src/models/registry.js";
import { parameterCount, weightShapes, type DecoderSpec } from "../../src/models/spec.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures");
const CONFIGS = path.join(FIXTURES, "formats", "configs");

function load(name: string): { raw: RawConfig; file: string } {
  const file = path.join(CONFIGS, name);
  return { raw: JSON.parse(fs.readFileSync(file, "utf8")) as RawConfig, file };
}
function spec(name: string): DecoderSpec {
  const { raw, file } = load(name);
  return specFromConfig(raw, file);
}

const LLAMA_32_1B = "meta-llama__Llama-3.2-1B.config.json";
const LLAMA_31_8B = "meta-llama__Llama-3.1-8B.config.json";
const TINYLLAMA = "TinyLlama__TinyLlama-1.1B-Chat-v1.0.config.reconstructed.json";
const TINYLLAMA_RESAVED = "TinyLlama__TinyLlama-1.1B-Chat-v1.0-resaved.config.json";
const GEMMA_2B = "google__gemma-2b.config.reconstructed.json";
const QWEN2_05B = "Qwen__Qwen2-0.5B-Instruct.probable.config.reconstructed.json";
const DOLPHIN = "cognitivecomputations__Dolphin3.0-R1-Mistral-24B.config.json";

test("every fixture config builds a spec", () => {
  const files = fs.readdirSync(CONFIGS).filter((f) => f.endsWith(".json"));
  assert.ok(files.length >= 9);
  for (const f of files) {
    const s = spec(f);
    assert.ok(SUPPORTED_MODEL_TYPES.includes(s.family), f);
    assert.ok(s.hiddenSize > 0 && s.numLayers > 0 && s.vocabSize > 0, f);
    assert.equal(s.numHeads % s.numKvHeads, 0, f);
    assert.ok(s.headDim > 0 && s.headDim % 2 === 0, f);
    assert.ok(s.rmsNormEps > 0 && s.ropeTheta > 0, f);
  }
});

test("Llama-3.2-1B: tied embeddings, llama3 rope scaling, 16 layers, head dim 64", () => {
  const s = spec(LLAMA_32_1B);
  assert.equal(s.family, "llama");
  assert.equal(s.tieWordEmbeddings, true);
  assert.deepEqual(s.ropeScaling, { type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  assert.equal(s.ropeTheta, 500000);
  assert.equal(s.numLayers, 16);
  assert.equal(s.headDim, 64);
  assert.equal(s.numKvHeads, 8);
  assert.equal(s.maxPositions, 131072);
  assert.equal(s.bosTokenId, 128000);
  assert.deepEqual(s.eosTokenIds, [128001]);
  assert.equal(s.padTokenId, null);
  assert.equal(s.activation, "silu");
  assert.equal(s.qkvBias || s.oBias || s.mlpBias, false);
  assert.equal(s.slidingWindow, null);
  assert.equal(s.dtype, "bfloat16");
});

test("Llama-3.1-8B: untied, rope factor 8, head dim from hidden/heads", () => {
  const s = spec(LLAMA_31_8B);
  assert.equal(s.tieWordEmbeddings, false);
  assert.deepEqual(s.ropeScaling, { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  assert.equal(s.headDim, 128); // no head_dim key: 4096 / 32
  assert.equal(s.numLayers, 32);
  assert.equal(s.intermediateSize, 14336);
});

test("TinyLlama: GQA 32/4, no rope scaling; the re-saved config's `dtype` (not torch_dtype)", () => {
  const s = spec(TINYLLAMA);
  assert.equal(s.numKvHeads, 4);
  assert.deepEqual(s.ropeScaling, { type: "none" });
  assert.equal(s.rmsNormEps, 1e-5);
  assert.equal(s.dtype, "bfloat16");
  const r = spec(TINYLLAMA_RESAVED);
  assert.equal(r.dtype, "float32");
  assert.deepEqual({ ...r, dtype: null }, { ...s, dtype: null });
  // transformers ≥ 4.56 keeps `dtype` when both are given.
  assert.equal(specFromConfig({ ...load(TINYLLAMA).raw, dtype: "float16" }).dtype, "float16");
});

test("gemma-2b: head_dim 256, GELU-tanh (hidden_act ignored), tied, √hidden embedding scale", () => {
  const s = spec(GEMMA_2B);
  assert.equal(s.family, "gemma");
  assert.equal(s.headDim, 256); // explicit: 2048 / 8 would also be 256, but gemma-7b's 3072 / 16 is not
  assert.equal(s.activation, "gelu_tanh"); // hidden_act "gelu" (exact) is ignored by transformers' Gemma
  assert.equal(s.tieWordEmbeddings, true); // absent: GemmaConfig's default
  assert.equal(s.normAddOne, true);
  assert.equal(s.embedScale, Math.fround(Math.sqrt(2048)));
  assert.equal(s.numKvHeads, 1);
  assert.equal(s.padTokenId, 0);
  assert.equal(s.bosTokenId, 2);
  assert.deepEqual(s.eosTokenIds, [1]);
  const { raw } = load(GEMMA_2B);
  assert.equal(specFromConfig({ ...raw, hidden_activation: "gelu_new" }).activation, "gelu_tanh");
  // Absent keys take GemmaConfig's defaults, not Llama's.
  const noHd: RawConfig = { ...raw, hidden_size: 3072, num_attention_heads: 16, num_key_value_heads: 16 };
  delete noHd.head_dim;
  assert.equal(specFromConfig(noHd).headDim, 256);
});

test("Qwen2-0.5B: q/k/v biases (no o, no MLP bias), sliding window off unless use_sliding_window", () => {
  const s = spec(QWEN2_05B);
  assert.equal(s.family, "qwen2");
  assert.equal(s.qkvBias, true);
  assert.equal(s.oBias, false);
  assert.equal(s.mlpBias, false);
  assert.equal(s.tieWordEmbeddings, true);
  assert.equal(s.rmsNormEps, 1e-6);
  assert.equal(s.ropeTheta, 1e6);
  assert.equal(s.slidingWindow, null); // sliding_window 32768 but use_sliding_window false
  const { raw } = load(QWEN2_05B);
  // Qwen2Config has no attention_bias: the biases are fixed whatever the config says.
  assert.equal(specFromConfig({ ...raw, attention_bias: false }).qkvBias, true);
  // use_sliding_window: only layers ≥ max_window_layers slide (24 of 24 layers: none here).
  assert.equal(specFromConfig({ ...raw, use_sliding_window: true }).slidingWindow, null);
  assert.equal(specFromConfig({ ...raw, use_sliding_window: true, max_window_layers: 0 }).slidingWindow, 32768);
  assert.throws(() => specFromConfig({ ...raw, use_sliding_window: true, max_window_layers: 12 }), /field "max_window_layers" gives a sliding window to some layers only/);
});

test("Dolphin (Mistral): explicit head_dim, eos list, sliding_window null, no biases", () => {
  const s = spec(DOLPHIN);
  assert.equal(s.family, "mistral");
  assert.equal(s.headDim, 128); // explicit: 5120 / 32 would be 160
  assert.deepEqual(s.eosTokenIds, [2, 131072]);
  assert.equal(s.bosTokenId, 1);
  assert.equal(s.slidingWindow, null); // explicit null
  assert.equal(s.qkvBias || s.oBias || s.mlpBias, false);
  assert.equal(s.nameOrPath, "cognitivecomputations/Dolphin3.0-R1-Mistral-24B");
  assert.equal(s.ropeTheta, 1e8);
  const { raw } = load(DOLPHIN);
  // MistralConfig: an absent sliding_window key means 4096 (null disables it).
  const noSw = { ...raw };
  delete noSw.sliding_window;
  assert.equal(specFromConfig(noSw).slidingWindow, 4096);
  assert.equal(specFromConfig({ ...raw, sliding_window: 1024 }).slidingWindow, 1024);
});

test("parameter counts match the published model sizes", () => {
  // Verified independently of weightShapes: per layer = q (H·D·C) + o (C·H·D) + k, v (KVH·D·C
  // each) + gate/up/down (3·F·C) + two norms (2·C) [+ Qwen2 q/k/v biases H·D + 2·KVH·D]; total =
  // embed V·C (×2 untied) + L·layer + final norm C. E.g. Llama-3.2-1B: 60,821,504 per layer ×
  // 16 + 262,668,288 + 2,048. Computed by hand (Python) from each config's shapes, and equal to the
  // totals the model cards / safetensors metadata publish (1.24B, 8.03B, 1.1B, 2.51B, 0.49B).
  const published: [string, number][] = [
    [LLAMA_32_1B, 1_235_814_400],
    [LLAMA_31_8B, 8_030_261_248],
    [TINYLLAMA, 1_100_048_384],
    [GEMMA_2B, 2_506_172_416],
    [QWEN2_05B, 494_032_768],
  ];
  for (const [f, n] of published) assert.equal(parameterCount(spec(f)), n, f);
});

test("model skeleton: tensor count and layer-0 shapes", () => {
  const l = weightShapes(spec(LLAMA_32_1B));
  assert.equal(l.size, 1 + 16 * 9 + 1); // embed, 9 per layer, final norm; tied: no lm_head
  assert.ok(!l.has("lm_head.weight"));
  const layer0 = (m: Map<string, number[]>) => Object.fromEntries([...m].filter(([k]) => k.startsWith("model.layers.0.")).map(([k, v]) => [k.slice("model.layers.0.".length), v]));
  assert.deepEqual(layer0(l), {
    "input_layernorm.weight": [2048],
    "post_attention_layernorm.weight": [2048],
    "self_attn.q_proj.weight": [2048, 2048],
    "self_attn.k_proj.weight": [512, 2048],
    "self_attn.v_proj.weight": [512, 2048],
    "self_attn.o_proj.weight": [2048, 2048],
    "mlp.gate_proj.weight": [8192, 2048],
    "mlp.up_proj.weight": [8192, 2048],
    "mlp.down_proj.weight": [2048, 8192],
  });
  assert.deepEqual(l.get("model.embed_tokens.weight"), [128256, 2048]);
  const q = weightShapes(spec(QWEN2_05B));
  assert.equal(q.size, 1 + 24 * 12 + 1); // + q/k/v biases, tied
  assert.deepEqual(q.get("model.layers.0.self_attn.q_proj.bias"), [896]);
  assert.deepEqual(q.get("model.layers.0.self_attn.k_proj.bias"), [128]);
  assert.equal(q.has("model.layers.0.self_attn.o_proj.bias"), false);
  const g = weightShapes(spec(GEMMA_2B));
  assert.deepEqual(g.get("model.layers.0.self_attn.q_proj.weight"), [2048, 2048]); // 8 heads × 256
  assert.deepEqual(g.get("model.layers.0.self_attn.k_proj.weight"), [256, 2048]); // MQA
  const t = weightShapes(spec(LLAMA_31_8B));
  assert.equal(t.size, 1 + 32 * 9 + 2); // untied: lm_head too
  assert.deepEqual(t.get("lm_head.weight"), [128256, 4096]);
});

test("defaults for a minimal Llama config; rope_scaling linear and the older `type` key", () => {
  const min: RawConfig = {
    model_type: "llama",
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    vocab_size: 100,
  };
  const s = specFromConfig(min);
  assert.equal(s.numKvHeads, 4);
  assert.equal(s.headDim, 16);
  assert.equal(s.ropeTheta, 10000);
  assert.equal(s.rmsNormEps, 1e-6);
  assert.equal(s.maxPositions, 2048);
  assert.equal(s.tieWordEmbeddings, false);
  assert.equal(s.activation, "silu");
  assert.equal(s.bosTokenId, null);
  assert.deepEqual(s.eosTokenIds, []);
  assert.equal(s.dtype, null);
  assert.deepEqual(specFromConfig({ ...min, rope_scaling: { type: "linear", factor: 2 } }).ropeScaling, { type: "linear", factor: 2 });
  assert.deepEqual(specFromConfig({ ...min, rope_scaling: { rope_type: "default" } }).ropeScaling, { type: "none" });
  assert.equal(specFromConfig({ ...min, attention_bias: true }).oBias, true);
  assert.equal(specFromConfig({ ...min, mlp_bias: true }).mlpBias, true);
  // transformers 5 keeps rope_theta and the scaling in rope_parameters.
  const v5 = specFromConfig({ ...min, rope_parameters: { rope_type: "linear", rope_theta: 500000, factor: 4 } });
  assert.equal(v5.ropeTheta, 500000);
  assert.deepEqual(v5.ropeScaling, { type: "linear", factor: 4 });
  // Token ids may be lists.
  const ids = specFromConfig({ ...min, bos_token_id: [5], eos_token_id: [6, 7], pad_token_id: 0 });
  assert.equal(ids.bosTokenId, 5);
  assert.deepEqual(ids.eosTokenIds, [6, 7]);
  assert.equal(ids.padTokenId, 0);
});

test("bad configs name the file and the field", () => {
  const { raw: base, file } = load(LLAMA_31_8B);
  const bad = (patch: RawConfig, re: RegExp, from: RawConfig = base) => {
    const cfg: RawConfig = { ...from, ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete cfg[k];
    assert.throws(
      () => specFromConfig(cfg, file),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith(`${file}: field "`) && re.test(e.message),
      JSON.stringify(patch),
    );
  };
  bad({ hidden_size: undefined }, /field "hidden_size" is missing/);
  bad({ intermediate_size: "14336" }, /field "intermediate_size" must be a positive integer, got "14336"/);
  bad({ num_hidden_layers: 0 }, /field "num_hidden_layers" must be a positive integer/);
  bad({ rms_norm_eps: -1 }, /field "rms_norm_eps" must be a positive number/);
  bad({ num_key_value_heads: 5 }, /field "num_key_value_heads" \(5\) must divide num_attention_heads \(32\)/);
  bad({ head_dim: 63 }, /field "head_dim" must be even/);
  bad({ hidden_size: 4100 }, /field "hidden_size" \(4100\) is not divisible by num_attention_heads/);
  bad({ eos_token_id: "x" }, /field "eos_token_id" must be a token id/);
  bad({ tie_word_embeddings: "yes" }, /field "tie_word_embeddings" must be true or false/);
  bad({ hidden_act: "gelu" }, /field "hidden_act" is "gelu"; this family supports "silu"/);
  bad({ model_type: undefined }, /field "model_type" is missing \(supported: llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, llama_bidirec\)/);
  bad({ model_type: "gpt2" }, /field "model_type" is "gpt2", which llm2vec does not support \(supported: llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, llama_bidirec\)/);
  bad({ model_type: "constructor" }, /field "model_type" is "constructor", which llm2vec does not support/);
  bad({ model_type: "gemma3_text" }, /field "model_type" is "gemma3_text", which llm2vec does not support: Gemma 3 is a different architecture/);
  bad({ rope_scaling: { rope_type: "yarn", factor: 4 } }, /field "rope_scaling\.rope_type" is "yarn", which llm2vec does not support \(supported: "default", "linear", "llama3"\)/);
  bad({ rope_scaling: { type: "dynamic", factor: 2 } }, /field "rope_scaling\.type" is "dynamic" \(dynamic NTK scaling\), which llm2vec's RoPE tables do not implement/);
  bad({ rope_scaling: { rope_type: "dynamic", factor: 2 } }, /field "rope_scaling\.rope_type" is "dynamic"/);
  bad({ rope_scaling: { factor: 2 } }, /field "rope_scaling\.rope_type" is missing/);
  bad({ rope_scaling: { rope_type: "llama3", factor: 8 } }, /field "rope_scaling\.low_freq_factor" is missing/);
  bad({ rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 4, high_freq_factor: 4, original_max_position_embeddings: 8192 } }, /field "rope_scaling\.high_freq_factor" \(4\) must be greater/);
  bad({ rope_scaling: { rope_type: "linear" } }, /field "rope_scaling\.factor" is missing/);
  bad({ rope_scaling: "llama3" }, /field "rope_scaling" must be an object/);
  bad({ partial_rotary_factor: 0.5 }, /field "partial_rotary_factor" is 0\.5/);
  bad({ hidden_activation: "gelu" }, /field "hidden_activation" is "gelu" \(transformers' exact erf GELU/, load(GEMMA_2B).raw);
});

test("readSpec reads a folder's config.json through the formats layer", () => {
  const s = readSpec(path.join(FIXTURES, "formats", "dolphin"));
  assert.equal(s.family, "mistral");
  assert.equal(s.numLayers, 40);
  assert.throws(() => readSpec(path.join(FIXTURES, "formats", "no-such-folder")), /model folder does not exist/);
});
