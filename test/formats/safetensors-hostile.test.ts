/**
 * Hostile safetensors inputs the reader once accepted, hung on, or failed on without naming
 * anything: duplicated inner keys, a byte-order mark, deeply nested headers, tensors of 2 GiB or
 * more, FIFOs and directories where a file belongs.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { writeAll } from "../../src/formats/atomic.js";
import { openWeights } from "../../src/formats/hf-folder.js";
import { writeSafetensors } from "../../src/formats/safetensors-write.js";
import { rawSafetensors, ROOT, tmpDir, writeTmp } from "./helpers.js";

const dir = tmpDir("st-hostile-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function openError(name: string, bytes: Uint8Array | string): string {
  const p = writeTmp(dir, name, bytes);
  try {
    SafetensorsFile.open(p).close();
  } catch (e) {
    assert.ok((e as Error).message.includes(p), `names the file: ${(e as Error).message}`);
    return (e as Error).message;
  }
  assert.fail(`${name} was accepted`);
}

const four = new Uint8Array(4);

test("a key repeated inside a tensor entry is refused (the reference's serde does; JSON.parse kept the last)", () => {
  const json = '{"w":{"dtype":"F32","shape":[2],"shape":[1],"data_offsets":[0,4]}}';
  assert.match(openError("dup-shape.safetensors", rawSafetensors(json, four)), /duplicate key "shape"/);
  const meta = '{"__metadata__":{"a":"1","a":"2"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  assert.match(openError("dup-meta.safetensors", rawSafetensors(meta, four)), /duplicate key "a"/);
  // Escaped spellings of the same key are the same key.
  const esc = '{"w":{"dtype":"F32","sh\\u0061pe":[1],"shape":[1],"data_offsets":[0,4]}}';
  assert.match(openError("dup-escaped.safetensors", rawSafetensors(esc, four)), /duplicate key "shape"/);
});

test("a byte-order mark before the header is refused", () => {
  const json = '\ufeff{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  assert.match(openError("bom.safetensors", rawSafetensors(json, four)), /does not start with '\{' \(it starts with a byte-order mark\)/);
});

test("a header nested deeper than the format allows is refused before JSON.parse", () => {
  assert.match(openError("deep.safetensors", rawSafetensors('{"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}', four)), /nested deeper than 3 levels/);
  // 16 MB of nested arrays: JSON.parse alone took seconds and gigabytes on this before.
  const n = 16_000_000;
  const deep = '{"w":' + "[".repeat(n - 7) + "]";
  const t0 = performance.now();
  assert.match(openError("deep-big.safetensors", rawSafetensors(deep)), /nested deeper than 3 levels at character 7/);
  const ms = performance.now() - t0;
  assert.ok(ms < 3000, `rejected in ${ms.toFixed(0)} ms`);
});

test("a tensor of 2 GiB or more is read in chunks (sparse file)", () => {
  const n = 2 ** 31 + 8; // bytes: one past what a single fs.readSync call accepts
  const header = Buffer.from(JSON.stringify({ big: { dtype: "U8", shape: [n], data_offsets: [0, n] } }));
  const p = path.join(dir, "big.safetensors");
  const fd = fs.openSync(p, "w");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  fs.writeSync(fd, len, 0, 8, 0);
  fs.writeSync(fd, header, 0, header.length, 8);
  const start = 8 + header.length;
  // Markers at the start, around the 1 GiB chunk edge and at the very end; the rest is a hole.
  const marks: [number, number][] = [
    [0, 11],
    [2 ** 30 - 1, 22],
    [2 ** 30, 33],
    [n - 1, 44],
  ];
  for (const [at, v] of marks) fs.writeSync(fd, Buffer.from([v]), 0, 1, start + at);
  fs.closeSync(fd);
  const f = SafetensorsFile.open(p);
  try {
    const bytes = f.readBytes("big"); // a RangeError naming nothing, before
    assert.equal(bytes.length, n);
    for (const [at, v] of marks) assert.equal(bytes[at], v, `byte ${at}`);
    assert.equal(bytes[n - 2], 0);
  } finally {
    f.close();
    fs.rmSync(p);
  }
});

test("writes of 2 GiB or more go out in chunks", () => {
  // Untouched zero pages: writing them to /dev/null costs no memory and no disk.
  const bytes = new Uint8Array(2 ** 31 + 8);
  const fd = fs.openSync("/dev/null", "w");
  try {
    writeAll(fd, bytes); // ERR_OUT_OF_RANGE before
  } finally {
    fs.closeSync(fd);
  }
});

test("a FIFO as the weights path is refused instead of blocking forever", { skip: process.platform === "win32" }, () => {
  const fifo = path.join(dir, "model.safetensors.fifo");
  execFileSync("mkfifo", [fifo]);
  // In a child with a timeout: before the fix the open blocked, and the test must fail, not hang.
  const mod = pathToFileURL(path.join(ROOT, "dist/src/formats/safetensors.js")).href;
  const script = `import(${JSON.stringify(mod)}).then(m => { try { m.SafetensorsFile.open(${JSON.stringify(fifo)}); console.log("opened"); } catch (e) { console.log(e.message); } })`;
  const r = spawnSync(process.execPath, ["-e", script], { timeout: 10_000, encoding: "utf8" });
  assert.equal(r.signal, null, "the reader blocked on the FIFO");
  assert.match(r.stdout, /cannot open safetensors file: .*model\.safetensors\.fifo is a FIFO \(named pipe\), not a regular file/);
});

test("a directory where a shard should be names the index, the entry and the path", () => {
  const d = path.join(dir, "sharded");
  fs.mkdirSync(d);
  writeSafetensors(path.join(d, "model-00001-of-00002.safetensors"), { a: { dtype: "f32", shape: [1], data: new Float32Array([1]) } });
  fs.mkdirSync(path.join(d, "model-00002-of-00002.safetensors"));
  fs.writeFileSync(
    path.join(d, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" } }),
  );
  const w = openWeights(d);
  try {
    assert.deepEqual(Array.from(w.read("a").data), [1]);
    assert.throws(
      () => w.read("b"),
      /model\.safetensors\.index\.json: weight_map entry for "b" \("model-00002-of-00002\.safetensors"\): .*model-00002-of-00002\.safetensors is a directory, not a regular file/,
    );
  } finally {
    w.close();
  }
  // A single-file folder whose model.safetensors is a directory.
  const s = path.join(dir, "single");
  fs.mkdirSync(path.join(s, "model.safetensors"), { recursive: true });
  assert.throws(() => openWeights(s).names(), /model\.safetensors is a directory, not a regular file/);
});
