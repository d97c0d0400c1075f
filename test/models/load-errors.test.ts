/** A checkpoint that does not match its config: each error names the folder and the tensor. */
import { it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { writeSafetensors, type TensorToWrite } from "../../src/formats/safetensors-write.js";
import { loadModelFolder } from "../../src/models/load.js";

const parity = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/parity/qwen2");

function variant(edit: (tensors: Record<string, TensorToWrite>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-bad-"));
  fs.copyFileSync(path.join(parity, "config.json"), path.join(dir, "config.json"));
  const st = SafetensorsFile.open(path.join(parity, "model.safetensors"));
  const tensors: Record<string, TensorToWrite> = {};
  for (const n of st.names()) tensors[n] = st.read(n);
  st.close();
  edit(tensors);
  writeSafetensors(path.join(dir, "model.safetensors"), tensors);
  return dir;
}

it("a missing tensor, a wrong shape and a wrong config are reported by name", () => {
  const missing = variant((t) => delete t["model.layers.1.self_attn.k_proj.bias"]);
  assert.throws(() => loadModelFolder(missing), /tensor "model\.layers\.1\.self_attn\.k_proj\.bias" is missing \(expected shape \[\d+\]\)/);
  const wrong = variant((t) => {
    const w = t["model.norm.weight"]!;
    t["model.norm.weight"] = { dtype: "f32", shape: [32], data: (w.data as Float32Array).slice(0, 32) };
  });
  assert.throws(() => loadModelFolder(wrong), /tensor "model\.norm\.weight" has shape \[32\], the config implies \[64\]/);
  const cfg = JSON.parse(fs.readFileSync(path.join(missing, "config.json"), "utf8"));
  fs.writeFileSync(path.join(missing, "config.json"), JSON.stringify({ ...cfg, model_type: "gpt2" }));
  assert.throws(() => loadModelFolder(missing), /model_type.*"gpt2".*supported: llama, mistral, qwen2, qwen3, gemma/);
  for (const d of [missing, wrong]) fs.rmSync(d, { recursive: true, force: true });
});
