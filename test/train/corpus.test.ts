/** The MNTP/SimCSE corpus reader reads line by line: bad UTF-8 is named by line, large files are not one string. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readCorpus } from "../../src/train/data/corpus.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-corpus-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

test("bad UTF-8 in a training file is reported with its line and byte offset", () => {
  const p = path.join(tmp, "bad.txt");
  fs.writeFileSync(p, Buffer.concat([Buffer.from("one\r\n\ntwo\nthr"), Buffer.from([0xc3, 0x28]), Buffer.from("ee\n")]));
  assert.throws(() => readCorpus([p]), /bad\.txt:4: not valid UTF-8 \(byte offset 13\)/);
  const j = path.join(tmp, "bad.jsonl");
  fs.writeFileSync(j, Buffer.concat([Buffer.from('{"text": "a"}\n{"text": "'), Buffer.from([0xff]), Buffer.from('"}\n')]));
  assert.throws(() => readCorpus([j]), /bad\.jsonl:2: not valid UTF-8/);
});

test("documents keep their file:line sources, blank lines skipped, CRLF and a missing final newline handled", () => {
  const p = path.join(tmp, "ok.txt");
  fs.writeFileSync(p, "\ufeffone\r\n\n  \ntwo\nthree");
  assert.deepEqual(readCorpus([p]).map((d) => [d.text, d.source.slice(tmp.length + 1)]), [
    ["one", "ok.txt:1"],
    ["two", "ok.txt:4"],
    ["three", "ok.txt:5"],
  ]);
});
