/**
 * Resume refuses a checkpoint that changed after it was written (sha256 of each file in its
 * state), a state with out-of-range or mistyped fields, a bad random state and a bad log line,
 * naming the file (and field or line) every time.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { listCheckpoints, readCheckpoint } from "../../src/train/checkpoint.js";
import { runLoop, type Objective, type RunSetup } from "../../src/train/loop.js";
import { LOOP_DEFAULTS } from "../../src/train/loop-options.js";
import { Rng } from "../../src/tensor/random.js";
import { Tensor } from "../../src/tensor/tensor.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-ckpt-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const loop = { ...LOOP_DEFAULTS, maxSteps: 4, learningRate: 0.1, saveSteps: 0, evalSteps: 0 };

/** A tiny run whose objective keeps a random generator in its checkpoints, as MNTP does. */
function run(out: string, resume?: string): { setup: RunSetup; objective: Objective } {
  const w = new Tensor(Float32Array.of(0.1, 0.2, 0.3, 0.4), [4], { requiresGrad: true });
  let rng = new Rng(3);
  const objective: Objective = {
    name: "fake",
    microBatch() {
      w.grad = new Tensor(Float32Array.from({ length: 4 }, () => rng.normal()), [4]);
      return { loss: 1, tokens: 1 };
    },
    exportState: () => ({ rng: { mask: rng.getState() }, dataPosition: {} }),
    importState(s) {
      rng = Rng.fromState(s.rng.mask as number);
    },
  };
  const layers = () => new Map([["layers.0.self_attn.q_proj", { a: { dtype: "f32" as const, shape: [1, 4], data: w.f32 }, b: { dtype: "f32" as const, shape: [4, 1], data: w.f32 } }]]);
  const setup: RunSetup = { output: out, config: { maxSteps: 4 }, modelFingerprint: "f", params: new Map([["w", w]]), adapter: () => ({ r: 1, loraAlpha: 1, targetModules: ["q_proj"], layers: layers() }), loadAdapter: (ck) => w.f32.set(ck.adapter.layers.get("layers.0.self_attn.q_proj")!.a.data as Float32Array), resume };
  return { setup, objective };
}

/** A run stopped after step 2: its checkpoint folder. */
async function stopped(name: string): Promise<{ out: string; ck: string }> {
  const out = path.join(tmp, name);
  const ac = new AbortController();
  const r = run(out);
  await runLoop(r.setup, r.objective, loop, { signal: ac.signal, onStep: (s) => s.step === 2 && ac.abort() });
  return { out, ck: listCheckpoints(out).at(-1)!.dir };
}

const resume = (out: string) => {
  const r = run(out, out);
  return runLoop(r.setup, r.objective, loop);
};

function editState(ck: string, edit: (s: Record<string, unknown>) => void): void {
  const f = path.join(ck, "trainer_state.json");
  const s = JSON.parse(fs.readFileSync(f, "utf8"));
  edit(s);
  fs.writeFileSync(f, JSON.stringify(s));
}

describe("checkpoint integrity at resume", () => {
  it("an untouched checkpoint resumes to the unbroken run's adapter", async () => {
    const { out, ck } = await stopped("intact");
    assert.equal(JSON.parse(fs.readFileSync(path.join(ck, "trainer_state.json"), "utf8")).format, 2);
    await resume(out);
    const whole = path.join(tmp, "whole");
    const r = run(whole);
    await runLoop(r.setup, r.objective, loop);
    const final = (d: string) => readCheckpoint(listCheckpoints(d).at(-1)!.dir).adapter.layers.get("layers.0.self_attn.q_proj")!.a.data;
    assert.deepEqual(final(out), final(whole));
  });

  it("one changed value in the adapter, or in the optimizer moments, is refused naming the file", async () => {
    for (const file of ["adapter_model.safetensors", "optimizer.safetensors"]) {
      const { out, ck } = await stopped(`flip-${file}`);
      const f = path.join(ck, file);
      const bytes = fs.readFileSync(f);
      bytes[bytes.length - 2]! ^= 0x01;
      fs.writeFileSync(f, bytes);
      await assert.rejects(resume(out), new RegExp(`checkpoint-2/${file.replace(".", "\\.")}: changed since the checkpoint was written`));
    }
    const { out, ck } = await stopped("gone");
    fs.rmSync(path.join(ck, "adapter_config.json"));
    await assert.rejects(resume(out), /adapter_config\.json: missing from the checkpoint/);
  });

  it("state fields out of range or of the wrong type are refused naming the file and field", async () => {
    const cases: [string, (s: Record<string, unknown>) => void, RegExp][] = [
      ["step -3", (s) => (s.step = -3), /trainer_state\.json: field "step" must be an integer from 0 to the run's 4 steps, got -3/],
      ["step 1000000", (s) => (s.step = 1000000), /field "step" must be an integer from 0 to the run's 4 steps, got 1000000/],
      ["step 2.5", (s) => (s.step = 2.5), /field "step"/],
      ["step string", (s) => (s.step = "2"), /field "step"/],
      ["logLines", (s) => (s.logLines = -1), /trainer_state\.json: field "logLines" must be a non-negative integer/],
      ["lastLoss", (s) => (s.lastLoss = "low"), /field "lastLoss"/],
      ["rng", (s) => (s.rng = null), /field "rng" must be an object/],
      ["files", (s) => delete (s.files as Record<string, string>)["adapter_model.safetensors"], /field "files" must be the sha256/],
      ["files path", (s) => ((s.files as Record<string, string>)["../x"] = "0".repeat(64)), /field "files"/],
      ["format", (s) => (s.format = 9), /field "format" must be 1 or 2/],
      ["rng state", (s) => (s.rng = { mask: -5 }), /checkpoint-2\/trainer_state\.json: fields "rng"\/"dataPosition": Rng\.fromState: invalid state -5/],
    ];
    for (const [name, edit, re] of cases) {
      const { out, ck } = await stopped(`state-${name.replace(/ /g, "-")}`);
      editState(ck, edit);
      await assert.rejects(resume(out), re, name);
    }
  });

  it("a train_log.jsonl line that is not a record is refused naming the line", async () => {
    const { out } = await stopped("badlog");
    const log = path.join(out, "train_log.jsonl");
    const lines = fs.readFileSync(log, "utf8").split("\n");
    fs.writeFileSync(log, [lines[0], "{not json", ...lines.slice(2)].join("\n"));
    await assert.rejects(resume(out), /train_log\.jsonl: line 2: not JSON/);
    fs.writeFileSync(log, [lines[0], "[1,2]", ...lines.slice(2)].join("\n"));
    await assert.rejects(resume(out), /train_log\.jsonl: line 2: not a step or evaluation record/);
  });
});
