import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { hfConfigPath, openHfFolder, openWeights, readHfConfig, ShardedWeights } from "../../src/formats/hf-folder.js";
import { writeSafetensors } from "../../src/formats/safetensors-write.js";
import { FIXTURES, tmpDir } from "./helpers.js";

const CONFIGS = path.join(FIXTURES, "formats", "configs");
const dir = tmpDir("hf-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("readHfConfig: the parsed JSON object, uninterpreted; file errors name the file", () => {
  const d = path.join(dir, "cfg");
  fs.mkdirSync(d);
  const file = path.join(d, "config.json");
  assert.throws(() => readHfConfig(d), (e: unknown) => e instanceof Error && e.message.startsWith(`${file}: cannot read model config: no such file`));
  // Any object comes back as is: what the fields mean is for models/ (specFromConfig) to say.
  fs.writeFileSync(file, JSON.stringify({ model_type: "gpt2", rope_scaling: { rope_type: "yarn" }, eos_token_id: [1, 2] }));
  assert.deepEqual(readHfConfig(d), { model_type: "gpt2", rope_scaling: { rope_type: "yarn" }, eos_token_id: [1, 2] });
  fs.writeFileSync(file, "{not json");
  assert.throws(() => readHfConfig(d), (e: unknown) => e instanceof Error && e.message.startsWith(`${file}: invalid JSON:`));
  assert.throws(() => openHfFolder(d), /config\.json: invalid JSON/);
  for (const text of ["[1, 2]", "null", "42"]) {
    fs.writeFileSync(file, text);
    assert.throws(() => readHfConfig(d), (e: unknown) => e instanceof Error && e.message === `${file}: not a JSON object`, text);
  }
  assert.equal(hfConfigPath(d), file);
  assert.throws(() => readHfConfig(path.join(dir, "nope")), /model folder does not exist/);
});

test("Dolphin config fixtures: the folder's config.json is the upstream file", () => {
  const f = readHfConfig(path.join(FIXTURES, "formats", "dolphin"));
  assert.deepEqual(f, JSON.parse(fs.readFileSync(path.join(CONFIGS, "cognitivecomputations__Dolphin3.0-R1-Mistral-24B.config.json"), "utf8")));
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
  assert.deepEqual(f.config, smallConfig());
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
  assert.equal(f.config.model_type, "mistral");
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
  assert.throws(() => openHfFolder(d), /no model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin or pytorch_model\.bin\.index\.json/);
  assert.throws(() => openHfFolder(path.join(dir, "nope")), /model folder does not exist/);
});
