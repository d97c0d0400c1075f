/**
 * One run per output folder: the folder lock (live holders refused, dead ones' locks taken over,
 * released on exit), a fresh run refusing an earlier run's checkpoints (--overwrite starts over),
 * temp cleanup that spares live writers, and an output that overlaps an input refused.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LOCK_FILE, lockFolder } from "../../src/formats/folder-lock.js";
import { listCheckpoints, removeStaleCheckpointTemps } from "../../src/train/checkpoint.js";
import { runLoop, type Objective, type RunSetup } from "../../src/train/loop.js";
import { LOOP_DEFAULTS } from "../../src/train/loop-options.js";
import { trainMntp } from "../../src/train/mntp/train.js";
import { convert } from "../../src/train/convert.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

const TEXT = path.join(FIXTURES, "text/wiki1m-400.txt");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-runfolder-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const LOCK_JS = path.resolve("dist/src/formats/folder-lock.js");
const small = { maxLength: 32, batchSize: 4, maxEvalBlocks: 8, evalSteps: 0, saveSteps: 2, learningRate: 1e-3, seed: 7 };

/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

/** A child process that takes the lock of `dir`, says so, then waits (or exits at once). */
async function childHolding(dir: string, then: "wait" | "exit"): Promise<ReturnType<typeof spawn>> {
  const script = `import { lockFolder } from ${JSON.stringify(LOCK_JS)}; lockFolder(${JSON.stringify(dir)}, "child"); process.stdout.write("locked\\n"); ${then === "wait" ? "setInterval(() => {}, 1000);" : "process.exit(0);"}`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    if (then === "wait") child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => (then === "exit" && code === 0 ? resolve() : reject(new Error(`child exited ${code}`))));
  });
  return child;
}

function fakeRun(out: string): { setup: RunSetup; objective: Objective; loop: Parameters<typeof runLoop>[2] } {
  const w = new Tensor(new Float32Array(4), [4], { requiresGrad: true });
  const objective: Objective = {
    name: "fake",
    microBatch() {
      w.grad = new Tensor(Float32Array.of(1, 1, 1, 1), [4]);
      return { loss: 1, tokens: 1 };
    },
    exportState: () => ({ rng: {}, dataPosition: {} }),
    importState() {},
  };
  const layer = () => new Map([["layers.0.self_attn.q_proj", { a: { dtype: "f32" as const, shape: [1, 4], data: w.f32 }, b: { dtype: "f32" as const, shape: [4, 1], data: w.f32 } }]]);
  const setup: RunSetup = { output: out, config: { maxSteps: 4 }, modelFingerprint: "f", params: new Map([["w", w]]), adapter: () => ({ r: 1, loraAlpha: 1, targetModules: ["q_proj"], layers: layer() }), loadAdapter: () => {} };
  const loop = { ...LOOP_DEFAULTS, maxSteps: 4, learningRate: 0.1, saveSteps: 1, evalSteps: 0 };
  return { setup, objective, loop };
}

describe("output folder lock", () => {
  it("a second holder is refused, naming the holder and the lock file; after release the folder is free", () => {
    const dir = fs.mkdtempSync(path.join(tmp, "lock-"));
    const lock = lockFolder(dir, "train mntp");
    assert.throws(() => lockFolder(dir, "train mntp"), new RegExp(`in use by another run \\(train mntp, pid ${process.pid}, .*${LOCK_FILE}`));
    lock.release();
    assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)));
    lockFolder(dir, "again").release();
  });

  it("another process's lock is refused while it runs and taken over once it is killed", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "lock-"));
    const child = await childHolding(dir, "wait");
    try {
      assert.throws(() => lockFolder(dir, "me"), new RegExp(`in use by another run \\(child, pid ${child.pid}`));
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
    const lock = lockFolder(dir, "me");
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8")).pid, process.pid);
    assert.deepEqual(fs.readdirSync(dir), [LOCK_FILE], "no leftovers of the takeover");
    lock.release();
  });

  it("a process that exits releases its lock; a dead pid's lock file is stale; another host's lock is never taken", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "lock-"));
    await childHolding(dir, "exit");
    assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), "the exiting child left its lock");
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: os.hostname(), startedAt: "x", token: "t", purpose: "old" }));
    lockFolder(dir, "me").release();
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: "elsewhere.example", startedAt: "x", token: "t", purpose: "far" }));
    assert.throws(() => lockFolder(dir, "me"), /in use by another run \(far, pid \d+ on host elsewhere\.example/);
    fs.writeFileSync(path.join(dir, LOCK_FILE), "");
    assert.throws(() => lockFolder(dir, "me"), /lock file .* is unreadable; if no run is using this folder, delete it/);
  });
});

