/**
 * Saved quantized models (models/quantized-folder.ts): save() of a model loaded with `quantize`
 * and `merge --quantize` write the integers and scales as tensors plus a quantization_config, and
 * the folder loads back as stored: the same bytes and bit-equal embeddings, on the native backend
 * and on the TypeScript reference. Bad folders are refused naming the field or tensor.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { writeLoraAdapter } from "../../src/formats/peft.js";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { writeSafetensors, type TensorToWrite } from "../../src/formats/safetensors-write.js";
import { attachedLoraTensors, injectLora } from "../../src/models/lora.js";
import { referenceBackend, setBackend } from "../../src/tensor/backend/index.js";
import { Rng } from "../../src/tensor/random.js";
import { merge } from "../../src/train/merge.js";
import { modelFingerprint } from "../../src/train/fingerprint.js";
import { trainMntp } from "../../src/train/mntp/train.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-qsaved-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const TEXTS = ["Lily saw a big dog in the park and she ran to it.", "Tom had a red ball. He threw it high into the sky."];
const Q = "model.layers.0.self_attn.q_proj.weight";
const DOWN = "model.layers.0.mlp.down_proj.weight";
const quiet = { onNote: () => {} };

function header(dir: string): Record<string, { dtype: string; shape: number[] }> {
  const f = SafetensorsFile.open(path.join(dir, "model.safetensors"));
  try {
    return Object.fromEntries(f.names().map((n) => [n, f.info(n)]));
  } finally {
    f.close();
  }
}

/** A copy of `dir` whose config.json and tensors `edit` changed. */
function edited(dir: string, name: string, edit: { config?: (c: Record<string, unknown>) => void; tensors?: (t: Record<string, TensorToWrite>) => void }): string {
  const out = path.join(tmp, name);
  fs.cpSync(dir, out, { recursive: true });
  const cfgFile = path.join(out, "config.json");
  const cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
  edit.config?.(cfg.quantization_config);
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  const f = SafetensorsFile.open(path.join(dir, "model.safetensors"));
  const tensors: Record<string, TensorToWrite> = {};
  for (const n of f.names()) tensors[n] = { ...f.info(n), data: f.readBytes(n) };
  f.close();
  edit.tensors?.(tensors);
  writeSafetensors(path.join(out, "model.safetensors"), tensors);
  return out;
}

