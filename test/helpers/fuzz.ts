/**
 * Seeded mutation fuzzing of the readers that take files from users: safetensors, encode
 * inputs (JSONL) and tokenizer.json. Each case mutates a valid file (JSON-level edits, byte
 * flips, truncation, splices, length-prefix and BOM tricks) and checks the contract every
 * reader promises: it either accepts the file and then everything it reports is usable, or it
 * throws an Error that names the file. Anything else (a TypeError from deep inside, a
 * RangeError, an accepted file whose tensors cannot be read, a case that takes seconds) is a
 * finding. Used by test/formats/fuzz.test.ts (bounded, in the suite) and scripts/fuzz-readers.mjs
 * (long runs).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { writeSafetensors } from "../../src/formats/safetensors-write.js";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { readInputs } from "../../src/io/text-input.js";
import { rng } from "./rng.js";

type Rand = () => number;
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

function randomValue(r: Rand): Json {
  return pick<() => Json>(r, [
    () => null,
    () => true,
    () => -1,
    () => 0,
    () => 2 ** 53,
    () => 1e300,
    () => 3.5,
    () => int(r, 1000),
    () => "",
    () => "x".repeat(int(r, 40)),
    () => "\u0000\ud800",
    () => [],
    () => ({}),
    () => [int(r, 10), int(r, 10)],
    () => JSON.parse("[".repeat(50) + "]".repeat(50)) as Json,
  ])();
}

/** All (container, key) slots of a JSON value, for picking a place to edit. */
function slots(v: Json, out: [Json[] | Record<string, Json>, string | number][] = [], depth = 0): typeof out {
  if (depth > 6 || v === null || typeof v !== "object") return out;
  const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  // Large containers (a vocabulary): visit a few entries, not all.
  const step = Math.max(1, Math.floor(entries.length / 20));
  for (let i = 0; i < entries.length; i += step) {
    const [k, x] = entries[i]!;
    out.push([v, k]);
    slots(x, out, depth + 1);
  }
  return out;
}

export function mutateJson(r: Rand, value: Json): Json {
  const root = structuredClone(value);
  const n = 1 + int(r, 3);
  for (let m = 0; m < n; m++) {
    const all = slots(root);
    if (!all.length) break;
    const [c, k] = pick(r, all);
    const op = int(r, 5);
    if (Array.isArray(c)) {
      const i = k as number;
      if (op === 0) c.splice(i, 1);
      else if (op === 1) c.splice(i, 0, structuredClone(c[i]!));
      else c[i] = randomValue(r);
    } else {
      const o = c as Record<string, Json>;
      if (op === 0) delete o[k as string];
      else if (op === 1) o[`${k}_${int(r, 9)}`] = structuredClone(o[k as string]!);
      else o[k as string] = randomValue(r);
    }
  }
  return root;
}

export function mutateBytes(r: Rand, b: Uint8Array): Uint8Array {
  let out = Uint8Array.from(b);
  const n = 1 + int(r, 4);
  for (let m = 0; m < n; m++) {
    const op = int(r, 5);
    const at = int(r, Math.max(1, out.length));
    if (op === 0 && out.length) out[at] = int(r, 256);
    else if (op === 1) out = out.slice(0, at);
    else if (op === 2) out = Uint8Array.from([...out.slice(0, at), ...Array.from({ length: 1 + int(r, 8) }, () => int(r, 256)), ...out.slice(at)]);
    else if (op === 3 && out.length) out[at] = pick(r, [0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x5c, 0xff, 0xc3, 0x0a]);
    else out = Uint8Array.from([...out.slice(0, at), ...out.slice(Math.min(out.length, at + 1 + int(r, 16)))]);
  }
  return out;
}

export interface Finding {
  reader: string;
  caseNo: number;
  detail: string;
  file: string;
}

