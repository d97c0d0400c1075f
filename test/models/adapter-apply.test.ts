/**
 * Applying PEFT adapters honours their config: an empty adapter is refused, weights for modules
 * that target_modules or layers_to_transform exclude are refused, and an adapter for another
 * model names the module and shapes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readLoraAdapter, writeLoraAdapter } from "../../src/formats/peft.js";
import { loadModelFolder } from "../../src/models/load.js";
import { applyLoraAdapter } from "../../src/models/lora.js";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-adapter-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const f32 = (shape: number[]) => ({ dtype: "f32" as const, shape, data: new Float32Array(shape[0]! * shape[1]!).fill(0.01) });

function adapter(name: string, layers: Record<string, [number, number]>, cfg: Record<string, unknown> = {}, targets = ["q_proj", "v_proj"]): string {
  const dir = path.join(tmp, name);
  const l = Object.fromEntries(Object.entries(layers).map(([m, [out, inp]]) => [m, { a: f32([4, inp]), b: f32([out, 4]) }]));
  writeLoraAdapter(dir, { r: 4, loraAlpha: 8, targetModules: targets, layers: l });
  const file = path.join(dir, "adapter_config.json");
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), ...cfg }));
  return dir;
}

describe("applying PEFT adapters", () => {
  const model = () => loadModelFolder(storiesFolder());
  it("refuses an adapter with no LoRA weights", () => {
    const dir = path.join(tmp, "empty");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: 4, lora_alpha: 8, target_modules: ["q_proj"] }));
    fs.writeFileSync(path.join(dir, "adapter_model.safetensors"), Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{}")]));
    assert.throws(() => applyLoraAdapter(model(), readLoraAdapter(dir), { merge: true, source: dir }), /holds no LoRA weights/);
  });

  it("refuses weights for a module target_modules does not select", () => {
    const dir = adapter("untargeted", { "layers.0.self_attn.q_proj": [64, 64], "layers.0.mlp.up_proj": [172, 64] });
    assert.throws(() => applyLoraAdapter(model(), readLoraAdapter(dir), { merge: true, source: dir }), /"layers.0.mlp.up_proj" is not selected by its target_modules/);
  });

  it("honours layers_to_transform", () => {
    const ok = adapter("ltt-ok", { "layers.1.self_attn.q_proj": [64, 64] }, { layers_to_transform: [1, 3] });
    assert.equal(applyLoraAdapter(model(), readLoraAdapter(ok), { merge: true, source: ok }).applied, 1);
    const bad = adapter("ltt-bad", { "layers.2.self_attn.q_proj": [64, 64] }, { layers_to_transform: [1, 3] });
    assert.throws(() => applyLoraAdapter(model(), readLoraAdapter(bad), { merge: true, source: bad }), /outside its layers_to_transform \[1,3\]/);
  });

  it("an adapter for another model names the module and the shapes", () => {
    const other = loadModelFolder(path.join(FIXTURES, "parity/llama"));
    const dir = adapter("stories-shaped", { "layers.0.mlp.up_proj": [172, 64] }, {}, ["up_proj"]);
    assert.throws(() => applyLoraAdapter(other, readLoraAdapter(dir), { merge: true, source: dir }), /"layers.0.mlp.up_proj" has A \[4,64\] and B \[172,4\], but this llama model's weight is \[128,64\]/);
  });

  it("warns when the adapter was trained on a local folder whose config differs (same shapes)", async () => {
    const base = path.join(tmp, "other-base");
    fs.cpSync(storiesFolder(), base, { recursive: true });
    const cfgFile = path.join(base, "config.json");
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, "utf8")), rope_theta: 5000 }));
    const mk = (name: string, trainedOn: string) => adapter(name, { "layers.0.self_attn.q_proj": [64, 64] }, { base_model_name_or_path: trainedOn });
    const said: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string | Uint8Array) => (said.push(String(s)), true)) as typeof process.stderr.write;
    try {
      await LLM2Vec.fromPretrained(storiesFolder(), { adapter: mk("trained-elsewhere", base) });
      await LLM2Vec.fromPretrained(storiesFolder(), { adapter: mk("trained-here", storiesFolder()) });
      await LLM2Vec.fromPretrained(storiesFolder(), { adapter: mk("hub-id", "some-org/some-model") });
    } finally {
      process.stderr.write = write;
    }
    const warnings = said.filter((s) => /was trained on/.test(s));
    assert.equal(warnings.length, 1, said.join(""));
    assert.match(warnings[0]!, /trained-elsewhere was trained on .*other-base, whose config\.json differs/);
  });
});
