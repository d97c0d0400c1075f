import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  DataFormatError,
  parseDelimited,
  readBanking77,
  readBeir,
  readBeirCorpus,
  readConll2003,
  readCranfield,
  readEmotion,
  readMrpc,
  readSick,
  readSst2,
  readStsBenchmark,
  readTrec,
} from "../../src/eval/readers/index.js";

// dist/test/eval -> repo root -> test/fixtures/eval
const F = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/eval/${name}`, import.meta.url));

async function rejectsWithLines(p: Promise<unknown>, lines: number[]) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, String(e));
    assert.deepEqual(
      e.issues.map((i) => i.line),
      lines,
    );
    for (const l of lines) assert.match(e.message, new RegExp(`:${l}: `));
    return true;
  });
}

test("STS-B: 7 or 9 columns accepted, malformed lines reported with line numbers", async () => {
  const rows = await readStsBenchmark(F("stsb.csv"));
  assert.equal(rows.length, 4);
  assert.deepEqual(rows[2], { sentence1: "Stocks fell on Monday.", sentence2: "Markets dropped on Monday.", score: 3.2, line: 3 });
  await rejectsWithLines(readStsBenchmark(F("stsb-bad.csv")), [2, 3]);
});

test("SICK keeps literal quotes; MRPC strips the BOM from the header", async () => {
  const sick = await readSick(F("sick.txt"));
  assert.equal(sick[1]?.sentence1, 'A girl eats "pizza');
  assert.equal(sick[1]?.line, 3);
  const mrpc = await readMrpc(F("mrpc.txt"));
  assert.deepEqual(
    mrpc.map((r) => r.label),
    [1, 0, 1, 0],
  );
  assert.match(mrpc[0]?.sentence1 ?? "", /" profits rose "/);
});

test("CSV with quotes, doubled quotes, and unterminated quote", async () => {
  const rows = await readBanking77(F("banking.csv"), F("categories.json"));
  assert.deepEqual(
    rows.map((r) => r.text),
    ["I am still waiting on my card?", "Is it lost, or just late?", 'He said "hi" to me'],
  );
  assert.throws(
    () => parseDelimited('a,b\n"open,x\n', "mem.csv", { delimiter: ",", quoting: true }),
    (e: unknown) => e instanceof DataFormatError && e.issues[0]?.line === 2,
  );
});

test("Emotion, TREC, SST-2: bad lines are errors with line numbers", async () => {
  await rejectsWithLines(readEmotion(F("emotion-bad.txt")), [4]);
  await rejectsWithLines(readTrec(F("trec-bad.label")), [3]);
  const sst = await readSst2(F("sst2.txt"));
  assert.deepEqual(
    sst.map((r) => [r.text, r.label]),
    [
      ["a fine film", "1"],
      ["a dull mess", "0"],
    ],
  );
});

test("CoNLL-2003: sentences, DOCSTART skipped and counted, bad column count reported", async () => {
  const { sentences, docstarts } = await readConll2003(F("conll.txt"));
  assert.equal(docstarts, 1);
  assert.equal(sentences.length, 2);
  assert.deepEqual(sentences[0]?.tokens, ["EU", "rejects", "German", "."]);
  assert.deepEqual(sentences[1]?.tags.ner, ["B-PER", "I-PER"]);
  await rejectsWithLines(readConll2003(F("conll-bad.txt")), [1]);
});

test("Cranfield: queries numbered by position, grades mapped, CRLF handled", async () => {
  const c = await readCranfield({ docs: F("cran.all"), queries: F("cran.qry"), qrels: F("cranqrel") });
  assert.deepEqual([...c.queries.keys()], ["1", "2"]);
  assert.equal(c.queryDotI.get("2"), "004");
  assert.equal(c.queries.get("1"), "what is the lift on a wing in a slipstream .");
  assert.deepEqual(c.qrels, { "1": { "1": 5, "3": 1 }, "2": { "2": 5, "1": 3 } });
  assert.equal(c.corpus.get("3")?.text, "");
  assert.ok(c.notes.some((n) => n.includes("empty .W")));
  const dropped = await readCranfield({ docs: F("cran.all"), queries: F("cran.qry"), qrels: F("cranqrel"), sourceDocGrade: null });
  assert.deepEqual(dropped.qrels, { "1": { "3": 1 }, "2": { "1": 3 } });
  await rejectsWithLines(readCranfield({ docs: F("cran.all"), queries: F("cran.qry"), qrels: F("cranqrel-bad") }), [1]);
});

test("BEIR: corpus/queries/qrels, unknown ids are errors or counted warnings", async () => {
  const d = await readBeir({ corpus: F("corpus.jsonl"), queries: F("queries.jsonl"), qrels: F("qrels.tsv") });
  assert.equal(d.corpus.get("d3")?.title, "");
  assert.deepEqual(d.qrels, { q1: { d1: 2 }, q2: { d2: 1, d3: 0 } });
  await assert.rejects(
    readBeir({ corpus: F("corpus.jsonl"), queries: F("queries.jsonl"), qrels: F("qrels-unknown.tsv") }),
    /1 unknown query id.*1 judgement\(s\) of unknown doc/,
  );
  const w = await readBeir({ corpus: F("corpus.jsonl"), queries: F("queries.jsonl"), qrels: F("qrels-unknown.tsv"), unknownIds: "warn" });
  assert.equal(w.notes.length, 1);
  assert.equal(w.qrels.q1?.d9, 1);
  await rejectsWithLines(readBeirCorpus(F("corpus-bad.jsonl")), [2, 3]);
});

test("missing file gives a clear error", async () => {
  await assert.rejects(readSst2(F("nope.txt")), /data file not found: .*nope\.txt/);
});
