import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseModelConfig, readModelConfig } from "../../src/formats/hf-config.js";
import { openHfFolder, openWeights, ShardedWeights } from "../../src/formats/hf-folder.js";
import { writeSafetensors } from "../../src/formats/safetensors.js";
import { FIXTURES, tmpDir } from "./helpers.js";

const CONFIGS = path.join(FIXTURES, "formats", "configs");
const dir = tmpDir("hf-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("every fixture config parses", () => {
  const files = fs.readdirSync(CONFIGS).filter((f) => f.endsWith(".json"));
  assert.ok(files.length >= 9);
  for (const f of files) {
    const c = readModelConfig(path.join(CONFIGS, f));
    assert.ok(c.hiddenSize > 0 && c.numHiddenLayers > 0, f);
    assert.equal(c.numAttentionHeads % c.numKeyValueHeads, 0, f);
    assert.ok(c.headDim > 0 && c.headDim % 2 === 0, f);
  }
});

test("config values: Llama 3.2 rope scaling and tying", () => {
  const c = readModelConfig(path.join(CONFIGS, "meta-llama__Llama-3.2-1B.config.json"));
  assert.equal(c.modelType, "llama");
  assert.equal(c.tieWordEmbeddings, true);
  assert.deepEqual(c.ropeScaling, {
    ropeType: "llama3",
    factor: 32,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositionEmbeddings: 8192,
  });
  assert.equal(c.ropeTheta, 500000);
  assert.equal(c.headDim, 64);
  assert.equal(c.bosTokenId, 128000);
  assert.equal(c.eosTokenId, 128001);
});

test("config values: Dolphin (Mistral) eos list and head_dim, TinyLlama `dtype`, Gemma, Qwen2", () => {
  const d = readModelConfig(path.join(CONFIGS, "cognitivecomputations__Dolphin3.0-R1-Mistral-24B.config.json"));
  assert.equal(d.modelType, "mistral");
  assert.deepEqual(d.eosTokenId, [2, 131072]);
  assert.equal(d.headDim, 128); // explicit: 5120 / 32 would be 160
  assert.equal(d.slidingWindow, null);
  assert.equal(d.torchDtype, "bfloat16");
  assert.equal(d.nameOrPath, "cognitivecomputations/Dolphin3.0-R1-Mistral-24B");
  const t = readModelConfig(path.join(CONFIGS, "TinyLlama__TinyLlama-1.1B-Chat-v1.0-resaved.config.json"));
  assert.equal(t.torchDtype, "float32");
  assert.equal(t.numKeyValueHeads, 4);
  assert.equal(t.ropeScaling, null);
  const g = readModelConfig(path.join(CONFIGS, "google__gemma-2b.config.reconstructed.json"));
  assert.equal(g.modelType, "gemma");
  assert.equal(g.headDim, 256);
  assert.equal(g.hiddenAct, "gelu_pytorch_tanh"); // hidden_act "gelu" is ignored by transformers' Gemma
  assert.equal(g.tieWordEmbeddings, true); // Gemma's default
  assert.equal(g.padTokenId, 0);
  const q = readModelConfig(path.join(CONFIGS, "Qwen__Qwen2-0.5B-Instruct.probable.config.reconstructed.json"));
  assert.equal(q.modelType, "qwen2");
  assert.equal(q.rmsNormEps, 1e-6);
  assert.equal(q.slidingWindow, null); // use_sliding_window: false
  assert.equal(q.attentionBias, true);
});

test("config defaults", () => {
  const c = parseModelConfig({
    model_type: "llama",
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    rms_norm_eps: 1e-5,
    vocab_size: 100,
    max_position_embeddings: 128,
  });
  assert.equal(c.numKeyValueHeads, 4);
  assert.equal(c.headDim, 16);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.tieWordEmbeddings, false);
  assert.equal(c.hiddenAct, "silu");
  assert.equal(c.bosTokenId, null);
  const lin = parseModelConfig({ ...c.raw, rope_scaling: { type: "linear", factor: 2 } });
  assert.deepEqual(lin.ropeScaling, { ropeType: "linear", factor: 2 });
});

test("bad configs name the file and field", () => {
  const base = JSON.parse(fs.readFileSync(path.join(CONFIGS, "meta-llama__Llama-3.1-8B.config.json"), "utf8"));
  const bad = (patch: Record<string, unknown>, re: RegExp) => {
    const p = path.join(dir, "config.json");
    fs.writeFileSync(p, JSON.stringify({ ...base, ...patch }));
    assert.throws(() => readModelConfig(p), (e: unknown) => e instanceof Error && e.message.includes(p) && re.test(e.message));
  };
  bad({ rope_scaling: { rope_type: "yarn", factor: 4 } }, /field "rope_scaling\.rope_type" has unsupported value "yarn"/);
  bad({ rope_scaling: { rope_type: "llama3", factor: 8 } }, /field "rope_scaling\.low_freq_factor"/);
  bad({ model_type: "gpt2" }, /field "model_type" has unsupported value "gpt2"/);
  bad({ hidden_size: undefined }, /field "hidden_size" is missing/);
  bad({ num_key_value_heads: 5 }, /field "num_key_value_heads"/);
  bad({ eos_token_id: "x" }, /field "eos_token_id"/);
  bad({ tie_word_embeddings: "yes" }, /field "tie_word_embeddings"/);
  fs.writeFileSync(path.join(dir, "config.json"), "{not json");
  assert.throws(() => readModelConfig(path.join(dir, "config.json")), /config\.json: invalid JSON/);
});

