/** The one-pass UTF-8 check of encode inputs: the same verdict as TextDecoder, in linear time. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { firstInvalidUtf8 } from "../../src/io/utf8.js";
import { readInputs } from "../../src/io/text-input.js";
import { rng } from "../helpers/rng.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-utf8-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const valid = (b: Uint8Array) => {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
};

test("agrees with TextDecoder's fatal mode on edge cases and 3000 random buffers", () => {
  const cases: number[][] = [
    [0xc0, 0x80], // overlong
    [0xe0, 0x9f, 0xbf], // overlong 3-byte
    [0xed, 0xa0, 0x80], // surrogate
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xf0, 0x9f, 0x98], // truncated emoji
    [0x61, 0xe2, 0x82], // truncated at the end
    [0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], // € 😀
    [0xef, 0xbb, 0xbf, 0x61], // BOM
  ];
  const r = rng(99);
  const pick = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90];
  for (let c = 0; c < 3000; c++) cases.push(Array.from({ length: 1 + Math.floor(r() * 12) }, () => (r() < 0.5 ? pick[Math.floor(r() * pick.length)]! : Math.floor(r() * 256))));
  for (const bytes of cases) {
    const b = Uint8Array.from(bytes);
    const at = firstInvalidUtf8(b);
    assert.equal(at < 0, valid(b), `verdict on [${bytes.map((x) => x.toString(16))}]`);
    if (at >= 0) assert.ok(valid(b.subarray(0, at)), `everything before offset ${at} is valid`);
  }
});

test("one bad byte at the end of a long line is found in one pass, naming line and offset", () => {
  const line = Buffer.from("é".repeat(200_000)); // 400 KB of two-byte characters
  const p = path.join(dir, "long.txt");
  fs.writeFileSync(p, Buffer.concat([Buffer.from("ok\n"), line, Buffer.from([0xff, 0x0a])]));
  const t0 = performance.now();
  assert.throws(() => readInputs(p), new RegExp(`long\\.txt:2: not valid UTF-8 \\(byte offset ${3 + line.length}\\)`));
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms (111 s before)`);
});
