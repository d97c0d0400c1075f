import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { registerConvertWeights } from "../../src/cli/commands/convert-weights.js";
import { parseByteSize } from "../../src/formats/convert-weights.js";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { openWeights } from "../../src/formats/hf-folder.js";
import { FIXTURES, tmpDir } from "./helpers.js";

const BIN = path.join(FIXTURES, "torch-bin");
const dir = tmpDir("convert-weights-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<void> {
  const program = new Command().exitOverride();
  registerConvertWeights(program);
  await program.parseAsync(["convert-weights", ...args], { from: "user" });
}

/** A .bin model folder: the sharded f32 llama plus a config and a tokenizer file. */
function binFolder(name: string): string {
  const d = path.join(dir, name);
  fs.cpSync(path.join(BIN, "sharded"), d, { recursive: true });
  fs.writeFileSync(path.join(d, "config.json"), '{"model_type":"llama"}\n');
  fs.writeFileSync(path.join(d, "tokenizer.json"), "{}\n");
  return d;
}

function assertSameAsReference(out: string): void {
  const ref = SafetensorsFile.open(path.join(BIN, "llama-f32.safetensors"));
  const w = openWeights(out);
  assert.deepEqual([...w.names()].sort(), [...ref.names()].sort());
  for (const n of ref.names()) assert.deepEqual(Buffer.from(w.read(n).data.buffer), Buffer.from(ref.readBytes(n)), n);
  w.close();
  ref.close();
}

test("convert-weights: sharded .bin → one model.safetensors, bit-equal, config and tokenizer copied, no .bin left", async () => {
  const out = path.join(dir, "out1");
  await cli(binFolder("in1"), "--output", out);
  assert.deepEqual(fs.readdirSync(out).sort(), ["config.json", "model.safetensors", "tokenizer.json"]);
  assert.equal(fs.readFileSync(path.join(out, "config.json"), "utf8"), '{"model_type":"llama"}\n');
  assertSameAsReference(out);
});

test("convert-weights: above --max-shard-size the output is sharded with an index, as transformers names it", async () => {
  const out = path.join(dir, "out2");
  await cli(binFolder("in2"), "--output", out, "--max-shard-size", "1.5KB");
  const files = fs.readdirSync(out).sort();
  assert.ok(files.includes("model.safetensors.index.json"));
  assert.ok(files.includes("model-00001-of-00003.safetensors"), files.join(","));
  assert.ok(!files.includes("model.safetensors"));
  const index = JSON.parse(fs.readFileSync(path.join(out, "model.safetensors.index.json"), "utf8"));
  // 856 f32 elements: embed and lm_head 16×8, q and o 8×8, k and v 4×8, the MLP 3 × 16×8, three norms of 8.
  assert.equal(index.metadata.total_size, 856 * 4);
  assert.equal(index.weight_map["lm_head.weight"], "model-00003-of-00003.safetensors");
  for (const f of files.filter((f) => f.endsWith(".safetensors"))) assert.ok(SafetensorsFile.open(path.join(out, f)).names().length > 0, f);
  assertSameAsReference(out);
});

test("convert-weights: refusals leave no output folder behind; an existing output needs --overwrite", async () => {
  const bad = path.join(dir, "bad");
  fs.mkdirSync(bad);
  fs.copyFileSync(path.join(BIN, "malicious-posix-system.bin"), path.join(bad, "pytorch_model.bin"));
  const out = path.join(dir, "out3");
  await assert.rejects(cli(bad, "--output", out), /refusing the global posix\.system/);
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith(".out3")), []);
  await assert.rejects(cli(path.join(dir, "nope"), "--output", out), /model folder does not exist/);
  await assert.rejects(cli(path.join(BIN), "--output", out), /no pytorch_model\.bin or pytorch_model\.bin\.index\.json/);
  const good = binFolder("in3");
  await cli(good, "--output", out);
  await assert.rejects(cli(good, "--output", out), /output folder already exists/);
  await cli(good, "--output", out, "--overwrite");
  assertSameAsReference(out);
});

test("--max-shard-size: decimal units as transformers, errors name the flag", () => {
  assert.equal(parseByteSize("5GB", "--max-shard-size"), 5e9);
  assert.equal(parseByteSize("500mb", "--max-shard-size"), 5e8);
  assert.equal(parseByteSize("1234", "--max-shard-size"), 1234);
  assert.throws(() => parseByteSize("5 gigs", "--max-shard-size"), /--max-shard-size: expected a size/);
  assert.throws(() => parseByteSize("0", "--max-shard-size"), /--max-shard-size/);
});
