/**
 * The native GEMM gives the same bits on one thread and on several, for the shapes whose work is
 * split differently across threads: a big product (rows and columns shared out), a small output
 * over a long K (K slices) and few-row products (columns shared out, ragged N). Training results
 * then do not change with LLM2VEC_THREADS.
 * Each thread count needs its own process: the pool's size is fixed when the addon loads.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const backendModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/tensor/backend/native.js");

const script = `
import { loadNativeBackend } from ${JSON.stringify(backendModule)};
import { createHash } from "node:crypto";
const { backend: b, error } = loadNativeBackend();
if (!b) { console.log("SKIP " + error); process.exit(0); }
let seed = 7;
const rnd = (n) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5);
const h = createHash("sha256");
for (const [M, N, K, tA, tB] of [[16, 64, 8192, true, false], [172, 16, 8192, true, false], [300, 200, 500, false, true], [1, 3001, 1027, false, true], [16, 1001, 515, false, false], [7, 2003, 601, true, true]]) {
  const A = rnd(M * K), B = rnd(K * N), C = new Float32Array(M * N);
  b.gemm({ batch: 1, M, N, K, transA: tA, transB: tB, A, lda: tA ? M : K, strideA: 0, B, bDtype: "f32", ldb: tB ? K : N, strideB: 0, C, ldc: N, strideC: 0, alpha: 1, beta: 0 });
  h.update(Buffer.from(C.buffer));
}
console.log(h.digest("hex"));
`;

function digest(threads: number): string {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, LLM2VEC_THREADS: String(threads) }, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test("native gemm: the same bits on 1 and 2 threads", (t) => {
  const one = digest(1);
  if (one.startsWith("SKIP")) return t.skip(one);
  assert.match(one, /^[0-9a-f]{64}$/);
  assert.equal(digest(2), one);
  assert.equal(digest(3), one);
});
