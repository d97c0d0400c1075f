/**
 * safetensors tensors served as views over the file mapped by the native addon, against the
 * reference path (`{ map: false }`: read into fresh arrays): the same bytes for every dtype,
 * misaligned offsets copied, writes never reaching the file, bad files refused before mapping.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { writeSafetensors } from "../../src/formats/safetensors-write.js";
import { registerFileMapper, releaseMappedPages } from "../../src/formats/file-map.js";
import { loadNativeBackend, mapFile, releasePages } from "../../src/tensor/backend/native.js";
import { f32ToBf16, f32ToF16 } from "../../src/tensor/dtype.js";
import { rawSafetensors, tmpDir, writeTmp } from "./helpers.js";

const dir = tmpDir("st-map-");
// Independent of LLM2VEC_BACKEND: these tests are about the addon's mapping.
const prevMapper = registerFileMapper(mapFile, releasePages);
after(() => {
  registerFileMapper(prevMapper);
  fs.rmSync(dir, { recursive: true, force: true });
});
const skip = loadNativeBackend().backend ? false : "native addon not loaded";

const bytesOf = (d: ArrayBufferView) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/**
 * A file whose tensors start at every alignment: a 1-byte U8 tensor shifts what follows to odd
 * offsets, and the header length (not padded here) shifts the whole data block.
 */
function mixedFile(): { file: string; loadable: string[]; misaligned: string[] } {
  const f32 = new Float32Array([1.5, -2, 3.25, 1e-3, -7, 0]);
  const bf16 = new Uint16Array([1, -2, 0.5].map((x) => f32ToBf16(x)));
  const f16 = new Uint16Array([0.25, -1, 2, 4].map((x) => f32ToF16(x)));
  const parts: Array<[string, string, number[], Uint8Array]> = [
    ["a_f32", "F32", [2, 3], bytesOf(f32)],
    ["b_bf16", "BF16", [3], bytesOf(bf16)],
    ["c_f16", "F16", [4], bytesOf(f16)],
    ["d_u8", "U8", [1], new Uint8Array([9])],
    ["e_f16_odd", "F16", [4], bytesOf(f16)],
    ["f_f32_odd", "F32", [6], bytesOf(f32)],
    ["g_empty", "F32", [0, 5], new Uint8Array(0)],
    ["h_bf16_odd", "BF16", [3], bytesOf(bf16)],
    ["i_f32_scalar", "F32", [], bytesOf(new Float32Array([42]))],
  ];
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, dtype, shape, b] of parts) {
    header[name] = { dtype, shape, data_offsets: [off, off + b.length] };
    off += b.length;
  }
  // Pad the JSON with spaces so the data block starts at a multiple of 8 (file offset = relative one mod 8).
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += " ";
  const file = writeTmp(dir, "mixed.safetensors", rawSafetensors(json, Buffer.concat(parts.map((p) => p[3]))));
  const loadable = parts.filter((p) => p[1] !== "U8").map((p) => p[0]);
  return { file, loadable, misaligned: ["e_f16_odd", "f_f32_odd", "h_bf16_odd", "i_f32_scalar"] };
}

test("mapped and read tensors are byte-equal for f32, bf16, f16, empty and misaligned tensors", { skip }, () => {
  const { file, loadable, misaligned } = mixedFile();
  const size = fs.statSync(file).size;
  const mapped = SafetensorsFile.open(file);
  const read = SafetensorsFile.open(file, { map: false });
  try {
    assert.equal(mapped.isMapped(), true);
    assert.equal(read.isMapped(), false);
    for (const name of loadable) {
      const m = mapped.read(name);
      const r = read.read(name);
      assert.equal(m.dtype, r.dtype, name);
      assert.deepEqual(m.shape, r.shape, name);
      assert.equal(m.data.constructor, r.data.constructor, name);
      assert.ok(bytesOf(m.data).equals(bytesOf(r.data)), `${name}: same bytes`);
      // Aligned, non-empty tensors are views over the whole mapped file; the rest are their own arrays.
      const isView = m.data.buffer.byteLength === size;
      assert.equal(isView, !misaligned.includes(name) && name !== "g_empty", `${name}: view ${isView}`);
      if (!isView) assert.equal(m.data.byteOffset, 0, `${name}: a fresh, aligned array`);
    }
  } finally {
    mapped.close();
    read.close();
  }
});

test("views stay readable after close(); writing into one changes neither the file nor another mapping", { skip }, () => {
  const p = path.join(dir, "cow.safetensors");
  const w = new Float32Array([1, 2, 3, 4]);
  writeSafetensors(p, { w: { dtype: "f32", shape: [4], data: w } });
  const before = fs.readFileSync(p);
  const a = SafetensorsFile.open(p);
  const view = a.read("w").data as Float32Array;
  a.close();
  assert.deepEqual(Array.from(view), [1, 2, 3, 4]);
  view[0] = 99; // copy-on-write: this process's page only
  assert.equal(view[0], 99);
  assert.ok(fs.readFileSync(p).equals(before), "the file is unchanged");
  const b = SafetensorsFile.open(p);
  try {
    assert.deepEqual(Array.from(b.read("w").data), [1, 2, 3, 4]);
  } finally {
    b.close();
  }
});

