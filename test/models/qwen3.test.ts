/**
 * Qwen3 (families/qwen3.ts) against the independent PyTorch reference (scripts/reference/
 * hf_model.py, written from modeling_qwen3.py): hidden states and mean-pooled embeddings at 1e-5
 * relative in f32, causal and bidirectional, for a tied bias-free checkpoint (Qwen3-0.6B's
 * layout) and an untied one with attention_bias; the config's sliding-window fields; a head_dim
 * that disagrees with the tensors; what LoRA targets and what a save writes. MNTP gradients and
 * KV-cache decoding run in the shared suites (train/mntp-gradients, models/kv-cache).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { eosSuffix } from "../../src/encoder/templates.js";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { loadDecoder, randomDecoder, type WeightReader } from "../../src/models/build.js";
import { loadModelFolder } from "../../src/models/load.js";
import { injectLora } from "../../src/models/lora.js";
import { specFromConfig } from "../../src/models/registry.js";
import { parameterCount, weightShapes } from "../../src/models/spec.js";
import { noGrad } from "../../src/tensor/autograd.js";
import { pooledParityErrors } from "../helpers/pooled-parity.js";
import { FIXTURES } from "../helpers/stories.js";

const TOL = 1e-5;

/** Qwen3-0.6B's config.json fields that shape the model. */
const QWEN3_06B = {
  model_type: "qwen3", architectures: ["Qwen3ForCausalLM"], hidden_size: 1024, intermediate_size: 3072,
  num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, vocab_size: 151936,
  max_position_embeddings: 40960, rms_norm_eps: 1e-6, rope_theta: 1000000, rope_scaling: null, hidden_act: "silu",
  attention_bias: false, attention_dropout: 0.0, tie_word_embeddings: true, use_sliding_window: false,
  sliding_window: null, max_window_layers: 28, bos_token_id: 151643, eos_token_id: 151645, torch_dtype: "bfloat16",
};

const tiny = (extra: Record<string, unknown> = {}) => ({
  model_type: "qwen3", hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, head_dim: 16, vocab_size: 40, ...extra,
});

describe("qwen3 parity with the PyTorch reference", () => {
  for (const name of ["qwen3", "qwen3-bias"]) {
    it(`${name}: hidden states and mean-pooled embeddings, causal and bidirectional (1e-5)`, () => {
      for (const [mode, e] of Object.entries(pooledParityErrors(name))) {
        assert.ok(e.hidden < TOL, `${name} ${mode} hidden: ${e.hidden.toExponential(2)}`);
        assert.ok(e.mean < TOL, `${name} ${mode} mean pooling: ${e.mean.toExponential(2)}`);
      }
    });
  }
});

