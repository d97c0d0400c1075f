/** `llm2vec eval` end to end: the real stories260K encoder on tiny fixture tasks of every type. */
import { it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compareCommand } from "../../src/cli/commands/compare.js";
import { evalCommand } from "../../src/cli/commands/eval.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

/** Main scores of the real stories260K (bidirectional, mean) on the fixture tasks. */
const PINNED: Record<string, number> = {
  TinySTS: 60, // Spearman ×100 of 4 pairs: ranks off by one swap
  TinyPairs: 83.33333333333333,
  TinyRetrieval: 100,
  TinyClassification: 87.5, // 7 of 8 predictions over 2 experiments
  TinyClustering: 28.434882901039227,
  TinyPOS: 100,
};

const TASKS = {
  tasks: [
    { name: "TinySTS", type: "STS", instruction: "Retrieve semantically similar text:", splits: { dev: { source: { format: "stsb", path: "stsb.csv" } } }, eval_split: "dev" },
    { name: "TinyPairs", type: "PairClassification", splits: { train: { source: { format: "mrpc", path: "mrpc.txt" } } }, eval_split: "train" },
    {
      name: "TinyRetrieval",
      type: "Retrieval",
      instruction: "Given a query, retrieve documents:",
      splits: { test: { source: { format: "beir", corpus: "corpus.jsonl", queries: "queries.jsonl", qrels: "qrels.tsv" } } },
      eval_split: "test",
    },
    {
      name: "TinyClassification",
      type: "Classification",
      splits: { train: { source: { format: "emotion", path: "emotion-train.txt" } }, val: { source: { format: "emotion", path: "emotion-val.txt" } } },
      train_split: "train",
      eval_split: "val",
      params: { n_experiments: 2, samples_per_label: 2 },
    },
    { name: "TinyClustering", type: "Clustering", splits: { all: { source: { format: "emotion", path: "emotion-train.txt" } } }, eval_split: "all", params: { n_runs: 2, batch_size: 4 } },
    {
      name: "TinyPOS",
      type: "WordProbe",
      splits: { train: { source: { format: "conll2003", path: "conll.txt" } }, test: { source: { format: "conll2003", path: "conll.txt" } } },
      train_split: "train",
      eval_split: "test",
      params: { label: "pos" },
    },
  ],
};

it("evaluates every task type and writes JSON, summary.md and report.html", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-eval-"));
  try {
    const taskFile = path.join(tmp, "tasks.json");
    fs.writeFileSync(taskFile, JSON.stringify(TASKS));
    const out = path.join(tmp, "results");
    const r = await evalCommand({ model: storiesFolder(), tasks: taskFile, data: path.join(FIXTURES, "eval"), output: out, progress: false, wordShift: true });
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.results.map((x) => x.task_name), TASKS.tasks.map((t) => t.name));
    for (const t of TASKS.tasks) {
      const json = JSON.parse(fs.readFileSync(path.join(out, `${t.name}.json`), "utf8"));
      const main = (Object.values(json.scores)[0] as { main_score: number }[])[0]!.main_score;
      // Pinned on these tiny inputs (same on the native and the reference backend): a range check
      // alone passed whatever the metric returned.
      assert.ok(Math.abs(main - PINNED[t.name]!) < 1e-6, `${t.name}: main score ${main}, pinned ${PINNED[t.name]}`);
    }
    assert.match(fs.readFileSync(path.join(out, "summary.md"), "utf8"), /stories260K \(bidirectional, mean pooling\)/);
    assert.match(fs.readFileSync(path.join(out, "report.html"), "utf8"), /<svg/);
    await assert.rejects(evalCommand({ model: storiesFolder(), tasks: taskFile, task: ["Nope"], output: out, progress: false }), /unknown task\(s\): Nope/);
    // A causal run of two tasks next to the full bidirectional one: averages use shared tasks only.
    const causal = path.join(tmp, "causal");
    await evalCommand({ model: storiesFolder(), tasks: taskFile, task: ["TinySTS", "TinyPairs"], causal: true, data: path.join(FIXTURES, "eval"), output: causal, progress: false });
    const cmp = compareCommand({ results: [causal, out], label: ["causal", "bi"], output: tmp });
    assert.match(cmp.markdown, /\| task \| type \| causal \| bi \|/);
    assert.match(cmp.markdown, /\| TinyRetrieval \| Retrieval \| — \| \d+\.\d\d \|/);
    assert.match(cmp.markdown, /average\*\* \(2 shared tasks\)/);
    assert.match(fs.readFileSync(path.join(tmp, "comparison.html"), "utf8"), /<svg[\s\S]*causal · TinySTS/);
    assert.throws(() => compareCommand({ results: [path.join(tmp, "missing")] }), /results folder does not exist/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

it("the default task file is the package's, whatever the working directory; no --data and no LLM2VEC_DATA says what to pass", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-eval-cwd-"));
  const cwd = process.cwd();
  const saved = process.env.LLM2VEC_DATA;
  delete process.env.LLM2VEC_DATA;
  process.chdir(tmp);
  try {
    // An unknown --task lists the tasks of the file that was loaded: dev-tasks.json's, found from the package.
    await assert.rejects(evalCommand({ model: storiesFolder(), task: ["Nope"], data: tmp, output: path.join(tmp, "r") }), /unknown task\(s\): Nope \(known: .*STS/);
    await assert.rejects(evalCommand({ model: storiesFolder(), output: path.join(tmp, "r") }), /no data root: pass --data DIR .* or set LLM2VEC_DATA/);
  } finally {
    process.chdir(cwd);
    if (saved !== undefined) process.env.LLM2VEC_DATA = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