test("a truncated file and bad header offsets are refused naming the file before anything is mapped", { skip }, () => {
  const header = { t: { dtype: "F32", shape: [4], data_offsets: [0, 16] } };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["truncated.safetensors", rawSafetensors(header, new Uint8Array(8)), /truncated/],
    ["overlap.safetensors", rawSafetensors({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /overlaps/],
    ["size.safetensors", rawSafetensors({ t: { dtype: "F32", shape: [4], data_offsets: [0, 12] } }, new Uint8Array(12)), /needs 16/],
  ];
  for (const [name, bytes, re] of cases) {
    const p = writeTmp(dir, name, bytes);
    assert.throws(() => SafetensorsFile.open(p), (e: unknown) => e instanceof Error && e.message.includes(p) && re.test(e.message));
  }
});

test("a file truncated after open is read, not mapped, and refused naming the file and tensor", { skip }, () => {
  const p = path.join(dir, "shrinks.safetensors");
  writeSafetensors(p, { w: { dtype: "f32", shape: [1024], data: new Float32Array(1024) } });
  const f = SafetensorsFile.open(p);
  try {
    fs.truncateSync(p, fs.statSync(p).size - 100);
    assert.throws(() => f.read("w"), (e: unknown) => e instanceof Error && e.message.includes(p) && e.message.includes('"w"') && /end of file/.test(e.message));
    assert.equal(f.isMapped(), false);
  } finally {
    f.close();
  }
});

test("without a mapper the reader reads (the reference path)", () => {
  const p = path.join(dir, "plain.safetensors");
  writeSafetensors(p, { w: { dtype: "bf16", shape: [2], data: new Uint16Array([f32ToBf16(1), f32ToBf16(2)]) } });
  const prev = registerFileMapper(null);
  const f = SafetensorsFile.open(p);
  try {
    assert.equal(f.isMapped(), false);
    const t = f.read("w");
    assert.equal(t.data.buffer.byteLength, 4);
  } finally {
    f.close();
    registerFileMapper(prev);
  }
});

test("the mapping lives while a view does and is unmapped once the last view is collected", { skip: skip || (process.platform !== "linux" && "reads /proc/self/maps") }, () => {
  const p = path.join(dir, "gc.safetensors");
  writeSafetensors(p, { w: { dtype: "f32", shape: [8], data: new Float32Array(8).fill(3) } });
  const mod = (rel: string) => JSON.stringify(new URL(rel, import.meta.url).href);
  // A child with --expose-gc, so collection can be forced; it polls until the finalizer has run.
  const script = `
    import * as fs from "node:fs";
    const { mapFile } = await import(${mod("../../src/tensor/backend/native.js")});
    const { registerFileMapper } = await import(${mod("../../src/formats/file-map.js")});
    const { SafetensorsFile } = await import(${mod("../../src/formats/safetensors.js")});
    registerFileMapper(mapFile);
    const maps = () => fs.readFileSync("/proc/self/maps", "utf8").split("\\n").filter((l) => l.endsWith(${JSON.stringify(p)})).length;
    let f = SafetensorsFile.open(${JSON.stringify(p)});
    let v = f.read("w").data;
    f.close();
    f = null;
    const live = maps();
    const sum = v.reduce((a, b) => a + b, 0);
    v = null;
    let after = -1;
    for (let i = 0; i < 200 && after !== 0; i++) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 10));
      after = maps();
    }
    console.log(JSON.stringify({ live, sum, after }));
  `;
  const r = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { live: 1, sum: 24, after: 0 });
});

/** This process's resident file-backed pages (Linux's /proc/self/status RssFile), in bytes; null elsewhere. */
function rssFile(): number | null {
  try {
    const m = /RssFile:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

test("releaseMappedPages drops a mapped weight's pages from the resident set; the view reads the file's bytes again", { skip: skip || (rssFile() === null ? "no /proc/self/status RssFile" : false) }, () => {
  const n = 8 << 20; // 32 MiB of f32
  const w = new Float32Array(n);
  for (let i = 0; i < n; i += 1024) w[i] = i;
  const p = path.join(dir, "release.safetensors");
  writeSafetensors(p, { w: { dtype: "f32", shape: [n], data: w }, keep: { dtype: "f32", shape: [4], data: new Float32Array([1, 2, 3, 4]) } });
  const f = SafetensorsFile.open(p);
  const view = f.read("w").data as Float32Array;
  const keep = f.read("keep").data as Float32Array;
  assert.ok(f.isMapped(), "the file is mapped");
  let sum = 0;
  for (let i = 0; i < n; i += 1024) sum += view[i]!; // touch every page
  const touched = rssFile()!;
  const dropped = releaseMappedPages(view);
  const after = rssFile()!;
  assert.ok(dropped >= n * 4 - 2 * 4096 && dropped <= n * 4, `dropped ${dropped} bytes of ${n * 4}`);
  assert.ok(touched - after > (n * 4) / 2, `RssFile went from ${touched} to ${after} bytes after releasing ${n * 4}`);
  let again = 0;
  for (let i = 0; i < n; i += 1024) again += view[i]!;
  assert.equal(again, sum, "the released view reads the file's values again");
  assert.deepEqual(Array.from(keep), [1, 2, 3, 4], "the rest of the mapping is untouched");
  assert.equal(releaseMappedPages(new Float32Array(1 << 20)), 0, "an ordinary buffer is never released");
  f.close();
});
