/**
 * Phi-3 (families/phi3.ts) against the independent PyTorch reference (scripts/reference/
 * hf_model.py, written from modeling_phi3.py): hidden states and mean-pooled embeddings at 1e-5
 * relative in f32, causal and bidirectional, with LongRoPE's short factors (`phi3`) and long
 * factors (`phi3-long`, older type name "su"); the fused projections loaded as stored and
 * LoRA-targeted under PEFT's names; the rope fields it refuses; an adapter of another
 * architecture. MNTP gradients and KV-cache decoding run in the shared suites.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { eosSuffix } from "../../src/encoder/templates.js";
import { readLoraAdapter, writeLoraAdapter } from "../../src/formats/peft.js";
import { loadDecoder, randomDecoder, type WeightReader } from "../../src/models/build.js";
import { ConfigError } from "../../src/models/config-fields.js";
import { applyLoraAdapter, attachedLoraTensors, buildAdapterSet, injectLora, resolveLoraTargets } from "../../src/models/lora.js";
import { specFromConfig } from "../../src/models/registry.js";
import { LINEAR_MODULES, weightShapes } from "../../src/models/spec.js";
import { noGrad } from "../../src/tensor/autograd.js";
import type { DType, Storage } from "../../src/tensor/dtype.js";
import { relErr } from "../helpers/compare.js";
import { pooledParityErrors } from "../helpers/pooled-parity.js";

const tiny = (extra: Record<string, unknown> = {}) => ({
  model_type: "phi3", hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, vocab_size: 40, ...extra,
});

describe("phi3 parity with the PyTorch reference", () => {
  for (const name of ["phi3", "phi3-long"]) {
    it(`${name}: hidden states and mean-pooled embeddings, causal and bidirectional (1e-5)`, () => {
      for (const [mode, e] of Object.entries(pooledParityErrors(name))) {
        assert.ok(e.hidden < 1e-5, `${name} ${mode} hidden: ${e.hidden.toExponential(2)}`);
        assert.ok(e.mean < 1e-5, `${name} ${mode} mean pooling: ${e.mean.toExponential(2)}`);
      }
    });
  }
});

describe("phi3 weights", () => {
  it("declares the fused qkv_proj and gate_up_proj with their stored shapes, and loads them without a copy", () => {
    const s = specFromConfig(tiny());
    const shapes = weightShapes(s);
    assert.deepEqual(shapes.get("model.layers.0.self_attn.qkv_proj.weight"), [(4 + 2 * 2) * 8, 32]);
    assert.deepEqual(shapes.get("model.layers.0.mlp.gate_up_proj.weight"), [2 * 48, 32]);
    assert.equal([...shapes.keys()].some((n) => /q_proj|gate_proj|up_proj\.|bias/.test(n.replace("gate_up_proj", ""))), false);
    const stored = new Map<string, { dtype: DType; shape: readonly number[]; data: Storage }>();
    for (const [n, shape] of shapes) stored.set(n, { dtype: "f32", shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) });
    const reader: WeightReader = { has: (n) => stored.has(n), read: (n) => stored.get(n)!, names: () => [...stored.keys()] };
    const m = loadDecoder(s, reader, "phi3");
    const qkv = m.layers[1]!.linears.qkv_proj!;
    assert.equal(qkv.weight.data, stored.get("model.layers.1.self_attn.qkv_proj.weight")!.data, "the stored buffer itself");
  });

  it("LLM2Vec's seven LoRA targets become the four fused projections, under PEFT's names", () => {
    const m = randomDecoder(specFromConfig(tiny()), 4);
    assert.deepEqual(resolveLoraTargets(m, LINEAR_MODULES), ["o_proj", "down_proj", "qkv_proj", "gate_up_proj"]);
    const params = injectLora(m, { r: 2, alpha: 4, dropout: 0, targets: LINEAR_MODULES });
    assert.equal(params.size, 2 * 4 * 2);
    assert.deepEqual(params.get("model.layers.0.self_attn.qkv_proj.lora_B.weight")!.shape, [64, 2]);
    assert.deepEqual([...attachedLoraTensors(m).keys()].slice(0, 4), ["layers.0.self_attn.qkv_proj", "layers.0.self_attn.o_proj", "layers.0.mlp.gate_up_proj", "layers.0.mlp.down_proj"]);
    assert.throws(() => injectLora(randomDecoder(m.spec, 4), { r: 2, alpha: 4, dropout: 0, targets: ["q_proj", "v_proj"] }), /q_proj, v_proj are fused with k_proj into qkv_proj .*target qkv_proj/);
  });

  it("a saved Phi-3 adapter loads back: merged, held apart, or attached, each the same forward", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-phi3-peft-"));
    try {
      const trained = randomDecoder(specFromConfig(tiny()), 8);
      const params = injectLora(trained, { r: 2, alpha: 4, dropout: 0, targets: LINEAR_MODULES, seed: 1 });
      for (const [n, p] of params) if (n.includes("lora_B")) p.f32.forEach((_, i, a) => (a[i] = 0.05 * Math.sin(i + n.length)));
      writeLoraAdapter(path.join(tmp, "a"), { r: 2, loraAlpha: 4, targetModules: resolveLoraTargets(trained, LINEAR_MODULES), layers: attachedLoraTensors(trained) });
      const adapter = readLoraAdapter(path.join(tmp, "a"));
      assert.deepEqual(adapter.config.targetModules, ["o_proj", "down_proj", "qkv_proj", "gate_up_proj"]);
      const ids = Int32Array.from([1, 7, 3, 9, 4]);
      const run = (m: ReturnType<typeof randomDecoder>, adapters?: ReturnType<typeof buildAdapterSet>) =>
        noGrad(() => m.forward(ids, 1, 5, { mode: "bidirectional", adapters })).f32;
      const want = run(trained);
      const merged = randomDecoder(trained.spec, 8);
      assert.equal(applyLoraAdapter(merged, adapter, { merge: true }).applied, 2 * 4);
      const base = randomDecoder(trained.spec, 8);
      assert.notDeepEqual(run(base), want);
      for (const got of [run(merged), run(base, buildAdapterSet(base, [{ adapter, source: "a" }]))])
        assert.ok(relErr(got, want) < 1e-5, `relative error ${relErr(got, want)}`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("eos_token pooling appends the tokenizer's <|endoftext|> (the reference appends nothing for Phi3Config)", () => {
    assert.equal(eosSuffix("phi3", null), "<|endoftext|>");
  });
});

describe("phi3 config", () => {
  it("reads rope_scaling null as plain RoPE, and longrope / su / yarn as LongRoPE with its attention factor", () => {
    assert.deepEqual(specFromConfig(tiny({ rope_scaling: null })).ropeScaling, { type: "none" });
    const f = [1, 1.5, 2, 4];
    for (const type of ["longrope", "su", "yarn"]) {
      const rs = specFromConfig(tiny({ max_position_embeddings: 131072, original_max_position_embeddings: 4096, rope_scaling: { type, short_factor: f, long_factor: f } })).ropeScaling;
      assert.equal(rs.type, "longrope");
      if (rs.type === "longrope") assert.ok(Math.abs(rs.attentionFactor - Math.sqrt(1 + Math.log(32) / Math.log(4096))) < 1e-12);
    }
  });

  it("refuses what it does not implement, naming the field", () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ rope_scaling: { type: "dynamic", factor: 2 } }, /field "rope_scaling\.type" is "dynamic"; Phi-3 supports "longrope"/],
      [{ rope_scaling: { rope_type: "linear", factor: 2 } }, /field "rope_scaling\.rope_type" is "linear"/],
      [{ rope_scaling: { factor: 2 } }, /field "rope_scaling\.rope_type" is missing; Phi-3 supports "longrope"/],
      [{ rope_scaling: { type: "longrope", short_factor: [1, 1], long_factor: [1, 1, 1, 1] } }, /field "rope_scaling\.short_factor" must list 4 positive numbers/],
      [{ partial_rotary_factor: 0.75 }, /field "partial_rotary_factor" is 0\.75/],
      [{ hidden_act: "gelu" }, /field "hidden_act"/],
    ];
    for (const [extra, re] of bad) assert.throws(() => specFromConfig(tiny(extra), "phi/config.json"), (e: Error) => e instanceof ConfigError && e.message.startsWith("phi/config.json") && re.test(e.message), JSON.stringify(extra));
  });
});

describe("adapters of another architecture", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-phi3-"));
  process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
  const qwen2 = randomDecoder(specFromConfig({ model_type: "qwen2", hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 40 }), 5);
  injectLora(qwen2, { r: 2, alpha: 4, dropout: 0, targets: LINEAR_MODULES });
  const dir = path.join(tmp, "qwen2-adapter");
  writeLoraAdapter(dir, { r: 2, loraAlpha: 4, targetModules: [...LINEAR_MODULES], layers: attachedLoraTensors(qwen2) });

  it("a Qwen2 adapter on Qwen3 with another head_dim names the module and both shapes", () => {
    const qwen3 = randomDecoder(specFromConfig({ model_type: "qwen3", hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, vocab_size: 40 }), 6);
    // q_proj [64, 32] and k_proj, v_proj [32, 32] in Qwen3 (head_dim 16) vs [32, 32], [16, 32] in Qwen2 (head_dim 8).
    assert.throws(() => applyLoraAdapter(qwen3, readLoraAdapter(dir), { merge: false, source: dir }), (e: Error) =>
      /adapter module "layers\.\d\.self_attn\.[qkv]_proj" has A \[2,32\] and B \[(32|16),2\], but this qwen3 model's weight is \[(64|32),32\]: the adapter was made for another architecture/.test(e.message));
  });

  it("a Qwen2 adapter on a Qwen3 whose attention matches but whose MLP does not (as Qwen2.5-14B and Qwen3-14B) names the MLP module", () => {
    const qwen3 = randomDecoder(specFromConfig({ model_type: "qwen3", hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, vocab_size: 40 }), 6);
    assert.throws(() => applyLoraAdapter(qwen3, readLoraAdapter(dir), { merge: true, source: dir }), (e: Error) =>
      /adapter module "layers\.\d\.mlp\.(gate|up|down)_proj" has A \[2,(32|48)\] and B \[(48|32),2\], but this qwen3 model's weight is \[(64,32|32,64)\]/.test(e.message));
  });

  it("a Qwen2 adapter on Phi-3 names the missing module and the projections Phi-3 has", () => {
    const phi = randomDecoder(specFromConfig(tiny()), 7);
    assert.throws(() => applyLoraAdapter(phi, readLoraAdapter(dir), { merge: true, source: dir }), (e: Error) =>
      /adapter module "layers\.\d\.(self_attn\.[qkv]|mlp\.(gate|up))_proj" does not exist in this phi3 model of 2 layers \(its projections are layers\.N\.self_attn\.\{qkv_proj, o_proj\} and layers\.N\.mlp\.\{gate_up_proj, down_proj\}\)/.test(e.message));
  });
});
