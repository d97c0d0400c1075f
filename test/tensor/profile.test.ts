/**
 * The opt-in per-op profile (src/tensor/backend/profile.ts): counts and times each kernel call by
 * op kind without changing any result, keys GEMMs by shape, wraps the backend once however often
 * it is started, and with LLM2VEC_PROFILE=1 prints its table when the process exits.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { backend, setBackend } from "../../src/tensor/backend/index.js";
import { profileReport, profileTable, startProfile } from "../../src/tensor/backend/profile.js";
import * as ops from "../../src/tensor/ops/index.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { randn } from "../helpers/rng.js";

it("counts kernel calls by op, GEMMs by shape, without changing results", () => {
  const x = new Tensor(randn(6 * 32, 1), [6, 32]);
  const w = new Tensor(randn(16 * 32, 2), [16, 32]);
  const nw = new Tensor(randn(32, 3), [32]);
  const run = () => Float32Array.from(ops.matmul(ops.rmsnorm(x, nw, 1e-5), w, { transB: true }).f32);
  const plain = run();
  const prev = backend();
  try {
    startProfile();
    startProfile(); // a second start resets the counters, it does not wrap twice
    const wrapped = backend();
    assert.equal(wrapped.name, prev.name, "the wrapper keeps the backend's name");
    for (const [key, fn] of Object.entries(prev)) if (typeof fn === "function") assert.equal(typeof (wrapped as unknown as Record<string, unknown>)[key], "function", `the wrapper drops ${key}`);
    assert.deepEqual(run(), plain);
    run();
    assert.equal(backend(), wrapped);
    const rows = profileReport({ totalMs: 1e6 });
    const byOp = new Map(rows.map((r) => [r.op, r]));
    assert.equal(byOp.get("rmsnormForward")?.calls, 2);
    const g = byOp.get("gemm 6×16×32 Bᵀ");
    assert.equal(g?.calls, 2, `GEMM row missing: ${[...byOp.keys()].join(", ")}`);
    assert.ok(g!.gflops! > 0 && byOp.get("rmsnormForward")!.gbs! > 0, JSON.stringify(rows));
    assert.equal(rows.at(-1)!.op, "outside kernels");
    assert.match(profileTable(rows), /\| gemm 6×16×32 Bᵀ \| 2 \|/);
  } finally {
    setBackend(prev);
  }
});

it("LLM2VEC_PROFILE=1 prints the table at exit", () => {
  const script = `import("${fileURLToPath(new URL("../../src/tensor/ops/index.js", import.meta.url))}").then(async (ops) => {
    const { Tensor } = await import("${fileURLToPath(new URL("../../src/tensor/tensor.js", import.meta.url))}");
    ops.add(new Tensor(new Float32Array(8).fill(1), [8]), new Tensor(new Float32Array(8).fill(2), [8]));
  });`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, LLM2VEC_PROFILE: "1" }, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /llm2vec profile \(LLM2VEC_PROFILE=1, \w+ backend\):\n\| op \| calls \| ms \| share \| GFLOP\/s or GB\/s \|/);
  assert.match(r.stderr, /\| add \| 1 \|/);
});
