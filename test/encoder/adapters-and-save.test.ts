/** PEFT adapters (merged vs attached), llm2vec_config.json, and save → fromPretrained round trips. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { writeLoraAdapter } from "../../src/formats/peft.js";
import { LINEAR_MODULES } from "../../src/models/spec.js";
import { storiesFolder } from "../helpers/stories.js";
import { randn } from "../helpers/rng.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-adapter-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const TEXTS: [string, string][] = [["Find the story:", "Lily saw a big dog."], ["", "Tom had a red ball."]];

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((v, i) => v.forEach((x, j) => (m = Math.max(m, Math.abs(x - b[i]![j]!)))));
  return m;
}

/** A random rank-4 adapter on every projection of stories260K, named as LLM2Vec's bare-decoder adapters are. */
function makeAdapter(dir: string, withConfigFile: boolean): void {
  const enc = { dim: 64, hidden: 172, kv: 32, layers: 5 };
  const shapes: Record<string, [number, number]> = {
    q_proj: [64, 64], k_proj: [enc.kv, 64], v_proj: [enc.kv, 64], o_proj: [64, 64], gate_proj: [172, 64], up_proj: [172, 64], down_proj: [64, 172],
  };
  const layers: Record<string, { a: { dtype: "f32"; shape: number[]; data: Float32Array }; b: { dtype: "f32"; shape: number[]; data: Float32Array } }> = {};
  let seed = 1;
  for (let l = 0; l < enc.layers; l++)
    for (const m of LINEAR_MODULES) {
      const [out, inp] = shapes[m]!;
      const group = m.endsWith("_proj") && ["gate_proj", "up_proj", "down_proj"].includes(m) ? "mlp" : "self_attn";
      layers[`layers.${l}.${group}.${m}`] = {
        a: { dtype: "f32", shape: [4, inp], data: randn(4 * inp, seed++, 0.3) },
        b: { dtype: "f32", shape: [out, 4], data: randn(out * 4, seed++, 0.3) },
      };
    }
  writeLoraAdapter(dir, { r: 4, loraAlpha: 8, targetModules: [...LINEAR_MODULES], layers });
  if (withConfigFile) fs.writeFileSync(path.join(dir, "llm2vec_config.json"), JSON.stringify({ pooling_mode: "weighted_mean", max_length: 128 }));
}

describe("adapters", () => {
  it("merged and attached adapters give the same embeddings, different from the base model", async () => {
    const adapter = path.join(tmp, "lora");
    makeAdapter(adapter, false);
    const base = await (await LLM2Vec.fromPretrained(storiesFolder())).encode(TEXTS);
    const merged = await (await LLM2Vec.fromPretrained(storiesFolder(), { adapter })).encode(TEXTS);
    const attached = await (await LLM2Vec.fromPretrained(storiesFolder(), { adapter, mergeAdapter: false })).encode(TEXTS);
    assert.ok(maxDiff(merged, attached) < 1e-4, `merged vs attached ${maxDiff(merged, attached)}`);
    assert.ok(maxDiff(merged, base) > 1e-3);
  });

  it("llm2vec_config.json beside an adapter sets options; explicit options win", async () => {
    const adapter = path.join(tmp, "lora-cfg");
    makeAdapter(adapter, true);
    const fromFile = await LLM2Vec.fromPretrained(storiesFolder(), { adapter });
    assert.equal(fromFile.options.pooling, "weighted_mean");
    assert.equal(fromFile.options.maxLength, 128);
    const explicit = await LLM2Vec.fromPretrained(storiesFolder(), { adapter, pooling: "mean" });
    assert.equal(explicit.options.pooling, "mean");
  });

  it("an adapter for another architecture is rejected naming the module", async () => {
    const bad = path.join(tmp, "bad");
    writeLoraAdapter(bad, {
      r: 2, loraAlpha: 2, targetModules: ["q_proj"],
      layers: { "layers.9.self_attn.q_proj": { a: { dtype: "f32", shape: [2, 64], data: new Float32Array(128) }, b: { dtype: "f32", shape: [64, 2], data: new Float32Array(128) } } },
    });
    await assert.rejects(LLM2Vec.fromPretrained(storiesFolder(), { adapter: bad }), /adapter module "layers\.9\.self_attn\.q_proj" does not exist/);
  });
});

describe("save", () => {
  it("writes a folder that loads back to the same embeddings and options", async () => {
    const adapter = path.join(tmp, "lora-save");
    makeAdapter(adapter, false);
    const enc = await LLM2Vec.fromPretrained(storiesFolder(), { adapter, pooling: "weighted_mean" });
    const out = path.join(tmp, "saved");
    enc.save(out);
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "llm2vec_config.json"]) assert.ok(fs.existsSync(path.join(out, f)), f);
    const again = await LLM2Vec.fromPretrained(out);
    assert.equal(again.options.pooling, "weighted_mean");
    assert.ok(maxDiff(await enc.encode(TEXTS), await again.encode(TEXTS)) < 1e-6);
    assert.throws(() => enc.save(out), /already exists/);
  });
});
