/** Task-file fields that used to be accepted and misread, and data files that are not UTF-8. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateTaskFile, loadSplit, type TaskSpec } from "../../src/eval/index.js";
import { readTextFile } from "../../src/eval/readers/text.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-evalval-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const cls: TaskSpec = {
  name: "Cls",
  type: "Classification",
  splits: {
    train: { source: { format: "emotion", path: "e.txt" }, holdout: { fraction: 0.2, seed: 1, part: "rest" } },
    test: { source: { format: "emotion", path: "e.txt" }, holdout: { fraction: 0.2, seed: 1, part: "held_out" } },
  },
  train_split: "train",
  eval_split: "test",
};
const bad = (edit: (t: any) => void): unknown => {
  const t = structuredClone(cls) as any;
  edit(t);
  return { tasks: [t] };
};

test("task files: every field is checked, and errors name the task, split and field", () => {
  validateTaskFile({ tasks: [cls] }); // the valid one passes
  const cases: [unknown, RegExp][] = [
    [bad((t) => (t.splits.test.holdout.part = "heldout")), /task #1 \(Cls\): split "test" holdout\.part must be "held_out" or "rest", got "heldout"/],
    [bad((t) => (t.params = { n_experiments: 0 })), /task #1 \(Cls\): params\.n_experiments must be a positive integer, got 0/],
    [bad((t) => (t.params = { samples_per_label: 2.5 })), /params\.samples_per_label must be a positive integer/],
    [bad((t) => (t.params = { k_values: [] })), /params\.k_values must be a non-empty list/],
    [bad((t) => delete t.splits.train.source.path), /split "train" source\.path is missing \(format "emotion" needs "path"\)/],
    [bad((t) => (t.splits.train.source = { format: "beir", corpus: "c", queries: "q" })), /source\.qrels is missing/],
    [bad((t) => (t.splits.train.source.format = "tsv")), /source\.format must be one of stsb, sick/],
    [bad((t) => (t.splits.train.holdout.seed = "1")), /holdout\.seed must be an integer/],
    [bad((t) => (t.seed = 1.5)), /seed must be an integer/],
    [{ tasks: [] }, /"tasks" is empty: nothing to evaluate/],
    [bad((t) => (t.splits.test.holdout = 0.2)), /split "test" holdout must be an object \{ fraction, seed, part \}, got 0\.2/],
    [bad((t) => (t.splits.test.holdout.fraction = 1)), /split "test" holdout\.fraction must be in \(0, 1\), got 1/],
    [bad((t) => (t.params = { C: -1 })), /task #1 \(Cls\): params\.C must be a positive number, got -1/],
    [bad((t) => (t.params = 3)), /task #1 \(Cls\): params must be an object, got 3/],
    [bad((t) => (t.instruction = 5)), /task #1 \(Cls\): instruction must be a string, got 5/],
    [bad((t) => (t.splits.train.source.granularity = "fine")), /split "train" source\.granularity is not a known field \(known: format, path\)/],
  ];
  for (const [raw, re] of cases) assert.throws(() => validateTaskFile(raw, "tasks.json"), re);
});

test("task files: a misspelt field is refused, naming the file, the task and the known fields, not ignored", () => {
  const cases: [unknown, RegExp][] = [
    [bad((t) => (t.splits.test.max_example = 50)), /^Error: tasks\.json: task #1 \(Cls\): split "test" max_example is not a known field \(known: source, holdout, max_examples, sample_seed\)$/],
    [bad((t) => (t.splits.test.holdout.parts = "rest")), /split "test" holdout\.parts is not a known field \(known: fraction, seed, part\)/],
    [bad((t) => (t.params = { n_experiment: 3 })), /task #1 \(Cls\): params\.n_experiment is not a known field/],
    [bad((t) => (t.train = "train")), /task #1 \(Cls\): train is not a known field \(known: name, type, description, instruction, splits, eval_split, train_split, seed, params, notes\)/],
    [{ tasks: [cls], note: ["x"] }, /^Error: tasks\.json: note is not a known field \(known: description, notes, tasks\)$/],
  ];
  for (const [raw, re] of cases) assert.throws(() => validateTaskFile(raw, "tasks.json"), (e: Error) => re.test(String(e)));
});

test("a data file with a byte that is not UTF-8 keeps its UTF-8 text and says so in the notes", async () => {
  const p = path.join(dir, "e.txt");
  // "café" in UTF-8 and one stray Latin-1 é (0xe9) on line 3.
  const bytes = Buffer.concat([Buffer.from("text;label_name\ncafé au lait;joy\nna"), Buffer.from([0xe9]), Buffer.from("ve;sadness\nx;joy\ny;sadness\n")]);
  fs.writeFileSync(p, bytes);
  const f = await readTextFile(p);
  assert.equal(f.encoding, "utf-8+latin1");
  assert.match(f.text, /café au lait;joy\nnaéve;sadness/, "UTF-8 kept, the stray byte read as Latin-1");
  assert.match(f.note!, /1 byte\(s\) that are not UTF-8 read as Latin-1 \(first at byte 36, line 3\)/);
  const split = await loadSplit({ ...cls, splits: { all: { source: { format: "emotion", path: "e.txt" } } }, eval_split: "all" }, "all", "labeled-texts", dir, new Map());
  assert.ok(
    split.notes.some((n) => n.includes("e.txt") && n.includes("read as Latin-1")),
    `the split's notes record it: ${JSON.stringify(split.notes)}`,
  );
  assert.equal(split.rows[0]!.text, "café au lait");
});
