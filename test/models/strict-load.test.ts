/**
 * Loading is strict: a config whose layer count disagrees with the checkpoint, or tensors the
 * model would not use, are errors naming them (before any large allocation), unless unused
 * tensors are explicitly allowed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { writeSafetensors, type TensorToWrite } from "../../src/formats/safetensors-write.js";
import { loadModelFolder } from "../../src/models/load.js";
import { storiesFolder } from "../helpers/stories.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-strict-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

function variant(name: string, edit: (cfg: Record<string, unknown>, tensors: Record<string, TensorToWrite>) => void): string {
  const src = storiesFolder();
  const dir = path.join(tmp, name);
  fs.cpSync(src, dir, { recursive: true });
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
  const st = SafetensorsFile.open(path.join(src, "model.safetensors"));
  const tensors: Record<string, TensorToWrite> = {};
  for (const n of st.names()) {
    const t = st.read(n);
    tensors[n] = { dtype: t.dtype, shape: t.shape, data: t.data };
  }
  st.close();
  edit(cfg, tensors);
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(cfg));
  writeSafetensors(path.join(dir, "model.safetensors"), tensors);
  return dir;
}

describe("strict loading", () => {
  it("num_hidden_layers 3 over a 5-layer checkpoint, and 1e9, are refused naming the field", () => {
    assert.throws(() => loadModelFolder(variant("three", (c) => (c.num_hidden_layers = 3))), /"num_hidden_layers" is 3, but the checkpoint holds 5 layer/);
    const t0 = Date.now();
    assert.throws(() => loadModelFolder(variant("huge", (c) => (c.num_hidden_layers = 1e9))), /"num_hidden_layers" is 1000000000/);
    assert.ok(Date.now() - t0 < 5000, "the check must come before any allocation");
  });

  it("tensors the model does not use are refused, or accepted and listed when allowed", async () => {
    const dir = variant("extra", (_c, t) => {
      t["model.layers.0.self_attn.q_norm.weight"] = { dtype: "f32", shape: [8], data: new Float32Array(8) };
      t["model.layers.1.mlp.gate_proj.bias"] = { dtype: "f32", shape: [172], data: new Float32Array(172) };
    });
    assert.throws(() => loadModelFolder(dir), /2 tensor\(s\) that a llama model with this config does not use: "model.layers.0.self_attn.q_norm.weight", "model.layers.1.mlp.gate_proj.bias"/);
    await assert.rejects(LLM2Vec.fromPretrained(dir), /does not use/);
    const enc = await LLM2Vec.fromPretrained(dir, { allowUnusedWeights: true });
    assert.equal(enc.dimension, 64);
  });

  it("rotary inv_freq buffers are not parameters and load fine", () => {
    const dir = variant("buffers", (_c, t) => {
      t["model.layers.0.self_attn.rotary_emb.inv_freq"] = { dtype: "f32", shape: [4], data: new Float32Array(4) };
    });
    assert.equal(loadModelFolder(dir).layers.length, 5);
  });
});
