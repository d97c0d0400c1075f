/**
 * Qwen3, Gemma 2 and Phi-3 through the user-facing paths, on their parity checkpoints (with a
 * 26-letter tokenizer written here, since those folders hold none): a LoRA trained in memory,
 * saved as a PEFT adapter and loaded back attached or merged, or folded in by `merge`, gives the
 * trained model's embeddings (1e-5 relative); the server's /v1/embeddings gives the PyTorch
 * reference's mean-pooled bidirectional embedding of the same tokens, normalised (1e-5).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { writeLoraAdapter } from "../../src/formats/peft.js";
import { attachedLoraTensors, injectLora, resolveLoraTargets } from "../../src/models/lora.js";
import { LINEAR_MODULES } from "../../src/models/spec.js";
import { createEmbeddingServer } from "../../src/serve/app.js";
import { Rng } from "../../src/tensor/random.js";
import { merge } from "../../src/train/merge.js";
import { relErr } from "../helpers/compare.js";
import { FIXTURES } from "../helpers/stories.js";

const TOL = 1e-5;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-families-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

/** The parity checkpoint `name` as a model folder with a tokenizer; its input rows' real tokens. */
function modelFolder(name: string): { dir: string; rows: number[][] } {
  const dir = path.join(tmp, name);
  fs.cpSync(path.join(FIXTURES, "parity", name), dir, { recursive: true });
  const vocab = Object.fromEntries([..."abcdefghijklmnopqrstuvwxyz"].map((c, i) => [c, i + 3]));
  const tokenizer = { version: "1.0", added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: { type: "BPE", vocab, merges: [] } };
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  const inputs = JSON.parse(fs.readFileSync(path.join(dir, "inputs.json"), "utf8")) as { input_ids: number[][]; attention_mask: number[][] };
  return { dir, rows: inputs.input_ids.map((ids, b) => ids.filter((_, t) => inputs.attention_mask[b]![t])) };
}

const normalised = (v: ArrayLike<number>) => {
  const n = Math.hypot(...Array.from(v));
  return Array.from(v, (x) => x / n);
};

for (const name of ["qwen3", "gemma2", "phi3"]) {
  describe(`${name} through the library and the server`, () => {
    const { dir, rows } = modelFolder(name);

    it("a trained LoRA saved as a PEFT adapter loads back attached and merged, and `merge` folds it in", async () => {
      const live = await LLM2Vec.fromPretrained(dir, { onNote: () => {} });
      const base = await live.encodeIds(rows);
      const params = injectLora(live.model, { r: 2, alpha: 4, dropout: 0, targets: LINEAR_MODULES, seed: 1 });
      const rng = new Rng(2);
      for (const p of params.values()) if (p.name!.endsWith("lora_B.weight")) for (let i = 0; i < p.size; i++) p.f32[i] = 0.1 * rng.normal();
      const want = await live.encodeIds(rows);
      assert.ok(relErr(want[0]!, base[0]!) > 1e-2, "the adapter changes the embeddings");
      const adapter = path.join(tmp, `${name}-adapter`);
      writeLoraAdapter(adapter, { r: 2, loraAlpha: 4, targetModules: resolveLoraTargets(live.model, LINEAR_MODULES), layers: attachedLoraTensors(live.model) });
      const merged = path.join(tmp, `${name}-merged`);
      await merge({ model: dir, adapter: [adapter], output: merged });
      const loaded = {
        attached: await LLM2Vec.fromPretrained(dir, { adapter, mergeAdapter: false, onNote: () => {} }),
        merged: await LLM2Vec.fromPretrained(dir, { adapter, mergeAdapter: true, onNote: () => {} }),
        "merge command": await LLM2Vec.fromPretrained(merged, { onNote: () => {} }),
      };
      for (const [how, enc] of Object.entries(loaded)) {
        const got = await enc.encodeIds(rows);
        got.forEach((v, i) => assert.ok(relErr(v, want[i]!) < TOL, `${how}, row ${i}: relative error ${relErr(v, want[i]!).toExponential(2)}`));
      }
    });

    describe("/v1/embeddings", () => {
      let server: ReturnType<typeof createEmbeddingServer>;
      let url: string;
      before(async () => {
        server = createEmbeddingServer({ model: dir, modelName: name });
        await server.app.listen({ host: "127.0.0.1", port: 0 });
        await server.engine.ready;
        url = `http://127.0.0.1:${(server.app.server.address() as net.AddressInfo).port}/v1/embeddings`;
      });
      after(() => server.app.close());

      it("token rows give the PyTorch reference's mean-pooled embeddings, normalised", async () => {
        const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: name, input: rows, encoding_format: "float" }) });
        assert.equal(r.status, 200);
        const body = (await r.json()) as { data: { embedding: number[] }[] };
        const st = SafetensorsFile.open(path.join(dir, "expected.safetensors"));
        const ref = st.read("bidirectional.mean");
        st.close();
        const C = ref.shape[1]!;
        body.data.forEach((d, b) => {
          const want = normalised((ref.data as Float32Array).subarray(b * C, (b + 1) * C));
          assert.ok(relErr(d.embedding, want) < TOL, `row ${b}: relative error ${relErr(d.embedding, want).toExponential(2)}`);
        });
      });
    });
  });
}
