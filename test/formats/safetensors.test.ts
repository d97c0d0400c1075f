import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SafetensorsFile, MAX_HEADER_SIZE } from "../../src/formats/safetensors.js";
import { writeSafetensors } from "../../src/formats/safetensors-write.js";
import { f32ToBf16, f32ToF16 } from "../../src/tensor/dtype.js";
import { rawSafetensors, tmpDir, writeTmp } from "./helpers.js";

const dir = tmpDir("st-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Open `bytes` as a safetensors file and expect an error whose message matches all patterns. */
function expectOpenError(name: string, bytes: Uint8Array, ...patterns: RegExp[]): void {
  const p = writeTmp(dir, name, bytes);
  assert.throws(
    () => SafetensorsFile.open(p),
    (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.ok(e.message.includes(p), `message names the file: ${e.message}`);
      for (const re of patterns) assert.match(e.message, re);
      return true;
    },
  );
}

const f32 = (n: number) => new Uint8Array(new Float32Array(n).buffer);

test("round trip of f32, bf16 and f16 tensors with metadata", () => {
  const p = path.join(dir, "rt.safetensors");
  const a = new Float32Array([1, -2.5, 3.25, 0, 1e-3, 7]);
  const b = new Uint16Array([1, 2, 3].map((x) => f32ToBf16(x)));
  const c = new Uint16Array([0.5, -1].map((x) => f32ToF16(x)));
  writeSafetensors(
    p,
    {
      "model.a": { dtype: "f32", shape: [2, 3], data: a },
      "model.b": { dtype: "bf16", shape: [3], data: b },
      "model.c": { dtype: "f16", shape: [2, 1], data: c },
      scalar: { dtype: "f32", shape: [], data: new Float32Array([42]) },
      empty: { dtype: "f32", shape: [0, 4], data: new Float32Array(0) },
    },
    { format: "pt" },
  );
  // The header is padded to a multiple of 8 bytes.
  const head = fs.readFileSync(p).subarray(0, 8);
  assert.equal(Number(head.readBigUInt64LE(0)) % 8, 0);
  const f = SafetensorsFile.open(p);
  try {
    assert.deepEqual(f.metadata, { format: "pt" });
    assert.deepEqual(new Set(f.names()), new Set(["model.a", "model.b", "model.c", "scalar", "empty"]));
    assert.deepEqual(f.info("model.b"), { dtype: "BF16", shape: [3] });
    const ra = f.read("model.a");
    assert.equal(ra.dtype, "f32");
    assert.deepEqual(ra.shape, [2, 3]);
    assert.deepEqual(Array.from(ra.data), Array.from(a));
    const rb = f.read("model.b");
    assert.equal(rb.dtype, "bf16");
    assert.ok(rb.data instanceof Uint16Array);
    assert.deepEqual(Array.from(rb.data), Array.from(b));
    assert.deepEqual(Array.from(f.read("model.c").data), Array.from(c));
    assert.deepEqual(Array.from(f.read("scalar").data), [42]);
    assert.equal(f.read("empty").data.length, 0);
  } finally {
    f.close();
  }
  // No temp file left behind.
  assert.deepEqual(fs.readdirSync(dir).filter((x) => x.includes(".tmp")), []);
});

test("misaligned tensor offsets are read correctly", () => {
  // A U8 of 1 byte first pushes the F32 to an odd file offset.
  const data = new Uint8Array(1 + 8);
  data[0] = 7;
  new DataView(data.buffer).setFloat32(1, 1.5, true);
  new DataView(data.buffer).setFloat32(5, -3, true);
  const bytes = rawSafetensors(
    { u: { dtype: "U8", shape: [1], data_offsets: [0, 1] }, x: { dtype: "F32", shape: [2], data_offsets: [1, 9] } },
    data,
  );
  const p = writeTmp(dir, "misaligned.safetensors", bytes);
  const f = SafetensorsFile.open(p);
  assert.deepEqual(Array.from(f.read("x").data), [1.5, -3]);
  assert.deepEqual(Array.from(f.readBytes("u")), [7]);
  // Other dtypes are listed but cannot be loaded as storage.
  assert.deepEqual(f.info("u"), { dtype: "U8", shape: [1] });
  assert.throws(() => f.read("u"), /tensor "u" has dtype U8/);
  assert.throws(() => f.read("nope"), /no tensor named "nope"/);
  f.close();
});

test("truncated files", () => {
  expectOpenError("short.safetensors", new Uint8Array(5), /truncated/);
  expectOpenError("empty.safetensors", new Uint8Array(0), /truncated/);
  const good = rawSafetensors({ x: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, f32(4));
  expectOpenError("cut.safetensors", good.subarray(0, good.length - 3), /truncated/, /tensor "x"/);
});

test("header length beyond the file or above the maximum", () => {
  const h = rawSafetensors({}, new Uint8Array(0), 1000n);
  expectOpenError("hlen.safetensors", h, /header length 1000 goes beyond the end of the file/);
  const huge = rawSafetensors({}, new Uint8Array(0), 0xffffffffffffffffn);
  expectOpenError("hhuge.safetensors", huge, new RegExp(`exceeds the maximum ${MAX_HEADER_SIZE}`));
  const justOver = rawSafetensors({}, new Uint8Array(0), BigInt(MAX_HEADER_SIZE + 1));
  expectOpenError("hover.safetensors", justOver, /exceeds the maximum/);
});

test("header must be JSON starting with {", () => {
  expectOpenError("notjson.safetensors", rawSafetensors("{nope"), /not valid JSON/);
  expectOpenError("array.safetensors", rawSafetensors(" {}"), /does not start with '\{'/);
  expectOpenError("list.safetensors", rawSafetensors("[]"), /does not start with '\{'/);
  const badUtf8 = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0x7b, 0xff, 0x7d])]);
  expectOpenError("badutf8.safetensors", badUtf8, /not valid UTF-8/);
});

