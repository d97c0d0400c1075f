/**
 * setMmapThreshold (src/tensor/backend/native.ts): the server's model worker makes large C
 * allocations mappings of their own. On glibc (the CI's Linux) it is set; a bad size is a RangeError.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadNativeBackend, setMmapThreshold } from "../../src/tensor/backend/native.js";

const glibc = process.platform === "linux" && Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime);

test("setMmapThreshold sets glibc's threshold and checks its argument", () => {
  assert.throws(() => setMmapThreshold(-1), /setMmapThreshold: bytes must be an integer/);
  assert.throws(() => setMmapThreshold(1.5), /setMmapThreshold: bytes must be an integer/);
  if (!loadNativeBackend().backend) return;
  assert.equal(setMmapThreshold(256 * 1024), glibc, glibc ? "set on glibc" : "not available without glibc");
  // Large blocks still work (and are freed) after it.
  const big = new Float32Array(1 << 20).fill(1);
  assert.equal(big[big.length - 1], 1);
});