describe("saved quantized models", () => {
  const saved: Record<"int8" | "int4", string> = { int8: "", int4: "" };
  const inMemory: Partial<Record<"int8" | "int4", LLM2Vec>> = {};
  before(async () => {
    for (const q of ["int8", "int4"] as const) {
      inMemory[q] = await LLM2Vec.fromPretrained(storiesFolder(), { quantize: q, ...quiet });
      saved[q] = path.join(tmp, q);
      inMemory[q]!.save(saved[q]);
    }
  });

  it("writes integers and f16 scales as tensors and a quantization_config; no projection is stored in float", () => {
    const h = header(saved.int8);
    assert.deepEqual(h[Q + ".qs"], { dtype: "I8", shape: [64, 64] });
    assert.deepEqual(h[Q + ".d"], { dtype: "F16", shape: [64, 2] });
    assert.equal(h[Q], undefined);
    assert.equal(h["model.embed_tokens.weight"]?.dtype, "F32");
    const h4 = header(saved.int4);
    const [N, K] = [64, 172]; // down_proj: K padded to 192 (6 blocks)
    assert.deepEqual(h4[DOWN + ".qs"], { dtype: "U8", shape: [N, 96] }, `K ${K}`);
    assert.deepEqual(h4[DOWN + ".d"], { dtype: "F16", shape: [N, 6] });
    assert.deepEqual(h4[DOWN + ".m"], { dtype: "F16", shape: [N, 6] });
    assert.equal(h[Q + ".m"], undefined);
    const cfg = JSON.parse(fs.readFileSync(path.join(saved.int4, "config.json"), "utf8"));
    assert.deepEqual(cfg.quantization_config, { quant_method: "llm2vec", quant_type: "q4_1", bits: 4, group_size: 32, scale_dtype: "float16", layout_version: 1 });
  });

  for (const q of ["int8", "int4"] as const)
    it(`${q}: loads back as stored (same bytes, bit-equal embeddings), natively and on the reference backend`, async () => {
      const back = await LLM2Vec.fromPretrained(saved[q], quiet);
      const mem = inMemory[q]!;
      const wBack = new Map(back.model.namedWeights());
      for (const [name, t] of mem.model.namedWeights()) {
        const b = wBack.get(name)!;
        if (!t.quant) continue;
        assert.ok(b.quant, `${name} loads quantized`);
        assert.deepEqual([b.quant.kind, b.quant.N, b.quant.K, b.quant.Kp], [t.quant.kind, t.quant.N, t.quant.K, t.quant.Kp], name);
        assert.deepEqual(Buffer.from(b.quant.qs.buffer, b.quant.qs.byteOffset, b.quant.qs.byteLength), Buffer.from(t.quant.qs.buffer, t.quant.qs.byteOffset, t.quant.qs.byteLength), name);
        assert.deepEqual(b.quant.d, t.quant.d, name);
        assert.deepEqual(b.quant.m, t.quant.m, name);
      }
      assert.deepEqual(await back.encode(TEXTS), await mem.encode(TEXTS));
      const prev = setBackend(referenceBackend);
      try {
        const ref = await LLM2Vec.fromPretrained(saved[q], quiet);
        assert.deepEqual(await ref.encode(TEXTS), await mem.encode(TEXTS));
      } finally {
        setBackend(prev);
      }
    });

  it("a q4_0 folder (int4's earlier kind) still loads as stored: the same nibbles without minimums", async () => {
    const dir = edited(saved.int4, "q4_0", { config: (c) => (c.quant_type = "q4_0"), tensors: (t) => Object.keys(t).forEach((n) => n.endsWith(".m") && delete t[n]) });
    const m = await LLM2Vec.fromPretrained(dir, quiet);
    const w = new Map(m.model.namedWeights()).get(Q)!;
    assert.equal(w.quant?.kind, "q4_0");
    assert.equal(w.quant.m, undefined);
    assert.ok((await m.encode(TEXTS)).every((e) => Array.from(e).every(Number.isFinite)));
  });

  it("does not re-quantize: blocks no quantizer would make (max |q| 50, not 127) load exactly as written", async () => {
    const dir = edited(saved.int8, "odd-blocks", {
      tensors: (t) => {
        const qs = t[Q + ".qs"]!.data as Uint8Array;
        for (let i = 0; i < qs.length; i++) qs[i] = (((qs[i]! << 24) >> 24) * 50 / 127) & 0xff;
      },
    });
    const written = new Int8Array(header(dir)[Q + ".qs"]!.shape.reduce((a, b) => a * b, 1));
    const f = SafetensorsFile.open(path.join(dir, "model.safetensors"));
    written.set(new Int8Array(f.readBytes(Q + ".qs").buffer));
    f.close();
    const m = await LLM2Vec.fromPretrained(dir, { ...quiet, quantize: "int8" });
    const w = new Map(m.model.namedWeights()).get(Q)!;
    assert.deepEqual(new Int8Array(w.quant!.qs), written);
    assert.ok(Math.max(...Array.from(written, Math.abs)) <= 50);
  });

  it("the resume fingerprint of a quantized base covers its integers: two int8 folders that differ only in values differ", async () => {
    const other = edited(saved.int8, "other-values", { tensors: (t) => (t[Q + ".qs"]!.data as Uint8Array).reverse() });
    const a = await LLM2Vec.fromPretrained(saved.int8, quiet);
    const b = await LLM2Vec.fromPretrained(other, quiet);
    assert.notEqual(modelFingerprint(a.model, a.rawConfig), modelFingerprint(b.model, b.rawConfig));
  });

  it("merge --quantize folds the adapter into the original weights, then quantizes: equal to the in-memory model", async () => {
    const base = await LLM2Vec.fromPretrained(storiesFolder(), quiet);
    const params = injectLora(base.model, { r: 2, alpha: 4, dropout: 0, targets: ["q_proj", "down_proj"], seed: 1 });
    const rng = new Rng(2);
    for (const p of params.values()) if (p.name!.endsWith("lora_B.weight")) for (let i = 0; i < p.size; i++) p.f32[i] = 0.05 * rng.normal();
    const adapter = path.join(tmp, "adapter");
    writeLoraAdapter(adapter, { r: 2, loraAlpha: 4, targetModules: ["q_proj", "down_proj"], layers: attachedLoraTensors(base.model) });
    const out = path.join(tmp, "merged-int8");
    await merge({ model: storiesFolder(), adapter: [adapter], output: out, quantize: "int8" });
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8")).quantization_config.quant_type, "q8_0");
    const mem = await LLM2Vec.fromPretrained(storiesFolder(), { adapter, quantize: "int8", ...quiet });
    assert.deepEqual(await (await LLM2Vec.fromPretrained(out, quiet)).encode(TEXTS), await mem.encode(TEXTS));
    const plain = path.join(tmp, "merged-f32");
    await merge({ model: storiesFolder(), adapter: [adapter], output: plain });
    assert.equal(JSON.parse(fs.readFileSync(path.join(plain, "config.json"), "utf8")).quantization_config, undefined);
    assert.equal(header(plain)[Q]?.dtype, "F32");
  });

  it("refuses an unknown kind or layout (naming the field), a qs/d shape or dtype mismatch (naming the tensor and both shapes), another --quantize kind, and merging into it", async () => {
    const cases: [string, Parameters<typeof edited>[2], RegExp][] = [
      ["kind", { config: (c) => (c.quant_type = "q5_k") }, /config\.json: field "quantization_config\.quant_type" is "q5_k", a kind this build does not know \(it knows q8_0, q4_0, q4_1\)/],
      ["layout", { config: (c) => (c.layout_version = 2) }, /field "quantization_config\.layout_version" is 2/],
      ["method", { config: (c) => (c.quant_method = "gptq") }, /field "quantization_config\.quant_method" is "gptq"/],
      ["qs-shape", { tensors: (t) => (t[Q + ".qs"] = { dtype: "I8", shape: [64, 32], data: new Uint8Array(64 * 32) }) }, /tensor "model\.layers\.0\.self_attn\.q_proj\.weight\.qs" has shape \[64, ?32\], the config implies \[64, ?64\] for q8_0/],
      ["d-shape", { tensors: (t) => (t[Q + ".d"] = { dtype: "F16", shape: [64, 1], data: new Uint16Array(64) }) }, /tensor "model\.layers\.0\.self_attn\.q_proj\.weight\.d" has shape \[64, ?1\], the config implies \[64, ?2\]/],
      ["qs-dtype", { tensors: (t) => (t[Q + ".qs"]!.dtype = "U8") }, /tensor "model\.layers\.0\.self_attn\.q_proj\.weight\.qs" has dtype U8; q8_0 stores it as I8/],
      ["d-missing", { tensors: (t) => delete t[Q + ".d"] }, /tensor "model\.layers\.0\.self_attn\.q_proj\.weight\.d" is missing/],
      ["embed", { tensors: (t) => ((t["model.embed_tokens.weight.qs"] = { dtype: "I8", shape: [512, 64], data: new Uint8Array(512 * 64) }), (t["model.embed_tokens.weight.d"] = { dtype: "F16", shape: [512, 2], data: new Uint16Array(1024) }), delete t["model.embed_tokens.weight"]) }, /tensor "model\.embed_tokens\.weight" is stored quantized .* only projection weights may be/],
    ];
    for (const [name, edit, re] of cases) await assert.rejects(LLM2Vec.fromPretrained(edited(saved.int8, name, edit), quiet), re, name);
    await assert.rejects(LLM2Vec.fromPretrained(edited(saved.int4, "m-missing", { tensors: (t) => delete t[Q + ".m"] }), quiet), /tensor "model\.layers\.0\.self_attn\.q_proj\.weight\.m" is missing \(expected F16 \[64, ?2\] for q4_1\)/);
    await assert.rejects(LLM2Vec.fromPretrained(saved.int8, { ...quiet, quantize: "int4" }), /quantize int4: model\.layers\.0\.self_attn\.q_proj\.weight is stored quantized as q8_0 \(config\.json's quantization_config\), which loads as stored/);
    const adapter = path.join(tmp, "adapter");
    await assert.rejects(merge({ model: saved.int8, adapter: [adapter], output: path.join(tmp, "never") }), /merge: model\.layers\.0\.[a-z_.]*\.weight is quantized \(q8_0\); adapters merge into unquantized weights only/);
    assert.equal(fs.existsSync(path.join(tmp, "never")), false);
  });

  it("trains LoRA over a saved quantized folder (QLoRA), but refuses --adapter, which would merge into its base, naming the flag", async () => {
    const small = { data: [path.join(FIXTURES, "text/wiki1m-400.txt")], maxLength: 32, batchSize: 4, maxEvalBlocks: 8, evalSteps: 0, saveSteps: 0, learningRate: 1e-3, seed: 7 };
    await assert.rejects(trainMntp({ model: saved.int8, adapter: [path.join(tmp, "adapter")], output: path.join(tmp, "mntp-refused"), maxSteps: 1, ...small }), /--adapter: .*int8 is saved quantized \(q8_0\), and --adapter would merge into its base weights/);
    const out = path.join(tmp, "mntp-over-int8");
    await trainMntp({ model: saved.int8, output: out, maxSteps: 2, ...small });
    assert.ok(fs.existsSync(path.join(out, "adapter_model.safetensors")));
  });
});
