/**
 * One model for RAG: generation (causal, base weights, no adapter) and embeddings (bidirectional,
 * adapters attached unmerged) from one LLM2Vec object and one copy of the base weights.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { writeLoraAdapter } from "../../src/formats/peft.js";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { generateText } from "../../src/generation/index.js";
import { loadModelFolder } from "../../src/models/load.js";
import { LINEAR_MODULES } from "../../src/models/spec.js";
import { randn } from "../helpers/rng.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-one-model-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const TEXTS: [string, string][] = [["Retrieve the story about a dog:", "Lily saw a big dog."], ["", "Tom had a red ball."], ["Find:", "The sun was hot."]];
const SHAPES: Record<string, [number, number]> = { q_proj: [64, 64], k_proj: [32, 64], v_proj: [32, 64], o_proj: [64, 64], gate_proj: [172, 64], up_proj: [172, 64], down_proj: [64, 172] };

/** A random rank-4 adapter on every projection of stories260K (as MNTP / SimCSE would leave one). */
function makeAdapter(dir: string, seed0: number): string {
  const layers: Parameters<typeof writeLoraAdapter>[1]["layers"] = {};
  let seed = seed0;
  for (let l = 0; l < 5; l++)
    for (const m of LINEAR_MODULES) {
      const [out, inp] = SHAPES[m]!;
      const group = ["gate_proj", "up_proj", "down_proj"].includes(m) ? "mlp" : "self_attn";
      layers[`layers.${l}.${group}.${m}`] = {
        a: { dtype: "f32", shape: [4, inp], data: randn(4 * inp, seed++, 0.1) },
        b: { dtype: "f32", shape: [out, 4], data: randn(out * 4, seed++, 0.1) },
      };
    }
  writeLoraAdapter(dir, { r: 4, loraAlpha: 8, targetModules: [...LINEAR_MODULES], layers });
  return dir;
}

/** max |a − b| / max |b| over all rows (the project's relative error; embeddings here are O(10)). */
function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  let ref = 0;
  a.forEach((v, i) => v.forEach((x, j) => ((m = Math.max(m, Math.abs(x - b[i]![j]!))), (ref = Math.max(ref, Math.abs(b[i]![j]!))))));
  return m / Math.max(ref, 1e-30);
}

const mntp = makeAdapter(path.join(tmp, "mntp"), 1);
const simcse = makeAdapter(path.join(tmp, "simcse"), 1000);

describe("one model serves embeddings and generation", () => {
  it("embeddings with unmerged adapters equal a saved merged model's; generation equals the base model without adapters", async () => {
    const shared = await LLM2Vec.fromPretrained(storiesFolder(), { adapter: [mntp, simcse], mergeAdapter: false });
    // The merged LLM2Vec model as another process would load it: saved, then read back.
    const mergedDir = path.join(tmp, "merged");
    (await LLM2Vec.fromPretrained(storiesFolder(), { adapter: [mntp, simcse] })).save(mergedDir);
    const merged = await LLM2Vec.fromPretrained(mergedDir);
    const e = maxDiff(await shared.encode(TEXTS), await merged.encode(TEXTS));
    assert.ok(e < 1e-5, `shared vs merged embeddings: max relative error ${e.toExponential(2)}`);
    if (process.env.LLM2VEC_TEST_VERBOSE) console.log(`shared vs merged: max relative error ${e.toExponential(2)}`);

    const base = loadModelFolder(storiesFolder());
    const tok = Tokenizer.fromFolder(storiesFolder());
    const o = { maxTokens: 24, greedy: true };
    const want = generateText(base, tok, [tok.encode("Once upon a time")], o)[0]!;
    const got = await shared.generate("Once upon a time", o);
    assert.deepEqual(got.ids, want.ids);
    assert.equal(got.text, want.text);
    assert.ok(got.text.length > 20, got.text);
    // The generator really is the base: the merged weights write something else.
    assert.notDeepEqual(generateText(merged.model, tok, [tok.encode("Once upon a time")], o)[0]!.ids, want.ids);

    // One copy of the base weights: the shared object's projections hold the checkpoint's values.
    const w = shared.model.layers[2]!.linears.up_proj!.weight.f32;
    assert.deepEqual(w, base.layers[2]!.linears.up_proj!.weight.f32);
    // Embeddings after generating are unchanged (no state leaks between the two uses).
    assert.ok(maxDiff(await shared.encode(TEXTS), await merged.encode(TEXTS)) < 1e-5);
  });

  it("an adapter set is chosen per call, the base weights untouched", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    const weight = enc.model.layers[0]!.linears.q_proj!.weight;
    await enc.loadAdapter("simcse", [mntp, simcse]);
    await enc.loadAdapter("mntp", mntp);
    const merged = await LLM2Vec.fromPretrained(storiesFolder(), { adapter: [mntp, simcse] });
    const mntpOnly = await LLM2Vec.fromPretrained(storiesFolder(), { adapter: mntp });
    const baseVecs = await (await LLM2Vec.fromPretrained(storiesFolder())).encode(TEXTS);
    assert.ok(maxDiff(await enc.encode(TEXTS, { adapter: "simcse" }), await merged.encode(TEXTS)) < 1e-5);
    assert.ok(maxDiff(await enc.encode(TEXTS, { adapter: "mntp" }), await mntpOnly.encode(TEXTS)) < 1e-5);
    assert.ok(maxDiff(await enc.encode(TEXTS), baseVecs) === 0, "no adapter by default");
    assert.ok(maxDiff(await enc.encode(TEXTS, { adapter: "none" }), baseVecs) === 0);
    assert.ok(maxDiff(await enc.encode(TEXTS, { adapter: "simcse" }), baseVecs) > 1e-3, "the adapter changes the embeddings");
    assert.equal(enc.model.layers[0]!.linears.q_proj!.weight, weight);
    assert.equal(enc.model.layers[0]!.linears.q_proj!.lora, null, "nothing attached");
    // Generation can run with a named set too, and then differs from the base.
    const o = { maxTokens: 12, greedy: true };
    assert.notDeepEqual((await enc.generate("Once", { ...o, adapter: "simcse" })).ids, (await enc.generate("Once", o)).ids);
    await assert.rejects(enc.encode(TEXTS, { adapter: "sup" }), /no adapter named "sup" \(loaded: simcse, mntp\)/);
  });

  it("refuses to generate from a base whose adapters were merged; chat needs a template", async () => {
    const merged = await LLM2Vec.fromPretrained(storiesFolder(), { adapter: mntp });
    await assert.rejects(merged.generate("Once"), /were merged into the base weights.*mergeAdapter: false/);
    const plain = await LLM2Vec.fromPretrained(storiesFolder());
    await assert.rejects(plain.generate([{ role: "user", content: "hi" }]), /chat messages need a chat template, and .*tokenizer_config\.json has none/);
    const chat = await LLM2Vec.fromPretrained(storiesFolder(), { chatTemplateJinja: fs.readFileSync(path.join(FIXTURES, "chat-templates/phi-3-mini.jinja"), "utf8") });
    const deltas: string[] = [];
    const r = await chat.generate([{ role: "user", content: "Tell me a story." }], { maxTokens: 16, greedy: true, onDelta: (d) => deltas.push(d.text) });
    assert.equal(r.promptTokens, chat.tokenizer.encode("<|user|>\nTell me a story.<|end|>\n<|assistant|>\n", { addSpecialTokens: false }).length);
    assert.equal(deltas.join(""), r.text);
    await assert.rejects(plain.generate([{ role: "user" } as never]), /message 0 must be \{role: string, content: string\}/);
  });
});
