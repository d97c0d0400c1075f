/**
 * SimCSE, supervised training and convert end to end on stories260K with tiny settings: the
 * folders they write load and encode, resume continues bit for bit, convert resumes at its
 * stage, and bad data gets a clear message.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { trainSimcse } from "../../src/train/contrastive/train-simcse.js";
import { trainSupervised } from "../../src/train/contrastive/train-supervised.js";
import { convert } from "../../src/train/convert.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

const TEXT = path.join(FIXTURES, "text/wiki1m-400.txt");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-contrastive-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const tiny = { batchSize: 8, chunkSize: 3, maxLength: 32, learningRate: 1e-3, seed: 5, saveSteps: 1 };
const bytes = (f: string) => fs.readFileSync(f);

function pairs(file: string, rows: object[]): string {
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return file;
}

describe("contrastive training (stories260K)", () => {
  it("SimCSE writes an adapter with llm2vec_config.json; a stopped run resumes to the unbroken run's adapter", async () => {
    const model = storiesFolder();
    const full = path.join(tmp, "simcse-full");
    const r = await trainSimcse({ model, data: [TEXT], output: full, maxSteps: 2, ...tiny });
    assert.equal(r.steps, 2);
    const cfg = JSON.parse(fs.readFileSync(path.join(full, "llm2vec_config.json"), "utf8"));
    assert.equal(cfg.pooling_mode, "mean");
    assert.equal(cfg.bidirectional, true);
    assert.equal(cfg.max_length, undefined, "the training length is no inference setting");
    const enc = await LLM2Vec.fromPretrained(model, { adapter: full });
    assert.equal((await enc.encode(["a sentence"]))[0]!.length, 64);

    const out = path.join(tmp, "simcse-resumed");
    const ac = new AbortController();
    const first = await trainSimcse({ model, data: [TEXT], output: out, maxSteps: 2, ...tiny }, { signal: ac.signal, onStep: () => ac.abort() });
    assert.equal(first.stopped, true);
    await trainSimcse({ model, data: [TEXT], output: out, maxSteps: 2, ...tiny, resume: out });
    assert.ok(bytes(path.join(out, "adapter_model.safetensors")).equals(bytes(path.join(full, "adapter_model.safetensors"))));
  });

  it("SimCSE tokenises raw sentences: a model whose name selects an instruct template trains the same adapter", async () => {
    // The reference's SimCSE collator applies no chat template (llm2vec.md §1c), while inference
    // on a Meta-Llama-3-8B-Instruct name does; the same weights under that name must train alike.
    const named = path.join(tmp, "named-llama3");
    fs.cpSync(storiesFolder(), named, { recursive: true });
    const cfgFile = path.join(named, "config.json");
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, "utf8")), _name_or_path: "meta-llama/Meta-Llama-3-8B-Instruct" }));
    const a = path.join(tmp, "simcse-plain");
    const b = path.join(tmp, "simcse-named");
    await trainSimcse({ model: storiesFolder(), data: [TEXT], output: a, maxSteps: 1, ...tiny });
    await trainSimcse({ model: named, data: [TEXT], output: b, maxSteps: 1, ...tiny });
    assert.ok(bytes(path.join(a, "adapter_model.safetensors")).equals(bytes(path.join(b, "adapter_model.safetensors"))));
  });

  it("SimCSE bad input: fewer sentences than a batch; repeated sentences are reported (or dropped)", async () => {
    const model = storiesFolder();
    const few = path.join(tmp, "few.txt");
    fs.writeFileSync(few, "one\ntwo\nthree\n");
    await assert.rejects(trainSimcse({ model, data: [few], output: path.join(tmp, "s-few"), ...tiny }), /3 sentences, fewer than one batch of 8/);
    const dup = path.join(tmp, "dup.txt");
    fs.writeFileSync(dup, Array.from({ length: 12 }, (_, i) => `sentence number ${i % 6}`).join("\n"));
    const msgs: string[] = [];
    await trainSimcse({ model, data: [dup], output: path.join(tmp, "s-dup"), ...tiny, maxSteps: 1 }, { onMessage: (m) => msgs.push(m) });
    assert.ok(msgs.some((m) => /6 sentences repeat/.test(m)), msgs.join(" | "));
    await assert.rejects(trainSimcse({ model, data: [dup], output: path.join(tmp, "s-dedupe"), ...tiny, dedupe: true }), /6 sentences, fewer than one batch/);
  });

  it("supervised: instruction on queries, hard negatives; bad rows are named", async () => {
    const model = storiesFolder();
    const lines = fs.readFileSync(TEXT, "utf8").split("\n").filter(Boolean);
    const rows = Array.from({ length: 16 }, (_, i) => ({ query: lines[i]!, positive: lines[i + 100]!, negative: i % 3 ? lines[i + 200]! : undefined, instruction: "Retrieve a related sentence" }));
    const file = pairs(path.join(tmp, "pairs.jsonl"), rows);
    const r = await trainSupervised({ model, data: [file], output: path.join(tmp, "sup"), maxSteps: 2, ...tiny });
    assert.equal(r.steps, 2);
    assert.ok(Number.isFinite(r.metrics.final_train_loss as number));
    const bad = pairs(path.join(tmp, "bad.jsonl"), [{ query: "q" }]);
    await assert.rejects(trainSupervised({ model, data: [bad], output: path.join(tmp, "sup-bad"), ...tiny }), /bad\.jsonl:1: missing "positive"/);
    const same = pairs(path.join(tmp, "same.jsonl"), Array.from({ length: 8 }, (_, i) => ({ query: `q${i}`, positive: `p${i}`, negative: `p${i}` })));
    const msgs: string[] = [];
    await trainSupervised({ model, data: [same], output: path.join(tmp, "sup-same"), ...tiny, maxSteps: 1 }, { onMessage: (m) => msgs.push(m) });
    assert.ok(msgs.some((m) => /8 hard negatives equal their positive and were dropped/.test(m)), msgs.join(" | "));
  });

  it("convert runs MNTP → SimCSE into a merged model folder, resumes at its stage, refuses changed options", async () => {
    const model = storiesFolder();
    const out = path.join(tmp, "convert");
    const o = { model, data: [TEXT], output: out, mntp: { maxSteps: 2, batchSize: 2, maxLength: 32, saveSteps: 1, evalSteps: 0, maxEvalBlocks: 2 }, simcse: { maxSteps: 2, ...tiny } };
    // Stop during SimCSE's first step, then resume.
    const ac = new AbortController();
    let stage = "";
    const first = await convert(o, { signal: ac.signal, onStage: (s) => (stage = s), onStep: () => stage === "simcse" && ac.abort() });
    assert.equal(first.stopped, true);
    assert.ok(fs.existsSync(path.join(out, "mntp", "adapter_config.json")));
    await assert.rejects(convert({ ...o, resume: true, simcse: { ...o.simcse, learningRate: 5e-3 } }), /simcse: checkpoint .*learningRate.*now .*learningRate/);
    await assert.rejects(convert(o), /holds a convert run already/);
    const done = await convert({ ...o, resume: true });
    assert.equal(done.stopped, false);
    assert.deepEqual(done.stages.map((s) => [s.name, s.skipped]), [["mntp", true], ["simcse", false]]);
    const merged = await LLM2Vec.fromPretrained(done.modelDir!);
    const stacked = await LLM2Vec.fromPretrained(model, { adapter: [path.join(out, "mntp"), path.join(out, "simcse")], mergeAdapter: false });
    const texts = ["The cat sat on the mat.", "It rained all day."];
    const [a, b] = [await merged.encode(texts), await stacked.encode(texts)];
    let diff = 0;
    a.forEach((v, i) => v.forEach((x, j) => (diff = Math.max(diff, Math.abs(x - b[i]![j]!)))));
    assert.ok(diff < 1e-5, `merged vs stacked adapters: ${diff}`);
  });
});
