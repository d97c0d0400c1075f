import assert from "node:assert/strict";
import { test } from "node:test";
import { printTable, selectSections } from "../../bench/common.js";

const KNOWN = ["gemm", "qwen3", "llama3-8b"];

test("npm run bench: an opt-in section runs only when named in --only or asked for", () => {
  assert.deepEqual(selectSections([], KNOWN, { "llama3-8b": false }), ["gemm", "qwen3"]);
  assert.deepEqual(selectSections(["--llama3-8b"], KNOWN, { "llama3-8b": true }), KNOWN);
  assert.deepEqual(selectSections(["--only", "llama3-8b"], KNOWN, { "llama3-8b": false }), ["llama3-8b"]);
  assert.deepEqual(selectSections(["--only", "gemm,qwen3"], KNOWN, { "llama3-8b": true }), ["gemm", "qwen3"]);
});

test("npm run bench: --only refuses an unknown or missing section, naming the flag", () => {
  assert.throws(() => selectSections(["--only", "gemm,llama8"], KNOWN, {}), /--only: unknown section llama8 \(known: gemm, qwen3, llama3-8b\)/);
  assert.throws(() => selectSections(["--only"], KNOWN, {}), /--only: no section named/);
});

test("bench tables: a row without a competitor prints dashes, not NaN", (t) => {
  t.mock.method(console, "log", () => {});
  const text = printTable("t", [{ name: "int8 MNTP step", ours_ms: 1234.56, competitor: "—", competitor_ms: NaN, ratio: NaN, note: "n" }]);
  assert.match(text, /\| int8 MNTP step \| 1234\.6 \| — \| — \| — \| n \|/);
  assert.doesNotMatch(text, /NaN/);
});
