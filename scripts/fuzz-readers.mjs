#!/usr/bin/env node
// Long fuzz run of the file readers (the suite runs a bounded one: test/formats/fuzz.test.ts).
//   npm run build && node scripts/fuzz-readers.mjs [--seed N] [--cases N] [--only safetensors,jsonl,tokenizer]
// Each reader gets --cases mutated files (tokenizer.json a tenth as many: each build takes ~4 ms).
// Failing cases are kept as files under the printed folder; exit status 1 if there were any.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { fuzzSafetensors, fuzzJsonl, fuzzTokenizerJson } = await import(path.join(root, "dist/test/helpers/fuzz.js"));
const { storiesFolder } = await import(path.join(root, "dist/test/helpers/stories.js"));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const seed = Number(arg("seed", String(Date.now() % 1e9)));
const cases = Number(arg("cases", "50000"));
const only = arg("only", "safetensors,jsonl,tokenizer").split(",");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-fuzz-run-"));
console.log(`seed ${seed}, ${cases} cases per reader, findings kept in ${dir}`);

let total = 0;
for (const [name, run] of [
  ["safetensors", () => fuzzSafetensors(seed, cases, dir)],
  ["jsonl", () => fuzzJsonl(seed, cases, dir)],
  ["tokenizer", () => fuzzTokenizerJson(seed, Math.ceil(cases / 10), dir, storiesFolder())],
]) {
  if (!only.includes(name)) continue;
  const t0 = performance.now();
  const findings = run();
  total += findings.length;
  console.log(`${name}: ${findings.length} finding(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const f of findings.slice(0, 20)) console.log(`  case ${f.caseNo}: ${f.detail}\n    ${f.file}`);
}
if (!total) fs.rmSync(dir, { recursive: true, force: true });
process.exit(total ? 1 : 0);
