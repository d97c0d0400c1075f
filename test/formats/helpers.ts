/** Shared helpers for the format tests: temp folders, fixture paths, raw safetensors bytes. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { fileURLToPath } from "node:url";

/** The repo root: tests run from dist/test/formats, sources live in test/formats. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const FIXTURES = path.join(ROOT, "test", "fixtures");

export function tmpDir(prefix = "llm2vec-formats-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Copy a fixture tokenizer folder into a temp folder, gunzipping `*.gz` files. */
export function unpackTokenizer(name: string): string {
  const src = path.join(FIXTURES, "tokenizers", name);
  const dst = tmpDir(`tok-${name}-`);
  for (const f of fs.readdirSync(src)) {
    const data = fs.readFileSync(path.join(src, f));
    if (f.endsWith(".gz")) fs.writeFileSync(path.join(dst, f.slice(0, -3)), zlib.gunzipSync(data));
    else fs.writeFileSync(path.join(dst, f), data);
  }
  return dst;
}

/**
 * Raw safetensors bytes from a header (object or literal JSON text) and a data buffer, with an
 * optional header length override, for building malformed files.
 */
export function rawSafetensors(header: object | string, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Buffer {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header), "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data)]);
}

export function writeTmp(dir: string, name: string, bytes: Uint8Array | string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}