/** An error is fine when it is an Error whose message names the file (or its folder). */
function checkError(e: unknown, names: string[]): string | null {
  if (!(e instanceof Error)) return `threw a non-Error: ${String(e)}`;
  if (e.constructor !== Error) return `threw ${e.constructor.name}: ${e.message.slice(0, 200)}`;
  if (!names.some((n) => e.message.includes(n))) return `error names neither ${names.join(" nor ")}: ${e.message.slice(0, 200)}`;
  return null;
}

function timed(run: () => string | null, limitMs: number): string | null {
  const t0 = performance.now();
  const res = run();
  const ms = performance.now() - t0;
  return res ?? (ms > limitMs ? `took ${ms.toFixed(0)} ms` : null);
}

function baseSafetensors(dir: string): Uint8Array {
  const p = path.join(dir, "base.safetensors");
  writeSafetensors(
    p,
    {
      "model.embed.weight": { dtype: "f32", shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      "model.norm.weight": { dtype: "bf16", shape: [2], data: new Uint16Array([0x3f80, 0x4000]) },
      flags: { dtype: "U8", shape: [3], data: new Uint8Array([1, 0, 1]) },
    },
    { format: "pt" },
  );
  return fs.readFileSync(p);
}

/** A mutated safetensors file: header edits re-encoded (length fixed or not), or raw byte edits. */
function mutateSafetensors(r: Rand, base: Uint8Array): Uint8Array {
  const n = Number(Buffer.from(base).readBigUInt64LE(0));
  const header = JSON.parse(Buffer.from(base.subarray(8, 8 + n)).toString("utf8")) as Json;
  const data = base.subarray(8 + n);
  const kind = int(r, 4);
  if (kind === 0) return mutateBytes(r, base);
  let text = JSON.stringify(kind === 1 ? mutateJson(r, header) : header);
  if (kind === 3) text = Buffer.from(mutateBytes(r, Buffer.from(text))).toString("latin1");
  if (kind === 2) {
    text = pick<() => string>(r, [
      () => text.replace('"shape":', '"shape":[9],"shape":'),
      () => "\ufeff" + text,
      () => text.replace(/\[(\d)/, "[[[[$1") + "",
      () => text.replace('"data_offsets":[0,', '"data_offsets":[1,'),
      () => text.replace("F32", "F64"),
      () => text + "   ",
    ])();
  }
  const json = Buffer.from(text, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(r() < 0.9 ? json.length : Math.max(0, json.length + int(r, 64) - 32)));
  return Buffer.concat([len, json, data]);
}

export function fuzzSafetensors(seed: number, cases: number, dir: string, limitMs = 1000): Finding[] {
  const r = rng(seed);
  const base = baseSafetensors(dir);
  const findings: Finding[] = [];
  const file = path.join(dir, "case.safetensors");
  for (let c = 0; c < cases; c++) {
    fs.writeFileSync(file, mutateSafetensors(r, base));
    const detail = timed(() => {
      let f: SafetensorsFile;
      try {
        f = SafetensorsFile.open(file);
      } catch (e) {
        return checkError(e, [file]);
      }
      try {
        for (const name of f.names()) {
          const info = f.info(name);
          const bytes = f.readBytes(name);
          if (["F32", "BF16", "F16"].includes(info.dtype)) {
            const t = f.read(name);
            if (t.data.length !== info.shape.reduce((a, b) => a * b, 1)) return `accepted, but "${name}" reads ${t.data.length} elements for shape ${JSON.stringify(info.shape)}`;
          } else if (info.dtype === "U8" && bytes.length !== info.shape.reduce((a, b) => a * b, 1)) return `accepted, but "${name}" has ${bytes.length} bytes`;
        }
      } catch (e) {
        return `accepted, but reading failed: ${(e as Error).message.slice(0, 200)}`;
      } finally {
        f.close();
      }
      return null;
    }, limitMs);
    if (detail) findings.push({ reader: "safetensors", caseNo: c, detail, file: keep(file, c) });
  }
  return findings;
}

const BASE_JSONL = [
  '{"text": "Lily saw a dog."}',
  '{"instruction": "Retrieve:", "text": "a park"}',
  '{"text": "café ☕ 😀"}',
].join("\n") + "\n";

export function fuzzJsonl(seed: number, cases: number, dir: string, limitMs = 1000): Finding[] {
  const r = rng(seed);
  const findings: Finding[] = [];
  const file = path.join(dir, "case.jsonl");
  const base = Buffer.from(BASE_JSONL);
  const ids = Buffer.from('{"input_ids": [1, 2, 3]}\n{"input_ids": [4]}\n');
  for (let c = 0; c < cases; c++) {
    const src = r() < 0.3 ? ids : base;
    const bytes =
      r() < 0.5
        ? mutateBytes(r, src)
        : Buffer.from(
            src
              .toString()
              .trim()
              .split("\n")
              .map((l) => (r() < 0.5 ? JSON.stringify(mutateJson(r, JSON.parse(l) as Json)) : l))
              .join("\n") + "\n",
          );
    fs.writeFileSync(file, bytes);
    const detail = timed(() => {
      try {
        const rows = readInputs(file);
        if (rows.kind === "ids") {
          if (!rows.inputs.every((x) => Array.isArray(x) && x.every(Number.isInteger))) return "accepted non-integer ids";
        } else if (!rows.inputs.every((x) => typeof x === "string" || (Array.isArray(x) && typeof x[0] === "string" && typeof x[1] === "string")))
          return "accepted a non-string text";
        return null;
      } catch (e) {
        return checkError(e, [file]);
      }
    }, limitMs);
    if (detail) findings.push({ reader: "jsonl", caseNo: c, detail, file: keep(file, c) });
  }
  return findings;
}

export function fuzzTokenizerJson(seed: number, cases: number, dir: string, baseFolder: string, limitMs = 2000): Finding[] {
  const r = rng(seed);
  const findings: Finding[] = [];
  const base = JSON.parse(fs.readFileSync(path.join(baseFolder, "tokenizer.json"), "utf8")) as Json;
  const baseText = Buffer.from(JSON.stringify(base));
  const folder = path.join(dir, "tok");
  fs.mkdirSync(folder, { recursive: true });
  fs.copyFileSync(path.join(baseFolder, "tokenizer_config.json"), path.join(folder, "tokenizer_config.json"));
  const file = path.join(folder, "tokenizer.json");
  // The library console.warns about (and then ignores) unknown regex patterns: keep runs quiet.
  const warn = console.warn;
  console.warn = () => {};
  try {
    fuzzTokenizerCases(r, cases, base, baseText, folder, file, limitMs, findings);
  } finally {
    console.warn = warn;
  }
  return findings;
}

function fuzzTokenizerCases(r: Rand, cases: number, base: Json, baseText: Buffer, folder: string, file: string, limitMs: number, findings: Finding[]): void {
  for (let c = 0; c < cases; c++) {
    fs.writeFileSync(file, r() < 0.8 ? JSON.stringify(mutateJson(r, base)) : mutateBytes(r, baseText));
    const detail = timed(() => {
      let tok: Tokenizer;
      try {
        tok = Tokenizer.fromFolder(folder);
      } catch (e) {
        return checkError(e, [folder]);
      }
      try {
        const got = tok.encode("Lily saw a big dog. Café!");
        if (!got.every((id) => Number.isInteger(id) && id >= 0 && id < tok.vocabSize)) return `accepted, but encode gave ids outside [0, ${tok.vocabSize}): ${got.join(",")}`;
        tok.decode(got);
      } catch (e) {
        return `accepted, but encoding failed: ${(e as Error).message.slice(0, 200)}`;
      }
      return null;
    }, limitMs);
    if (detail) findings.push({ reader: "tokenizer.json", caseNo: c, detail, file: keep(file, c) });
  }
}

/** Keeps a failing case's file for inspection (next to the case file, numbered). */
function keep(file: string, c: number): string {
  const dst = `${file}.finding-${c}`;
  fs.copyFileSync(file, dst);
  return dst;
}
