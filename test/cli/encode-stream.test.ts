/**
 * `llm2vec encode` streams: chunks of lines in, rows appended to `<output>.partial`, renamed at
 * the end; Ctrl-C keeps the finished chunks and --resume continues them; an output that is the
 * input, an existing output without --overwrite and an unfinished run without --resume are
 * refused. On the real stories260K model, with small chunks.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { encodeCommand } from "../../src/cli/commands/encode.js";
import { readLines } from "../../src/io/line-reader.js";
import { readInputChunks } from "../../src/io/text-input.js";
import { storiesFolder } from "../helpers/stories.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-stream-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const words = ["Lily", "saw", "a", "big", "dog", "Tom", "ran", "to", "the", "park", "sun", "was", "warm"];
const lines = Array.from({ length: 40 }, (_, i) => Array.from({ length: 3 + (i % 7) }, (_, k) => words[(i * 5 + k * 3) % words.length]).join(" "));
const input = path.join(tmp, "in.txt");
fs.writeFileSync(input, lines.join("\n") + "\n");

function readNpy(p: string): { rows: number; data: Float32Array } {
  const b = fs.readFileSync(p);
  const hlen = b.readUInt16LE(8);
  const rows = Number(/\((\d+), 64\)/.exec(b.subarray(10, 10 + hlen).toString("latin1"))![1]);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));
  assert.equal(data.length, rows * 64, "the header's row count is the data's");
  return { rows, data };
}

describe("llm2vec encode, streamed", () => {
  const model = storiesFolder();
  const base = { model, input, progress: false, chunkTexts: 7 };

  it("encodes a chunk at a time, never more than a chunk of texts, to the same vectors as one call", async () => {
    const chunks = [...readInputChunks(input, { maxTexts: 7 })];
    assert.deepEqual(chunks.map((c) => c.rows.inputs.length), [7, 7, 7, 7, 7, 5]);
    assert.deepEqual(chunks.map((c) => c.nextLine), [8, 15, 22, 29, 36, 41]);
    const seen: number[] = [];
    const out = path.join(tmp, "all.npy");
    const r = await encodeCommand({ ...base, output: out, onChunk: (n) => seen.push(n) });
    assert.deepEqual(r, { count: 40, dim: 64 });
    assert.deepEqual(seen, [7, 14, 21, 28, 35, 40], "rows written after each chunk");
    assert.equal(fs.existsSync(out + ".partial"), false, "the partial file became the output");
    const whole = readNpy(out);
    const one = await encodeCommand({ ...base, chunkTexts: 1000, output: path.join(tmp, "one.npy") });
    assert.equal(one.count, 40);
    const ref = readNpy(path.join(tmp, "one.npy")).data;
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(ref[i]! - whole.data[i]!) < 1e-5, `value ${i}`);
  });

  it("Ctrl-C stops before the next batch, keeps the finished chunks in <output>.partial; --resume finishes it", async () => {
    for (const ext of [".npy", ".jsonl"]) {
      const out = path.join(tmp, `cut${ext}`);
      const seen: number[] = [];
      await assert.rejects(
        encodeCommand({ ...base, output: out, onChunk: (n) => (seen.push(n), n === 14 && process.emit("SIGINT")) }),
        /encode interrupted; the 14 embeddings done are kept in .*cut\.(npy|jsonl)\.partial: run again with --resume/,
      );
      assert.deepEqual(seen, [7, 14], "no chunk after the signal");
      assert.equal(fs.existsSync(out), false, "no output under its name");
      const partial = out + ".partial";
      if (ext === ".npy") assert.equal(readNpy(partial).rows, 14, "a valid .npy of the rows done");
      else assert.deepEqual(fs.readFileSync(partial, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { index: number }).index), [...Array(14).keys()]);
      // Without --resume (or --overwrite) the unfinished run is not clobbered.
      await assert.rejects(encodeCommand({ ...base, output: out }), /cut\.(npy|jsonl)\.partial holds the rows of an interrupted run; pass --resume to continue it, or --overwrite/);
      const resumed: number[] = [];
      const r = await encodeCommand({ ...base, output: out, resume: true, onChunk: (n) => resumed.push(n) });
      assert.deepEqual(r.count, 40);
      assert.deepEqual(resumed, [21, 28, 35, 40], "only the rest was encoded");
      assert.equal(fs.existsSync(partial), false);
      if (ext === ".npy") assert.deepEqual(readNpy(out).data, readNpy(path.join(tmp, "all.npy")).data, "the same rows as an uninterrupted run");
      else assert.deepEqual(fs.readFileSync(out, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { index: number }).index), [...Array(40).keys()]);
    }
  });

  it("--resume refuses a partial file of other settings or of an input whose done lines changed", async () => {
    const own = path.join(tmp, "own.txt");
    fs.copyFileSync(input, own);
    const out = path.join(tmp, "r.npy");
    const o = { ...base, input: own, output: out };
    await assert.rejects(encodeCommand({ ...o, onChunk: (n) => n === 7 && process.emit("SIGINT") }), /interrupted/);
    await assert.rejects(encodeCommand({ ...o, resume: true, normalize: true }), /--resume: .*r\.npy\.partial was written with other settings \(.*normalize.*\)/);
    fs.writeFileSync(own, "changed\n" + lines.slice(1).join("\n") + "\n");
    await assert.rejects(encodeCommand({ ...o, resume: true }), /--resume: .*r\.npy\.partial was written from other input: the first 7 lines of .*own\.txt changed/);
    const r = await encodeCommand({ ...o, overwrite: true });
    assert.equal(r.count, 40);
  });

  it("refuses an --output that is the --input (by real path), an existing output without --overwrite, and --overwrite of a folder", async () => {
    const jsonl = path.join(tmp, "same.jsonl");
    fs.writeFileSync(jsonl, '{"text": "Lily saw a dog."}\n');
    const link = path.join(tmp, "link.jsonl");
    fs.symlinkSync(jsonl, link);
    for (const output of [jsonl, link])
      await assert.rejects(encodeCommand({ ...base, input: jsonl, output }), /--output .*(same|link)\.jsonl is the --input file .*same\.jsonl .*would destroy the input/);
    await assert.rejects(encodeCommand({ ...base, input: jsonl, output: link, overwrite: true }), /is the --input file/);
    assert.equal(fs.readFileSync(jsonl, "utf8"), '{"text": "Lily saw a dog."}\n', "the input is intact");
    const out = path.join(tmp, "exists.npy");
    fs.writeFileSync(out, "keep me");
    await assert.rejects(encodeCommand({ ...base, output: out }), /exists\.npy already exists; pass --overwrite to replace it/);
    assert.equal(fs.readFileSync(out, "utf8"), "keep me");
    assert.equal((await encodeCommand({ ...base, output: out, overwrite: true })).count, 40);
    const dir = path.join(tmp, "dir.npy");
    fs.mkdirSync(dir);
    await assert.rejects(encodeCommand({ ...base, output: dir, overwrite: true }), /cannot write .*dir\.npy: it is a directory \(--overwrite replaces files, not folders\)/);
  });
});

describe("reading lines in chunks", () => {
  it("an input over 512 MB is read line by line (it was refused as 'not valid UTF-8'), holding one line at a time", () => {
    // Sparse: 9 lines of 64 MiB of NUL bytes (valid UTF-8) cost no disk and little time.
    const big = path.join(tmp, "big.txt");
    const fd = fs.openSync(big, "w");
    const LINE = 64 << 20;
    for (let i = 1; i <= 9; i++) fs.writeSync(fd, Buffer.from("\n"), 0, 1, i * LINE - 1);
    fs.closeSync(fd);
    assert.ok(fs.statSync(big).size > 512 << 20);
    let n = 0;
    for (const line of readLines(big)) {
      n++;
      assert.equal(line.text.length, LINE - 1);
      assert.equal(line.end, n * LINE);
    }
    assert.equal(n, 9);
    fs.rmSync(big);
  });

  it("a line over the string limit is refused with the real reason; bad UTF-8 names line and offset", () => {
    const p = path.join(tmp, "lines.txt");
    fs.writeFileSync(p, "short\n" + "x".repeat(5000) + "\nafter\n");
    assert.throws(() => [...readLines(p, { maxLineBytes: 4096, chunkBytes: 1000 })], /lines\.txt:2: line longer than 4096 bytes: each line is one text, and one text must fit in a JavaScript string \(at most \d+ characters\)/);
    fs.writeFileSync(p, Buffer.concat([Buffer.from("\ufeffok\r\nab"), Buffer.from([0xff]), Buffer.from("\n")]));
    assert.throws(() => [...readLines(p, { chunkBytes: 3 })], /lines\.txt:2: not valid UTF-8 \(byte offset 9\)/);
    fs.writeFileSync(p, "\ufeffone\r\ntwo\n\nthree");
    assert.deepEqual([...readLines(p, { chunkBytes: 2 })].map((l) => l.text), ["one", "two", "", "three"]);
  });
});
