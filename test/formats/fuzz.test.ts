/**
 * A bounded, seeded fuzz run of the file readers (helpers/fuzz.ts): a few thousand mutated
 * safetensors, JSONL and tokenizer.json files, each accepted and usable or refused with an
 * Error naming the file. `node scripts/fuzz-readers.mjs` runs the same fuzzers for longer.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fuzzJsonl, fuzzSafetensors, fuzzTokenizerJson, type Finding } from "../helpers/fuzz.js";
import { storiesFolder } from "../helpers/stories.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-fuzz-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const report = (f: Finding[]) => f.slice(0, 5).map((x) => `${x.reader} case ${x.caseNo}: ${x.detail}`).join("\n");

test("fuzz: 2000 mutated safetensors files", () => {
  const f = fuzzSafetensors(20261201, 2000, dir);
  assert.equal(f.length, 0, report(f));
});

test("fuzz: 1500 mutated JSONL input files", () => {
  const f = fuzzJsonl(7, 1500, dir);
  assert.equal(f.length, 0, report(f));
});

test("fuzz: 400 mutated tokenizer.json files", () => {
  const f = fuzzTokenizerJson(11, 400, dir, storiesFolder());
  assert.equal(f.length, 0, report(f));
});
