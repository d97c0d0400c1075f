import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EncodeInput, TextEncoder, WordFeatureEncoder } from "../../src/eval/encoder-interface.js";
import { resolveDataRoot, runEvaluation, selectTasks, validateTaskFile, type TaskSpec } from "../../src/eval/index.js";

const ROOT = fileURLToPath(new URL("../../../test/fixtures/eval/", import.meta.url));

/** Deterministic fake encoder: 26-dim letter counts of the text (instruction ignored, recorded). */
function bagOfChars(text: string): Float32Array {
  const v = new Float32Array(27);
  for (const ch of text.toLowerCase()) {
    const c = ch.charCodeAt(0) - 97;
    if (c >= 0 && c < 26) v[c] = (v[c] as number) + 1;
  }
  v[26] = 1; // never all-zero
  return v;
}

class FakeEncoder implements TextEncoder {
  seen: EncodeInput[] = [];
  async encode(inputs: EncodeInput[], opts?: { onProgress?: (d: number, t: number) => void }): Promise<Float32Array[]> {
    this.seen.push(...inputs);
    opts?.onProgress?.(inputs.length, inputs.length);
    return inputs.map((x) => bagOfChars(typeof x === "string" ? x : x[1]));
  }
}

const fakeWords: WordFeatureEncoder = {
  async wordFeatures(sentences) {
    return sentences.map((ws) => ws.map((w) => bagOfChars(w)));
  },
};

const TASKS: TaskSpec[] = [
  { name: "TinySTS", type: "STS", instruction: "Retrieve semantically similar text:", splits: { dev: { source: { format: "stsb", path: "stsb.csv" } } }, eval_split: "dev" },
  { name: "TinyPairs", type: "PairClassification", instruction: "Find paraphrases:", splits: { train: { source: { format: "mrpc", path: "mrpc.txt" } } }, eval_split: "train" },
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
    instruction: "Classify the emotion:",
    splits: {
      train: { source: { format: "emotion", path: "emotion-train.txt" } },
      val: { source: { format: "emotion", path: "emotion-val.txt" }, max_examples: 3 },
    },
    train_split: "train",
    eval_split: "val",
    params: { n_experiments: 3, samples_per_label: 2 },
  },
  {
    name: "TinyClustering",
    type: "Clustering",
    splits: { all: { source: { format: "emotion", path: "emotion-train.txt" }, holdout: { fraction: 0.5, seed: 1, part: "rest" } } },
    eval_split: "all",
    params: { n_runs: 2, batch_size: 4 },
  },
  {
    name: "TinyNER",
    type: "WordProbe",
    splits: { train: { source: { format: "conll2003", path: "conll.txt" } }, test: { source: { format: "conll2003", path: "conll.txt" } } },
    train_split: "train",
    eval_split: "test",
    params: { label: "ner" },
  },
];

