/**
 * `merge`: an output that is (or overlaps) an input is refused, by real path, so `--overwrite`
 * cannot destroy the model or the adapter and a re-run cannot apply the adapter twice; the
 * merged folder keeps the base's generation_config.json and the tokenizer's extra files.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { merge } from "../../src/train/merge.js";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { writeLoraAdapter } from "../../src/formats/peft.js";
import { attachedLoraTensors, injectLora } from "../../src/models/lora.js";
import { Rng } from "../../src/tensor/random.js";
import { storiesFolder } from "../helpers/stories.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-merge-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const snapshot = (dir: string) => Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString("base64")]));

describe("merge", () => {
  let model: string;
  let adapter: string;
  before(async () => {
    model = path.join(tmp, "base");
    fs.cpSync(storiesFolder(), model, { recursive: true });
    fs.writeFileSync(path.join(model, "chat_template.jinja"), "{% for m in messages %}{{ m.content }}{% endfor %}");
    const live = await LLM2Vec.fromPretrained(model);
    const params = injectLora(live.model, { r: 2, alpha: 4, dropout: 0, targets: ["q_proj"], seed: 1 });
    const rng = new Rng(2);
    for (const p of params.values()) if (p.name!.endsWith("lora_B.weight")) for (let i = 0; i < p.size; i++) p.f32[i] = 0.05 * rng.normal();
    adapter = path.join(tmp, "adapter");
    writeLoraAdapter(adapter, { r: 2, loraAlpha: 4, targetModules: ["q_proj"], layers: attachedLoraTensors(live.model) });
  });

  it("refuses --output that is the model, an adapter, a link to one, or a folder holding or inside one; the inputs stay as they were", async () => {
    const before = [snapshot(model), snapshot(adapter)];
    const link = path.join(tmp, "link-to-base");
    fs.symlinkSync(model, link);
    const cases: [string, RegExp][] = [
      [model, /--output .* is --model .*: writing there would change or destroy an input/],
      [adapter, /is --adapter/],
      [link, /is --model/],
      [path.join(model, "..", "base", "."), /is --model/],
      [tmp, /contains --model/],
      [path.join(adapter, "merged"), /lies inside --adapter/],
    ];
    for (const [output, re] of cases) await assert.rejects(merge({ model, adapter: [adapter], output, overwrite: true }), re, output);
    assert.deepEqual([snapshot(model), snapshot(adapter)], before);
  });

  it("the merged folder keeps generation_config.json and the chat template of the base", async () => {
    const out = path.join(tmp, "merged");
    await merge({ model, adapter: [adapter], output: out });
    for (const f of ["generation_config.json", "chat_template.jinja"]) assert.equal(fs.readFileSync(path.join(out, f), "utf8"), fs.readFileSync(path.join(model, f), "utf8"), f);
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "llm2vec_config.json"]) assert.ok(fs.existsSync(path.join(out, f)), f);
    assert.ok(!fs.readdirSync(out).some((f) => f.startsWith(".") || f === "core"), `leftovers: ${fs.readdirSync(out).join(", ")}`);
    await merge({ model, adapter: [adapter], output: out, overwrite: true });
    assert.ok(fs.existsSync(path.join(out, "generation_config.json")));
  });
});
