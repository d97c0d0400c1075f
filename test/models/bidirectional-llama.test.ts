/**
 * Bidirectionally trained Llama checkpoints: `is_causal: false` (transformers ≥ 5.2) and
 * `model_type: llama_bidirec` (NVIDIA-style) build a Llama spec whose trained attention is
 * bidirectional; generation refuses such a model unless forced, and forced it runs the same
 * causal decode as the plain Llama it is built like.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomDecoder } from "../../src/models/build.js";
import { ConfigError } from "../../src/models/config-fields.js";
import { generate } from "../../src/models/generate.js";
import { specFromConfig } from "../../src/models/registry.js";

const TINY = {
  hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1,
  vocab_size: 40, max_position_embeddings: 64, rms_norm_eps: 1e-5,
};

describe("bidirectional Llama checkpoints", () => {
  it("reads is_causal and llama_bidirec as the trained attention", () => {
    assert.equal(specFromConfig({ model_type: "llama", ...TINY }).trainedAttention, "causal");
    assert.equal(specFromConfig({ model_type: "llama", is_causal: true, ...TINY }).trainedAttention, "causal");
    assert.equal(specFromConfig({ model_type: "llama", is_causal: false, ...TINY }).trainedAttention, "bidirectional");
    const nv = specFromConfig({ model_type: "llama_bidirec", ...TINY });
    assert.equal(nv.trainedAttention, "bidirectional");
    assert.equal(nv.family, "llama", "built with Llama's tensors and layers");
  });

  it("refuses llama_bidirec with is_causal true, naming the field", () => {
    assert.throws(() => specFromConfig({ model_type: "llama_bidirec", is_causal: true, ...TINY }, "x/config.json"), (e: Error) => e instanceof ConfigError && /x\/config\.json/.test(e.message) && /is_causal/.test(e.message));
  });

  it("generation refuses a bidirectionally trained model unless forced, then decodes as the causal Llama", () => {
    const bi = randomDecoder(specFromConfig({ model_type: "llama_bidirec", ...TINY }), 3);
    const causal = randomDecoder(specFromConfig({ model_type: "llama", ...TINY }), 3);
    assert.throws(() => generate(bi, [1, 5, 7], { maxTokens: 4, greedy: true }), /trained with bidirectional attention.*forceCausal/);
    const forced = generate(bi, [1, 5, 7], { maxTokens: 4, greedy: true, forceCausal: true });
    assert.deepEqual(forced, generate(causal, [1, 5, 7], { maxTokens: 4, greedy: true }));
    assert.equal(forced.length, 4);
  });
});