test("runEvaluation writes MTEB-style JSON, summary.md and report.html", async () => {
  const out = await mkdtemp(join(tmpdir(), "eval-runner-"));
  try {
    const enc = new FakeEncoder();
    const events: string[] = [];
    const r = await runEvaluation({
      encoder: enc,
      wordEncoder: fakeWords,
      tasks: TASKS,
      dataRoot: ROOT,
      outputDir: out,
      modelName: "bag-of-chars",
      onProgress: (e) => events.push(`${e.task}:${e.phase}`),
    });
    assert.deepEqual(r.failed, []);
    assert.equal(r.results.length, TASKS.length);
    const files = (await readdir(out)).sort();
    for (const t of TASKS) assert.ok(files.includes(`${t.name}.json`), `missing ${t.name}.json`);
    assert.ok(files.includes("summary.md") && files.includes("report.html"));
    assert.ok(!files.some((f) => f.endsWith(".tmp")), "no temp files left behind");

    const sts = JSON.parse(await readFile(join(out, "TinySTS.json"), "utf8"));
    assert.equal(sts.task_name, "TinySTS");
    const s = sts.scores.dev[0];
    assert.equal(s.hf_subset, "default");
    assert.deepEqual(s.languages, ["eng-Latn"]);
    assert.equal(s.main_score, s.cosine_spearman);
    // Bag-of-chars cosines rank the 4 pairs exactly as the gold scores do: Spearman 1.
    assert.equal(s.main_score, 100);
    assert.equal(typeof sts.evaluation_time, "number");

    const ret = JSON.parse(await readFile(join(out, "TinyRetrieval.json"), "utf8"));
    const rs = ret.scores.test[0];
    assert.equal(rs.main_score, rs.ndcg_at_10);
    assert.ok("map_at_100" in rs && "recall_at_100" in rs);
    assert.equal(ret.stats.queries_without_qrels, 1); // q3 has no qrels: excluded
    assert.equal(ret.stats.queries_without_relevant, 0);
    // queries carry the instruction, corpus docs none
    assert.ok(enc.seen.some((x) => Array.isArray(x) && x[0] === "Given a query, retrieve documents:" && x[1] === "do cats purr"));
    assert.ok(enc.seen.some((x) => x === "Cats cats purr and sleep"));

    const cls = JSON.parse(await readFile(join(out, "TinyClassification.json"), "utf8"));
    assert.equal(cls.scores.val[0].scores_per_experiment.length, 3);
    // 8 of the 9 predictions (3 experiments × 3 capped examples) are right.
    assert.ok(Math.abs(cls.scores.val[0].main_score - 800 / 9) < 1e-9, `classification ${cls.scores.val[0].main_score}`);
    for (const name of ["TinyPairs", "TinyRetrieval", "TinyClustering", "TinyNER"]) {
      const j = JSON.parse(await readFile(join(out, `${name}.json`), "utf8"));
      assert.equal((Object.values(j.scores)[0] as { main_score: number }[])[0]!.main_score, 100, `${name}: separable by letter counts`);
    }
    assert.deepEqual(cls.caps, { "val.max_examples": 3 });
    assert.ok(cls.notes.some((n: string) => n.includes("capped to 3 of 4")));

    const ner = JSON.parse(await readFile(join(out, "TinyNER.json"), "utf8"));
    assert.equal(ner.stats.eval_tokens, 6);

    const md = await readFile(join(out, "summary.md"), "utf8");
    assert.match(md, /\| task \| type \| split \|/);
    for (const t of TASKS) assert.match(md, new RegExp(`\\| ${t.name} \\|`));
    const html = await readFile(join(out, "report.html"), "utf8");
    assert.match(html, /<svg[^>]*>/);
    assert.match(html, /<rect /);
    assert.doesNotMatch(html, /(src|href)="http/);
    assert.ok(events.length > 0);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("runs are deterministic", async () => {
  const a = await mkdtemp(join(tmpdir(), "eval-a-"));
  const b = await mkdtemp(join(tmpdir(), "eval-b-"));
  try {
    const ra = await runEvaluation({ encoder: new FakeEncoder(), tasks: TASKS.slice(3, 5), dataRoot: ROOT, outputDir: a });
    const rb = await runEvaluation({ encoder: new FakeEncoder(), tasks: TASKS.slice(3, 5), dataRoot: ROOT, outputDir: b });
    assert.deepEqual(
      ra.results.map((r) => r.scores),
      rb.results.map((r) => r.scores),
    );
  } finally {
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
});

test("missing split, missing word encoder and bad data are reported clearly", async () => {
  assert.throws(
    () => validateTaskFile({ tasks: [{ ...TASKS[0], eval_split: "test" }] }),
    /eval_split "test" is not a defined split \(defined: dev\)/,
  );
  const out = await mkdtemp(join(tmpdir(), "eval-fail-"));
  try {
    const bad: TaskSpec = { name: "BadSTS", type: "STS", splits: { dev: { source: { format: "stsb", path: "stsb-bad.csv" } } }, eval_split: "dev" };
    const r = await runEvaluation({ encoder: new FakeEncoder(), tasks: [bad, TASKS[5] as TaskSpec], dataRoot: ROOT, outputDir: out });
    assert.equal(r.results.length, 0);
    assert.match(r.failed[0]?.error ?? "", /stsb-bad\.csv:2: /);
    assert.match(r.failed[1]?.error ?? "", /skipped: no WordFeatureEncoder/);
    const md = await readFile(join(out, "summary.md"), "utf8");
    assert.match(md, /BadSTS/);
    await assert.rejects(
      runEvaluation({ encoder: new FakeEncoder(), tasks: [bad], dataRoot: ROOT, outputDir: out, failFast: true }),
      /malformed/,
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("data root and task selection helpers", () => {
  assert.throws(() => resolveDataRoot(undefined, {}), /no data root: pass --data DIR .* or set LLM2VEC_DATA/);
  assert.throws(() => resolveDataRoot(undefined, { LLM2VEC_DATA: "" }), /no data root/);
  assert.match(resolveDataRoot(undefined, { LLM2VEC_DATA: "/x/y" }), /[\\/]x[\\/]y$/);
  assert.match(resolveDataRoot("/flag", { LLM2VEC_DATA: "/x/y" }), /[\\/]flag$/);
  assert.deepEqual(
    selectTasks(TASKS, ["TinySTS"]).map((t) => t.name),
    ["TinySTS"],
  );
  assert.throws(() => selectTasks(TASKS, ["Nope"]), /unknown task/);
});

test("tasks/dev-tasks.json is a valid task file", async () => {
  const path = fileURLToPath(new URL("../../../tasks/dev-tasks.json", import.meta.url));
  const file = validateTaskFile(JSON.parse(await readFile(path, "utf8")), path);
  assert.ok(file.tasks.length >= 12);
  for (const t of file.tasks) for (const s of Object.values(t.splits)) assert.ok(s.source.format);
});