describe("qwen3 config", () => {
  it("reads Qwen3-0.6B: explicit head_dim, GQA, tied, no biases, q/k norms declared per layer", () => {
    const s = specFromConfig(QWEN3_06B);
    assert.equal(s.family, "qwen3");
    assert.deepEqual([s.headDim, s.numHeads, s.numKvHeads, s.tieWordEmbeddings, s.qkvBias, s.oBias, s.slidingWindow], [128, 16, 8, true, false, false, null]);
    const shapes = weightShapes(s);
    assert.deepEqual(shapes.get("model.layers.27.self_attn.q_norm.weight"), [128]);
    assert.deepEqual(shapes.get("model.layers.0.self_attn.q_proj.weight"), [2048, 1024]);
    assert.equal(shapes.has("lm_head.weight"), false);
    assert.equal(shapes.has("model.layers.0.self_attn.q_proj.bias"), false);
    // Counted independently: per layer q + o (2·H·D·C), k + v (2·KVH·D·C), MLP (3·C·F), two
    // norms (2·C), q/k norms (2·D); embeddings V·C (tied), final norm C.
    const [C, F, L, V, HD, KVD] = [1024, 3072, 28, 151936, 16 * 128, 8 * 128];
    assert.equal(parameterCount(s), L * (2 * HD * C + 2 * KVD * C + 3 * C * F + 2 * C + 2 * 128) + V * C + C);
    assert.equal(parameterCount(s), 596049920);
  });

  it("defaults as Qwen3Config: head_dim 128, untied; attention_bias puts biases on q/k/v and o", () => {
    const s = specFromConfig({ model_type: "qwen3", hidden_size: 64, intermediate_size: 96, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, vocab_size: 10, attention_bias: true });
    assert.deepEqual([s.headDim, s.tieWordEmbeddings, s.qkvBias, s.oBias, s.mlpBias], [128, false, true, true, false]);
    assert.deepEqual(weightShapes(s).get("model.layers.0.self_attn.o_proj.bias"), [64]);
  });

  it("sliding window as Qwen3Config applies it: all layers from max_window_layers on, causal only", () => {
    assert.equal(specFromConfig(tiny({ use_sliding_window: false, sliding_window: 4 })).slidingWindow, null);
    const s = specFromConfig(tiny({ use_sliding_window: true, sliding_window: 4, max_window_layers: 0 }));
    assert.equal(s.slidingWindow, 4);
    assert.throws(() => specFromConfig(tiny({ use_sliding_window: true, sliding_window: 4, max_window_layers: 1 })), /field "max_window_layers" gives a sliding window to some layers only/);
    assert.throws(() => specFromConfig(tiny({ use_sliding_window: true, sliding_window: 4, layer_types: ["full_attention"] })), /field "layer_types" must list .* for each of the 2 layers/);
    const m = randomDecoder(s, 1);
    const ids = Int32Array.from([1, 2, 3, 4, 5, 6]);
    assert.doesNotThrow(() => noGrad(() => m.forward(ids, 1, 6, { mode: "bidirectional" })));
    assert.throws(() => noGrad(() => m.forward(ids, 1, 6, { mode: "causal" })), /sliding window \(4\)/);
  });

  it("eos_token pooling appends Qwen2's <|endoftext|>", () => {
    assert.equal(eosSuffix("qwen3", null), "<|endoftext|>");
  });
});

describe("qwen3 weights", () => {
  it("refuses a head_dim that disagrees with the tensors, naming the tensor and both shapes", () => {
    const dir = path.join(FIXTURES, "parity", "qwen3");
    const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    const st = SafetensorsFile.open(path.join(dir, "model.safetensors"));
    const reader: WeightReader = { has: (n) => st.has(n), read: (n) => st.read(n), names: () => st.names() };
    try {
      assert.throws(() => loadDecoder(specFromConfig({ ...config, head_dim: 16 }), reader, dir), (e: Error) =>
        e.message.includes(`tensor "model.layers.0.self_attn.q_proj.weight" has shape [128,64], the config implies [64,64]`));
    } finally {
      st.close();
    }
  });

  it("LoRA wraps the seven projections under PEFT's names, not the q/k norms; a save round-trips them", () => {
    const m = randomDecoder(specFromConfig(tiny()), 3);
    const names = [...m.namedWeights()].map(([n]) => n);
    assert.ok(names.includes("model.layers.1.self_attn.k_norm.weight"));
    const params = injectLora(m, { r: 2, alpha: 4, dropout: 0, targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] });
    assert.equal(params.size, 2 * 7 * 2);
    assert.ok(params.has("model.layers.0.self_attn.q_proj.lora_A.weight"));
    assert.ok(![...params.keys()].some((k) => k.includes("norm")));
    const stored = new Map([...m.namedWeights()].map(([n, t]) => [n, t]));
    const reader: WeightReader = { has: (n) => stored.has(n), read: (n) => stored.get(n)!, names: () => [...stored.keys()] };
    const again = loadDecoder(m.spec, reader, "saved");
    assert.deepEqual([...again.namedWeights()].map(([n]) => n), names);
    const ids = Int32Array.from([3, 1, 4, 1, 5]);
    assert.deepEqual(noGrad(() => again.forward(ids, 1, 5, { mode: "bidirectional" })).f32, noGrad(() => randomDecoder(m.spec, 3).forward(ids, 1, 5, { mode: "bidirectional" })).f32);
  });
});
