/**
 * Gemma 2 (families/gemma2.ts) against the independent PyTorch reference (scripts/reference/
 * hf_model.py, written from modeling_gemma2.py): hidden states and mean-pooled embeddings at 1e-5
 * relative in f32, causal and bidirectional, with both soft-caps biting; the config's fields,
 * defaults and refusals; the alternating window; the four norms in HF's order; what LoRA targets.
 * Logits, bf16, MNTP gradients and KV-cache decoding run in the shared suites (models/parity,
 * models/parity-bf16, train/mntp-gradients, models/kv-cache).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { eosSuffix } from "../../src/encoder/templates.js";
import { randomDecoder } from "../../src/models/build.js";
import { injectLora } from "../../src/models/lora.js";
import { specFromConfig } from "../../src/models/registry.js";
import { weightShapes } from "../../src/models/spec.js";
import { noGrad } from "../../src/tensor/autograd.js";
import { pooledParityErrors } from "../helpers/pooled-parity.js";

const TOL = 1e-5;

const tiny = (extra: Record<string, unknown> = {}) => ({
  model_type: "gemma2", hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, head_dim: 16, vocab_size: 40, ...extra,
});

describe("gemma2 parity with the PyTorch reference", () => {
  it("hidden states and mean-pooled embeddings, causal and bidirectional (1e-5)", () => {
    for (const [mode, e] of Object.entries(pooledParityErrors("gemma2"))) {
      assert.ok(e.hidden < TOL, `gemma2 ${mode} hidden: ${e.hidden.toExponential(2)}`);
      assert.ok(e.mean < TOL, `gemma2 ${mode} mean pooling: ${e.mean.toExponential(2)}`);
    }
  });
});

describe("gemma2 config", () => {
  it("defaults as Gemma2Config: head_dim 256, 4 kv heads, scale 256^-0.5, caps 50 / 30, window 4096, tied", () => {
    const s = specFromConfig({ model_type: "gemma2", hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 8, vocab_size: 10 });
    assert.deepEqual([s.headDim, s.numKvHeads, s.attentionScale, s.attnLogitSoftcap, s.finalLogitSoftcap, s.tieWordEmbeddings, s.normAddOne], [256, 4, 1 / 16, 50, 30, true, true]);
    assert.deepEqual([s.slidingWindow, s.layerWindows], [null, [4096, null]]);
  });

  it("query_pre_attn_scalar sets the scale; an explicit null turns a soft-cap off", () => {
    const s = specFromConfig(tiny({ query_pre_attn_scalar: 144, attn_logit_softcapping: null, final_logit_softcapping: null }));
    assert.equal(s.attentionScale, 144 ** -0.5);
    assert.deepEqual([s.attnLogitSoftcap, s.finalLogitSoftcap], [undefined, undefined]);
  });

  it("refuses a soft-cap of 0, a negative one or a non-number, naming the field", () => {
    for (const field of ["attn_logit_softcapping", "final_logit_softcapping"])
      for (const v of [0, -30, "50"])
        assert.throws(() => specFromConfig(tiny({ [field]: v }), "g2/config.json"), (e: Error) =>
          e.message.startsWith(`g2/config.json: field "${field}" must be a positive number`) && e.message.includes(JSON.stringify(v)));
    assert.throws(() => specFromConfig(tiny({ query_pre_attn_scalar: 0 })), /field "query_pre_attn_scalar" must be a positive number/);
  });

  it("even layers are local (HF: `not bool(layer_idx % 2)`), or as layer_types says, which must agree with num_hidden_layers", () => {
    const windows = (extra: Record<string, unknown>) => specFromConfig(tiny(extra)).layerWindows;
    assert.deepEqual(windows({ num_hidden_layers: 3, sliding_window: 8 }), [8, null, 8]);
    assert.deepEqual(windows({ layer_types: ["full_attention", "sliding_attention"], sliding_window: 8 }), [null, 8]);
    assert.equal(windows({ layer_types: ["full_attention", "full_attention"], sliding_window: 8 }), undefined);
    assert.equal(windows({ sliding_window: null }), undefined);
    assert.throws(() => specFromConfig(tiny({ layer_types: ["sliding_attention"] })), /field "layer_types" must list .* for each of the 2 layers \(num_hidden_layers\)/);
    assert.throws(() => specFromConfig(tiny({ layer_types: ["sliding_attention", "chunked_attention"] })), /field "layer_types" must list/);
    assert.throws(() => specFromConfig(tiny({ sliding_window: 0 })), /field "sliding_window" must be a positive integer/);
  });

  it("the window applies causally past its length and is dropped bidirectionally", () => {
    const ids = Int32Array.from([1, 2, 3, 4, 5, 6]);
    const run = (window: number | null, mode: "causal" | "bidirectional", T = 6) =>
      noGrad(() => randomDecoder(specFromConfig(tiny({ sliding_window: window })), 1).forward(ids.subarray(0, T), 1, T, { mode })).f32;
    assert.deepEqual(run(4, "bidirectional"), run(null, "bidirectional"));
    assert.deepEqual(run(4, "causal", 4), run(null, "causal", 4));
    const [a, b] = [run(4, "causal"), run(null, "causal")];
    const C = 32;
    assert.deepEqual(a.subarray(0, 4 * C), b.subarray(0, 4 * C));
    assert.notDeepEqual(a.subarray(4 * C), b.subarray(4 * C));
  });

  it("refuses use_bidirectional_attention and an unsupported activation, naming the field", () => {
    assert.throws(() => specFromConfig(tiny({ use_bidirectional_attention: true })), /field "use_bidirectional_attention" is true/);
    assert.throws(() => specFromConfig(tiny({ hidden_activation: "gelu" })), /field "hidden_activation" is "gelu"/);
  });

  it("eos_token pooling appends Gemma's <eos>", () => {
    assert.equal(eosSuffix("gemma2", null), "<eos>");
  });
});

describe("gemma2 weights", () => {
  it("declares the four norms per layer under HF's names; LoRA wraps the seven projections only", () => {
    const s = specFromConfig(tiny());
    const layer0 = [...weightShapes(s).keys()].filter((n) => n.startsWith("model.layers.0.") && n.endsWith("norm.weight"));
    assert.deepEqual(layer0.sort(), ["input_layernorm", "post_attention_layernorm", "post_feedforward_layernorm", "pre_feedforward_layernorm"].map((n) => `model.layers.0.${n}.weight`));
    const m = randomDecoder(s, 3);
    const params = injectLora(m, { r: 2, alpha: 4, dropout: 0, targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] });
    assert.equal(params.size, 2 * 7 * 2);
    assert.ok(![...params.keys()].some((k) => k.includes("norm")));
  });

  it("the final-logit soft-cap bounds the LM head's logits by the cap", () => {
    const m = randomDecoder(specFromConfig(tiny({ final_logit_softcapping: 0.05 })), 4);
    const logits = noGrad(() => m.logits(m.forward(Int32Array.from([5, 6, 7]), 1, 3, { mode: "causal" }))).f32;
    assert.ok(logits.every((x) => Math.abs(x) < 0.05));
    assert.ok(logits.some((x) => Math.abs(x) > 0.01));
  });
});
