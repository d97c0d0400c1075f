/**
 * The encode benches compare embeddings across processes: minRowCosine (bench/common.ts) over two
 * row dumps, and the PyTorch competitor's --bench-ids (torch_common.bench_ids) drawing the same ids
 * as benchIds, without which its cosine against ours would compare different inputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { benchIds, minRowCosine, ROOT } from "../../bench/common.js";

test("minRowCosine: smallest per-row cosine over the rows both dumps hold", () => {
  const a = new Float32Array([1, 0, 0, 1, 3, 4]);
  const b = new Float32Array([2, 0, 1, 1]); // two rows: cosines 1 and √½
  assert.ok(Math.abs(minRowCosine(a, b, 2) - Math.SQRT1_2) < 1e-7);
  assert.equal(minRowCosine(a, a, 2), 1);
  assert.ok(Number.isNaN(minRowCosine(new Float32Array([0, 0]), new Float32Array([1, 0]), 2)), "a zero row is not reported as a match");
  assert.throws(() => minRowCosine(a, b, 4), /are not rows of 4/);
  assert.throws(() => minRowCosine(new Float32Array(0), b, 2), /no rows/);
});

test("the PyTorch competitor's --bench-ids draws benchIds' ids", (t) => {
  const code = "import sys, json; sys.path.insert(0, sys.argv[1]); import torch_common; print(json.dumps(torch_common.bench_ids(3, 7, 32000)))";
  const r = spawnSync("python3", ["-c", code, path.join(ROOT, "bench/competitors")], { encoding: "utf8" });
  if (r.error) return t.skip("no python3");
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), benchIds(3, 7, 32000));
});