function smallConfig(): Record<string, unknown> {
  return {
    model_type: "llama",
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    rms_norm_eps: 1e-5,
    vocab_size: 4,
    max_position_embeddings: 16,
  };
}

test("single-file folder", () => {
  const d = path.join(dir, "single");
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(smallConfig()));
  writeSafetensors(path.join(d, "model.safetensors"), {
    "model.embed_tokens.weight": { dtype: "f32", shape: [4, 8], data: new Float32Array(32).fill(0.5) },
  });
  const f = openHfFolder(d);
  assert.equal(f.config.hiddenSize, 8);
  assert.deepEqual(f.weights.names(), ["model.embed_tokens.weight"]);
  assert.equal(f.weights.has("model.embed_tokens.weight"), true);
  assert.equal(f.weights.has("lm_head.weight"), false);
  assert.deepEqual(f.weights.info("model.embed_tokens.weight"), { dtype: "F32", shape: [4, 8] });
  assert.equal(f.weights.read("model.embed_tokens.weight").data[31], 0.5);
  assert.throws(() => f.weights.read("lm_head.weight"), /model\.safetensors: no tensor named "lm_head\.weight"/);
  f.weights.close();
});

test("sharded folder: tensors across shards, missing shard, tensor absent from its shard", () => {
  const d = path.join(dir, "sharded");
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(smallConfig()));
  writeSafetensors(path.join(d, "model-00001-of-00003.safetensors"), { a: { dtype: "f32", shape: [2], data: new Float32Array([1, 2]) } });
  writeSafetensors(path.join(d, "model-00002-of-00003.safetensors"), { b: { dtype: "bf16", shape: [1], data: new Uint16Array([0x3f80]) } });
  fs.writeFileSync(
    path.join(d, "model.safetensors.index.json"),
    JSON.stringify({
      metadata: { total_size: 10 },
      weight_map: {
        a: "model-00001-of-00003.safetensors",
        b: "model-00002-of-00003.safetensors",
        c: "model-00003-of-00003.safetensors",
        ghost: "model-00001-of-00003.safetensors",
      },
    }),
  );
  const w = openWeights(d);
  assert.ok(w instanceof ShardedWeights);
  assert.deepEqual(w.names(), ["a", "b", "c", "ghost"]);
  assert.deepEqual(Array.from(w.read("a").data), [1, 2]);
  assert.deepEqual(w.read("b"), { dtype: "bf16", shape: [1], data: new Uint16Array([0x3f80]) });
  assert.throws(() => w.read("c"), /weights file missing: .*model-00003-of-00003\.safetensors/);
  assert.throws(() => w.info("ghost"), /model-00001-of-00003\.safetensors: tensor "ghost" is listed in model\.safetensors\.index\.json but not in the shard/);
  assert.throws(() => w.read("zzz"), /no tensor named "zzz"/);
  w.close();
});

test("index with an escaping shard path is rejected", () => {
  const d = path.join(dir, "escape");
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, "model.safetensors.index.json"), JSON.stringify({ weight_map: { a: "../x.safetensors" } }));
  assert.throws(() => openWeights(d), /weight_map entry for "a"/);
  fs.writeFileSync(path.join(d, "model.safetensors.index.json"), JSON.stringify({ metadata: {} }));
  assert.throws(() => openWeights(d), /field "weight_map"/);
});

test("Dolphin: real index plus a Git LFS pointer shard → weights not downloaded", () => {
  const d = path.join(FIXTURES, "formats", "dolphin");
  const f = openHfFolder(d);
  assert.equal(f.config.modelType, "mistral");
  assert.equal(f.weights.names().length, 363);
  assert.throws(
    () => f.weights.read("model.embed_tokens.weight"),
    (e: unknown) =>
      e instanceof Error &&
      e.message === `weights not downloaded (Git LFS pointer): ${path.join(d, "model-00001-of-00010.safetensors")}`,
  );
  assert.throws(() => f.weights.read("lm_head.weight"), /weights file missing: .*model-00010-of-00010\.safetensors/);
  f.weights.close();
});

test("folders without weights or config", () => {
  const d = path.join(dir, "empty");
  fs.mkdirSync(d);
  assert.throws(() => openHfFolder(d), /config\.json: cannot read model config/);
  fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(smallConfig()));
  assert.throws(() => openHfFolder(d), /no model\.safetensors or model\.safetensors\.index\.json/);
  assert.throws(() => openHfFolder(path.join(dir, "nope")), /model folder does not exist/);
});
