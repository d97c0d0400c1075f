/**
 * MNTP training end to end on the real stories260K model: resume continues to the same adapter
 * as an unbroken run (bitwise), checkpoints survive a SIGKILL mid-write, the adapter has PEFT's
 * names and keys and round-trips, the merged folder equals the attached adapter, and bad input
 * gets a clear error.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { readLoraAdapter, writeLoraAdapter } from "../../src/formats/peft.js";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { merge } from "../../src/train/merge.js";
import { attachedLoraTensors, injectLora } from "../../src/models/lora.js";
import { LINEAR_MODULES } from "../../src/models/spec.js";
import { listCheckpoints, readCheckpoint } from "../../src/train/checkpoint.js";
import { runLoop, type Objective } from "../../src/train/loop.js";
import { LOOP_DEFAULTS } from "../../src/train/loop-options.js";
import { trainMntp } from "../../src/train/mntp/train.js";
import { Rng } from "../../src/tensor/random.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

const TEXT = path.join(FIXTURES, "text/wiki1m-400.txt");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-mntp-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const small = { maxLength: 32, batchSize: 4, maxEvalBlocks: 8, evalSteps: 2, saveSteps: 2, learningRate: 1e-3, seed: 7 };
const bytes = (f: string) => fs.readFileSync(f);

describe("MNTP training (stories260K)", () => {
  let model: string;
  let full: string;
  before(async () => {
    model = storiesFolder();
    full = path.join(tmp, "full");
    await trainMntp({ model, data: [TEXT], output: full, maxSteps: 4, ...small });
  });

  it("writes a PEFT adapter with LLM2Vec's module names and PEFT's config keys, and a report", () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(full, "adapter_config.json"), "utf8"));
    for (const k of ["peft_type", "r", "lora_alpha", "lora_dropout", "target_modules", "bias", "fan_in_fan_out", "use_rslora", "task_type", "base_model_name_or_path"]) assert.ok(k in cfg, `adapter_config.json lacks ${k}`);
    assert.equal(cfg.peft_type, "LORA");
    assert.equal(cfg.r, 16);
    assert.equal(cfg.lora_alpha, 32);
    assert.deepEqual(cfg.target_modules, [...LINEAR_MODULES]);
    const st = SafetensorsFile.open(path.join(full, "adapter_model.safetensors"));
    const names = st.names();
    st.close();
    assert.equal(names.length, 5 * 7 * 2);
    assert.ok(names.includes("base_model.model.layers.0.self_attn.q_proj.lora_A.weight"));
    assert.ok(names.includes("base_model.model.layers.4.mlp.down_proj.lora_B.weight"));
    const metrics = JSON.parse(fs.readFileSync(path.join(full, "metrics.json"), "utf8"));
    assert.equal(metrics.steps, 4);
    assert.ok(metrics.heldout_loss_after < metrics.heldout_loss_before, `held-out loss ${metrics.heldout_loss_before} → ${metrics.heldout_loss_after}`);
    const log = fs.readFileSync(path.join(full, "train_log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(log.filter((r) => !r.eval).map((r) => r.step), [1, 2, 3, 4]);
    assert.match(fs.readFileSync(path.join(full, "report.html"), "utf8"), /<svg[\s\S]*polyline/);
  });

  it("a run stopped at step 2 and resumed ends with the unbroken run's adapter, bit for bit", async () => {
    const out = path.join(tmp, "resumed");
    const ac = new AbortController();
    const first = await trainMntp({ model, data: [TEXT], output: out, maxSteps: 4, ...small }, { signal: ac.signal, onStep: (r) => r.step === 2 && ac.abort() });
    assert.equal(first.stopped, true);
    assert.equal(first.steps, 2);
    assert.ok(!fs.existsSync(path.join(out, "adapter_config.json")), "a stopped run must not look finished");
    const second = await trainMntp({ model, data: [TEXT], output: out, maxSteps: 4, ...small, resume: out });
    assert.equal(second.resumedFrom, path.join(out, "checkpoints", "checkpoint-2"));
    assert.equal(second.steps, 4);
    assert.ok(bytes(path.join(out, "adapter_model.safetensors")).equals(bytes(path.join(full, "adapter_model.safetensors"))), "adapters differ");
    const logA = fs.readFileSync(path.join(full, "train_log.jsonl"), "utf8").split("\n").map((l) => l && JSON.parse(l).loss);
    const logB = fs.readFileSync(path.join(out, "train_log.jsonl"), "utf8").split("\n").map((l) => l && JSON.parse(l).loss);
    assert.deepEqual(logB, logA);
  });

  it("refuses to resume with other options or another model, naming what differs", async () => {
    await assert.rejects(trainMntp({ model, data: [TEXT], output: full, maxSteps: 4, ...small, learningRate: 2e-3, resume: full }), /learningRate: checkpoint 0\.001, now 0\.002/);
    const other = path.join(tmp, "other-model");
    fs.cpSync(model, other, { recursive: true });
    const cfg = JSON.parse(fs.readFileSync(path.join(other, "config.json"), "utf8"));
    cfg.rms_norm_eps = 1e-6;
    fs.writeFileSync(path.join(other, "config.json"), JSON.stringify(cfg));
    await assert.rejects(trainMntp({ model: other, data: [TEXT], output: full, maxSteps: 4, ...small, resume: full }), /another base model/);
  });

  it("the merged folder equals the attached adapter (1e-5), and a saved adapter round-trips exactly", async () => {
    const merged = path.join(tmp, "merged");
    await merge({ model, adapter: [full], output: merged });
    const texts = ["Once upon a time there was a cat.", "The sun is hot.", "A long sentence about a little girl who liked to play in the park."];
    const attached = await LLM2Vec.fromPretrained(model, { adapter: full, mergeAdapter: false });
    const m = await LLM2Vec.fromPretrained(merged);
    const base = await LLM2Vec.fromPretrained(model);
    const [a, b, c] = [await attached.encode(texts), await m.encode(texts), await base.encode(texts)];
    let diff = 0;
    let moved = 0;
    a.forEach((v, i) => v.forEach((x, j) => ((diff = Math.max(diff, Math.abs(x - b[i]![j]!))), (moved = Math.max(moved, Math.abs(x - c[i]![j]!))))));
    assert.ok(diff < 1e-5, `merged vs attached: ${diff}`);
    assert.ok(moved > 1e-4, "the adapter changed nothing");

    // Round trip: a LoRA with non-zero B, saved and loaded back, gives bit-identical outputs.
    const live = await LLM2Vec.fromPretrained(model);
    const params = injectLora(live.model, { r: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj", "down_proj"], seed: 3 });
    const rng = new Rng(5);
    for (const p of params.values()) if (p.name!.endsWith("lora_B.weight")) for (let i = 0; i < p.size; i++) p.f32[i] = 0.05 * rng.normal();
    const dir = path.join(tmp, "roundtrip");
    writeLoraAdapter(dir, { r: 4, loraAlpha: 8, targetModules: ["q_proj", "v_proj", "down_proj"], layers: attachedLoraTensors(live.model) });
    const loaded = await LLM2Vec.fromPretrained(model, { adapter: dir, mergeAdapter: false });
    assert.equal(readLoraAdapter(dir).layers.size, 15);
    assert.deepEqual(await loaded.encode(texts), await live.encode(texts));
  });

  it("checkpoints survive SIGKILL during a write: every listed checkpoint loads", async () => {
    const out = path.join(tmp, "killed");
    const script = `
      import { writeCheckpoint } from ${JSON.stringify(path.resolve("dist/src/train/checkpoint.js"))};
      const a = new Float32Array(1 << 20), b = new Float32Array(1 << 20);
      const layers = new Map([["layers.0.self_attn.q_proj", { a: { dtype: "f32", shape: [16, 65536], data: a }, b: { dtype: "f32", shape: [65536, 16], data: b } }]]);
      for (let step = 1; ; step++) {
        a.fill(step);
        writeCheckpoint(${JSON.stringify(out)}, { r: 16, loraAlpha: 32, targetModules: ["q_proj"], layers },
          { step, expAvg: new Map([["p", a]]), expAvgSq: new Map([["p", b]]) },
          { format: 1, objective: "mntp", step, config: {}, modelFingerprint: "x", rng: {}, dataPosition: {}, logLines: 0, lastLoss: null, savedAt: "" }, 2);
        if (step === 2) process.stdout.write("go\\n");
      }`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    await new Promise((r) => setTimeout(r, 150));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const list = listCheckpoints(out);
    assert.ok(list.length >= 1);
    for (const c of list) {
      const ck = readCheckpoint(c.dir);
      assert.equal(ck.optimizer.expAvg.get("p")![0], ck.state.step, `${c.dir} holds another step's data`);
      assert.equal(ck.adapter.layers.size, 1);
    }
  });

  it("bad input: empty data, whitespace-only data, a missing tokenizer, an unknown mask token, an unwritable output", async () => {
    const empty = path.join(tmp, "empty.txt");
    fs.writeFileSync(empty, "");
    const blank = path.join(tmp, "blank.txt");
    fs.writeFileSync(blank, "  \n\t\n\n");
    await assert.rejects(trainMntp({ model, data: [empty], output: path.join(tmp, "e1"), ...small }), /empty\.txt: no text in the training data file/);
    await assert.rejects(trainMntp({ model, data: [blank], output: path.join(tmp, "e2"), ...small }), /blank\.txt: no text in the training data file/);
    const noTok = path.join(tmp, "no-tokenizer");
    fs.cpSync(model, noTok, { recursive: true });
    fs.rmSync(path.join(noTok, "tokenizer.json"));
    await assert.rejects(trainMntp({ model: noTok, data: [TEXT], output: path.join(tmp, "e3"), ...small }), /no tokenizer\.json/);
    await assert.rejects(trainMntp({ model, data: [TEXT], output: path.join(tmp, "e4"), ...small, maskToken: "zebra-crossing" }), /--mask-token zebra-crossing: "zebra-crossing" is not a token/);
    await assert.rejects(trainMntp({ model, data: [TEXT], output: path.join(TEXT, "out"), ...small }), /--output .*cannot write there/);
  });

  it("one huge line is packed into many blocks, never dropped", async () => {
    const huge = path.join(tmp, "huge.txt");
    fs.writeFileSync(huge, fs.readFileSync(TEXT, "utf8").replace(/\n/g, " ") + "\n");
    const r = await trainMntp({ model, data: [huge], output: path.join(tmp, "huge"), maxSteps: 1, ...small, evalFraction: 0, evalSteps: 0 }, {});
    assert.ok((r.metrics.training_blocks as number) > 100, `only ${r.metrics.training_blocks} blocks`);
  });
});

describe("training loop", () => {
  it("stops on a non-finite loss naming the step; the last good checkpoint stays", async () => {
    const out = fs.mkdtempSync(path.join(tmp, "nan-"));
    const w = new Tensor(new Float32Array(4), [4], { requiresGrad: true });
    const objective: Objective = {
      name: "fake",
      microBatch(step) {
        w.grad = new Tensor(Float32Array.of(1, 1, 1, 1), [4]);
        return { loss: step === 2 ? NaN : 1, tokens: 1 };
      },
      exportState: () => ({ rng: {}, dataPosition: {} }),
      importState() {},
    };
    const setup = { output: out, config: {}, modelFingerprint: "f", params: new Map([["w", w]]), adapter: () => ({ r: 1, loraAlpha: 1, targetModules: ["q_proj"], layers: new Map([["layers.0.self_attn.q_proj", { a: { dtype: "f32" as const, shape: [1, 4], data: w.f32 }, b: { dtype: "f32" as const, shape: [4, 1], data: w.f32 } }]]) }), loadAdapter: () => {} };
    const loop = { ...LOOP_DEFAULTS, maxSteps: 5, learningRate: 0.1, saveSteps: 2, evalSteps: 0 };
    await assert.rejects(runLoop(setup, objective, loop), /loss is NaN at step 3/);
    assert.deepEqual(listCheckpoints(out).map((c) => c.step), [2]);
  });
});