test("trailing spaces in the header are allowed", () => {
  const p = writeTmp(dir, "spaces.safetensors", rawSafetensors('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   ', f32(1)));
  const f = SafetensorsFile.open(p);
  assert.deepEqual(f.names(), ["x"]);
  f.close();
});

test("offsets out of range, overlapping, with holes, and leftover bytes", () => {
  expectOpenError(
    "oob.safetensors",
    rawSafetensors({ x: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, f32(2)),
    /truncated/,
    /"x"/,
  );
  expectOpenError(
    "overlap.safetensors",
    rawSafetensors(
      { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } },
      f32(3),
    ),
    /tensor "b" overlaps/,
  );
  expectOpenError(
    "hole.safetensors",
    rawSafetensors(
      { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [8, 12] } },
      f32(3),
    ),
    /hole .* before tensor "b"/,
  );
  expectOpenError(
    "firsthole.safetensors",
    rawSafetensors({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, f32(2)),
    /hole .* before tensor "a"/,
  );
  expectOpenError(
    "trailing.safetensors",
    rawSafetensors({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f32(2)),
    /4 trailing bytes/,
  );
  expectOpenError(
    "reversed.safetensors",
    rawSafetensors({ a: { dtype: "F32", shape: [0], data_offsets: [4, 0] } }, f32(1)),
    /tensor "a".*end 0 < begin 4/,
  );
  expectOpenError(
    "hugeoffset.safetensors",
    rawSafetensors({ a: { dtype: "F32", shape: [1e12], data_offsets: [0, 4e12] } }, f32(1)),
    /truncated/,
  );
});

test("unknown dtype, bad shapes and byte-size mismatch name the tensor", () => {
  expectOpenError(
    "dtype.safetensors",
    rawSafetensors({ "w.q": { dtype: "F12", shape: [1], data_offsets: [0, 4] } }, f32(1)),
    /tensor "w\.q"/,
    /unknown dtype "F12"/,
  );
  expectOpenError(
    "shape.safetensors",
    rawSafetensors({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, f32(2)),
    /tensor "w"/,
    /8 bytes .* needs 12/,
  );
  expectOpenError(
    "negshape.safetensors",
    rawSafetensors({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, f32(1)),
    /tensor "w".*shape/,
  );
  expectOpenError(
    "subbyte.safetensors",
    rawSafetensors({ w: { dtype: "F4", shape: [3], data_offsets: [0, 2] } }, new Uint8Array(2)),
    /tensor "w".*whole number of bytes/,
  );
  expectOpenError("nooffsets.safetensors", rawSafetensors({ w: { dtype: "F32", shape: [1] } }, f32(1)), /tensor "w".*data_offsets/);
  expectOpenError("meta.safetensors", rawSafetensors({ __metadata__: { a: 1 } }), /__metadata__/);
});

test("duplicate keys are rejected", () => {
  const json = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  expectOpenError("dup.safetensors", rawSafetensors(json, f32(1)), /duplicate key "w"/);
  // The same key inside nested objects is fine.
  const ok = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
  const p = writeTmp(dir, "nodup.safetensors", rawSafetensors(ok, f32(2)));
  SafetensorsFile.open(p).close();
});

test("Git LFS pointer is reported as weights not downloaded", () => {
  const ptr = "version https://git-lfs.github.com/spec/v1\noid sha256:741673f7aeb350a93d917bbf5e140be1d46eba95a48cc4c5cbff5348835d72f1\nsize 4781592216\n";
  expectOpenError("lfs.safetensors", Buffer.from(ptr), /^weights not downloaded \(Git LFS pointer\): /);
});

test("missing file", () => {
  assert.throws(() => SafetensorsFile.open(path.join(dir, "absent.safetensors")), /cannot open safetensors file: .*absent\.safetensors does not exist/);
});

test("writer rejects data that does not match the shape", () => {
  assert.throws(
    () => writeSafetensors(path.join(dir, "bad.safetensors"), { w: { dtype: "f32", shape: [3], data: new Float32Array(2) } }),
    /tensor "w": 8 bytes of data but shape \[3\]/,
  );
  assert.equal(fs.existsSync(path.join(dir, "bad.safetensors")), false);
});

test("writer output is the reference layout: dtype order, offsets tile the buffer", () => {
  const p = path.join(dir, "order.safetensors");
  writeSafetensors(p, {
    z16: { dtype: "bf16", shape: [1], data: new Uint16Array(1) },
    a32: { dtype: "f32", shape: [1], data: new Float32Array(1) },
  });
  const buf = fs.readFileSync(p);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  assert.deepEqual(header.a32.data_offsets, [0, 4]);
  assert.deepEqual(header.z16.data_offsets, [4, 6]);
  assert.equal(buf.length, 8 + n + 6);
});