describe("run folders", () => {
  let model: string;
  before(() => {
    model = storiesFolder();
  });

  it("a training into a folder another run holds is refused before any file of it changes", async () => {
    const out = fs.mkdtempSync(path.join(tmp, "busy-"));
    fs.writeFileSync(path.join(out, "train_log.jsonl"), "{}\n");
    const lock = lockFolder(out, "train mntp");
    try {
      await assert.rejects(trainMntp({ model, data: [TEXT], output: out, maxSteps: 2, ...small }), /in use by another run/);
      await assert.rejects(convert({ model, data: [TEXT], output: out }), /in use by another run/);
      assert.equal(fs.readFileSync(path.join(out, "train_log.jsonl"), "utf8"), "{}\n");
    } finally {
      lock.release();
    }
  });

  it("a fresh run refuses a folder holding an earlier run's checkpoints; --overwrite starts over", async () => {
    const out = path.join(tmp, "interrupted");
    const ac = new AbortController();
    await trainMntp({ model, data: [TEXT], output: out, maxSteps: 4, ...small }, { signal: ac.signal, onStep: (r) => r.step === 2 && ac.abort() });
    assert.deepEqual(listCheckpoints(out).map((c) => c.step), [2]);
    await assert.rejects(trainMntp({ model, data: [TEXT], output: out, maxSteps: 4, ...small }), /holds checkpoints of an earlier run \(up to checkpoint-2\); pass --resume .* or --overwrite to start over/);
    assert.deepEqual(listCheckpoints(out).map((c) => c.step), [2], "the refused run changed the checkpoints");
    await assert.rejects(trainMntp({ model, data: [TEXT], output: out, maxSteps: 4, ...small, overwrite: true, resume: out }), /exclude each other/);
    const r = await trainMntp({ model, data: [TEXT], output: out, maxSteps: 3, ...small, overwrite: true });
    assert.equal(r.steps, 3);
    assert.deepEqual(listCheckpoints(out).map((c) => c.step), [2, 3]);
    assert.ok(!fs.existsSync(path.join(out, LOCK_FILE)), "the finished run left its lock");
    await assert.rejects(trainMntp({ model, data: [TEXT], output: out, maxSteps: 3, ...small }), /holds a finished adapter already; .*--overwrite/);
  });

  it("the loop itself refuses a fresh start over earlier checkpoints (which it would prune as its own)", async () => {
    const out = fs.mkdtempSync(path.join(tmp, "loop-"));
    const a = fakeRun(out);
    await runLoop(a.setup, a.objective, a.loop);
    const b = fakeRun(out);
    await assert.rejects(runLoop(b.setup, b.objective, b.loop), /holds checkpoints of an earlier run/);
  });

  it("the loop checks its options against the loop schema, naming the flag (an unknown schedule ran as linear)", async () => {
    const out = fs.mkdtempSync(path.join(tmp, "loopopts-"));
    const a = fakeRun(out);
    await assert.rejects(runLoop(a.setup, a.objective, { ...a.loop, scheduler: "cosine" as "linear" }), /^Error: --scheduler must be linear or constant, got cosine$/);
    await assert.rejects(runLoop(a.setup, a.objective, { ...a.loop, adamBeta2: 1 }), /^Error: --adam-beta2 must be in \[0, 1\), got 1$/);
    assert.deepEqual(fs.readdirSync(out), [], "nothing written before the check");
  });

  it("checkpoint temp folders of a live writer are kept, a dead writer's removed", () => {
    const out = fs.mkdtempSync(path.join(tmp, "temps-"));
    const ck = path.join(out, "checkpoints");
    const live = path.join(ck, `.checkpoint-3.tmp-${process.pid}-abc123`);
    const dead = path.join(ck, `.checkpoint-3.tmp-${deadPid()}-def456`);
    const pruning = path.join(ck, `.checkpoint-1.tmp-${deadPid()}-deleting`);
    for (const d of [live, dead, pruning]) fs.mkdirSync(d, { recursive: true });
    removeStaleCheckpointTemps(out);
    assert.ok(fs.existsSync(live), "a live writer's temp folder was removed");
    assert.ok(!fs.existsSync(dead) && !fs.existsSync(pruning));
  });

  it("--output equal to, inside, or containing --model or an --adapter is refused (by real path)", async () => {
    const link = path.join(tmp, "model-link");
    fs.symlinkSync(model, link);
    await assert.rejects(trainMntp({ model, data: [TEXT], output: link, ...small }), /--output .* is --model .*: writing there would change or destroy an input/);
    await assert.rejects(trainMntp({ model, data: [TEXT], output: path.join(model, "run"), ...small }), /lies inside --model/);
    await assert.rejects(trainMntp({ model, data: [TEXT], output: path.dirname(model), ...small }), /contains --model/);
    await assert.rejects(trainMntp({ model, data: [TEXT], output: path.join(tmp, "interrupted", "x", "..", "."), adapter: [path.join(tmp, "interrupted")], ...small }), /is --adapter/);
    assert.ok(!fs.existsSync(path.join(model, "run")), "the refused run created its folder");
  });
});
