/**
 * Published configs (test/fixtures/configs, see its README): each builds the spec transformers
 * would build, or is refused with the reason, and the parameter count matches the published one.
 * Source of the counts: the sums of the tensor shapes each architecture defines (`count` below,
 * written independently of the family code), which agree with the model cards' rounded totals
 * quoted in each test (the safetensors indexes' total_size could not be fetched here).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { RawConfig } from "../../src/models/config-fields.js";
import { specFromConfig } from "../../src/models/registry.js";
import { parameterCount, weightShapes } from "../../src/models/spec.js";
import { FIXTURES } from "../helpers/stories.js";

function read(rel: string): { raw: RawConfig; file: string } {
  const file = path.join(FIXTURES, rel);
  return { raw: JSON.parse(fs.readFileSync(file, "utf8")) as RawConfig, file };
}

/** Σ per layer (attention + MLP + 2 norms, or Gemma 2's 4 [+ q/k norms]) + embeddings (+ untied head) + final norm. */
function count(o: { C: number; F: number; L: number; V: number; H: number; KVH: number; D: number; tied: boolean; qkNorm: boolean; norms?: number }): number {
  const attn = 2 * o.H * o.D * o.C + 2 * o.KVH * o.D * o.C + (o.qkNorm ? 2 * o.D : 0);
  return o.L * (attn + 3 * o.C * o.F + (o.norms ?? 2) * o.C) + o.V * o.C * (o.tied ? 1 : 2) + o.C;
}

describe("golden configs", () => {
  it("Qwen3-0.6B: qwen3, head_dim 128 ≠ 1024/16, GQA 16/8, tied; 596,049,920 parameters (card: 0.6B, 0.44B non-embedding)", () => {
    const s = specFromConfig(read("configs/Qwen3-0.6B/config.json").raw);
    assert.deepEqual([s.family, s.headDim, s.numHeads, s.numKvHeads, s.tieWordEmbeddings, s.qkvBias, s.slidingWindow, s.ropeTheta], ["qwen3", 128, 16, 8, true, false, null, 1e6]);
    assert.equal(parameterCount(s), count({ C: 1024, F: 3072, L: 28, V: 151936, H: 16, KVH: 8, D: 128, tied: true, qkNorm: true }));
    assert.equal(parameterCount(s), 596_049_920);
    assert.equal(parameterCount(s) - 151936 * 1024, 440_467_456);
  });

  it("Qwen3-8B: untied, 36 layers; 8,190,735,360 parameters (card: 8.2B, 6.95B non-embedding)", () => {
    const s = specFromConfig(read("configs/Qwen3-8B/config.json").raw);
    assert.deepEqual([s.family, s.headDim, s.numHeads, s.numKvHeads, s.tieWordEmbeddings, s.numLayers], ["qwen3", 128, 32, 8, false, 36]);
    assert.equal(parameterCount(s), count({ C: 4096, F: 12288, L: 36, V: 151936, H: 32, KVH: 8, D: 128, tied: false, qkNorm: true }));
    assert.equal(parameterCount(s), 8_190_735_360);
    assert.equal(parameterCount(s) - 2 * 151936 * 4096, 6_946_075_648);
  });

  it("Phi-3-mini-4k-instruct: phi3, fused projections, plain RoPE, window 2047; 3,821,079,552 parameters (card: 3.8B)", () => {
    const s = specFromConfig(read("configs/Phi-3-mini-4k-instruct/config.json").raw);
    assert.deepEqual([s.family, s.headDim, s.numHeads, s.numKvHeads, s.tieWordEmbeddings, s.slidingWindow, s.rmsNormEps, s.ropeScaling], ["phi3", 96, 32, 32, false, 2047, 1e-5, { type: "none" }]);
    assert.deepEqual(weightShapes(s).get("model.layers.31.self_attn.qkv_proj.weight"), [9216, 3072]);
    assert.deepEqual(weightShapes(s).get("model.layers.31.mlp.gate_up_proj.weight"), [16384, 3072]);
    assert.equal(parameterCount(s), count({ C: 3072, F: 8192, L: 32, V: 32064, H: 32, KVH: 32, D: 96, tied: false, qkNorm: false }));
    assert.equal(parameterCount(s), 3_821_079_552);
  });

  it("Llama-3.2-1B: llama3 rope scaling, tied; 1,235,814,400 parameters (card: 1.23B)", () => {
    const s = specFromConfig(read("formats/configs/meta-llama__Llama-3.2-1B.config.json").raw);
    assert.deepEqual([s.family, s.headDim, s.numKvHeads, s.tieWordEmbeddings, s.ropeScaling.type, s.trainedAttention], ["llama", 64, 8, true, "llama3", "causal"]);
    assert.equal(parameterCount(s), count({ C: 2048, F: 8192, L: 16, V: 128256, H: 32, KVH: 8, D: 64, tied: true, qkNorm: false }));
    assert.equal(parameterCount(s), 1_235_814_400);
  });

  // Published totals: 2,614,341,888 (gemma-2-2b) and 9,241,705,984 (gemma-2-9b); the arithmetic
  // from the config agrees: e.g. 2b = 26·(2·8·256·2304 + 2·4·256·2304 + 3·2304·9216 + 4·2304)
  // + 256000·2304 + 2304.
  for (const [name, C, F, L, H, KVH, total] of [
    ["gemma-2-2b", 2304, 9216, 26, 8, 4, 2_614_341_888],
    ["gemma-2-9b", 3584, 14336, 42, 16, 8, 9_241_705_984],
  ] as const)
    it(`${name}: gemma2, four norms per layer, soft-caps 50 / 30, scale 256^-0.5, window 4096; ${total.toLocaleString("en-US")} parameters`, () => {
      const s = specFromConfig(read(`configs/${name}/config.json`).raw);
      assert.deepEqual([s.family, s.headDim, s.numHeads, s.numKvHeads, s.tieWordEmbeddings, s.normAddOne, s.activation], ["gemma2", 256, H, KVH, true, true, "gelu_tanh"]);
      assert.deepEqual([s.attentionScale, s.attnLogitSoftcap, s.finalLogitSoftcap, s.slidingWindow, s.embedScale], [1 / 16, 50, 30, null, Math.fround(Math.sqrt(C))]);
      assert.deepEqual(s.layerWindows, Array.from({ length: L }, (_, i) => (i % 2 === 0 ? 4096 : null)));
      assert.deepEqual(weightShapes(s).get(`model.layers.${L - 1}.post_feedforward_layernorm.weight`), [C]);
      assert.equal(parameterCount(s), count({ C, F, L, V: 256000, H, KVH, D: 256, tied: true, qkNorm: false, norms: 4 }));
      assert.equal(parameterCount(s), total);
    });

  it("refuses a layer_types list that disagrees with num_hidden_layers, with or without a sliding window", () => {
    const { raw, file } = read("configs/Qwen3-0.6B/config.json");
    const types = Array.from({ length: 27 }, () => "full_attention");
    for (const extra of [{}, { use_sliding_window: true, sliding_window: 4096 }])
      assert.throws(() => specFromConfig({ ...raw, ...extra, layer_types: types }, file), /field "layer_types" must list one entry for each of the 28 layers \(num_hidden_layers\), got 27 entries/);
    assert.doesNotThrow(() => specFromConfig({ ...raw, layer_types: [...types, "full_attention"] }, file));
  });
});
