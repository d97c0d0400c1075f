import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { TorchBinFile } from "../../src/formats/torch-bin.js";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { openWeights, type WeightSource } from "../../src/formats/hf-folder.js";
import { FIXTURES, tmpDir } from "./helpers.js";

// Made by scripts/reference/make_torch_bin_fixtures.py with torch.save (PyTorch 1.13).
const BIN = path.join(FIXTURES, "torch-bin");
const dir = tmpDir("torch-bin-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every tensor of `a` equals the one of the same name in `b`: same names, dtype, shape, bytes. */
function assertSameWeights(a: WeightSource | TorchBinFile, b: WeightSource | SafetensorsFile): void {
  assert.deepEqual([...a.names()].sort(), [...b.names()].sort());
  for (const name of a.names()) {
    assert.deepEqual(a.info(name), b.info(name), name);
    const x = a.read(name);
    const y = b.read(name);
    assert.equal(x.dtype, y.dtype, name);
    assert.deepEqual(x.shape, y.shape, name);
    assert.deepEqual(Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength), Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength), name);
  }
}

function pair(name: string): [TorchBinFile, SafetensorsFile] {
  return [TorchBinFile.open(path.join(BIN, `${name}.bin`)), SafetensorsFile.open(path.join(BIN, `${name}.safetensors`))];
}

test("torch .bin: f32, bf16 and f16 state dicts are bit-equal to the same tensors saved as safetensors", () => {
  for (const tag of ["f32", "bf16", "f16"]) {
    const [bin, st] = pair(`llama-${tag}`);
    assert.equal(bin.names().length, 12);
    assert.equal(bin.info("lm_head.weight").dtype, { f32: "F32", bf16: "BF16", f16: "F16" }[tag]);
    assertSameWeights(bin, st);
    bin.close();
    st.close();
  }
});

test("torch .bin: tied tensors sharing one storage each read the shared bytes", () => {
  const [bin, st] = pair("tied");
  assertSameWeights(bin, st);
  assert.deepEqual(bin.read("lm_head.weight").data, bin.read("model.embed_tokens.weight").data);
  bin.close();
  st.close();
});

test("torch .bin: views (storage offset, transposed, strided slice, stride-0 expand) come out row-major", () => {
  const [bin, st] = pair("views");
  assertSameWeights(bin, st);
  assert.deepEqual(bin.info("transposed"), { dtype: "BF16", shape: [8, 6] });
  assert.deepEqual(Buffer.from(bin.readBytes("offset")), Buffer.from(st.readBytes("offset")));
  bin.close();
  st.close();
});

test("openWeights: a folder with only pytorch_model.bin, or a sharded pytorch_model.bin.index.json, reads the same weights as safetensors", () => {
  const single = path.join(dir, "single");
  fs.mkdirSync(single);
  fs.copyFileSync(path.join(BIN, "llama-f32.bin"), path.join(single, "pytorch_model.bin"));
  const st = SafetensorsFile.open(path.join(BIN, "llama-f32.safetensors"));
  const w1 = openWeights(single);
  assertSameWeights(w1, st);
  w1.close();
  const w2 = openWeights(path.join(BIN, "sharded"));
  assertSameWeights(w2, st);
  w2.close();
  st.close();
  // safetensors wins when both are there.
  fs.copyFileSync(path.join(BIN, "llama-bf16.safetensors"), path.join(single, "model.safetensors"));
  const w3 = openWeights(single);
  assert.equal(w3.info("lm_head.weight").dtype, "BF16");
  w3.close();
});

test("a sharded .bin index naming a missing shard: the error names the shard, the index and the tensor", () => {
  const d = path.join(dir, "missing-shard");
  fs.mkdirSync(d);
  for (const f of ["pytorch_model.bin.index.json", "pytorch_model-00001-of-00002.bin"]) fs.copyFileSync(path.join(BIN, "sharded", f), path.join(d, f));
  const w = openWeights(d);
  assert.equal(w.read("model.embed_tokens.weight").shape[0], 16);
  assert.throws(
    () => w.read("lm_head.weight"),
    (e: unknown) =>
      e instanceof Error &&
      e.message.includes(`weights file missing: ${path.join(d, "pytorch_model-00002-of-00002.bin")}`) &&
      e.message.includes("pytorch_model.bin.index.json") &&
      e.message.includes('"lm_head.weight"'),
  );
  w.close();
});

const MALICIOUS: Array<[string, string]> = [
  ["posix-system", "posix.system"],
  ["os-system", "os.system"],
  ["eval", "__builtin__.eval"],
  ["popen", "commands.Popen"],
];

test("malicious pickles (os.system, posix.system, eval, Popen) are refused naming the global, and their payload never runs", () => {
  for (const [kind, global] of MALICIOUS) {
    // The payload, run by torch.load in the generator, creates this file.
    const marker = `/tmp/llm2vec-torch-bin-pwned-${kind}`;
    fs.rmSync(marker, { force: true });
    const file = path.join(BIN, `malicious-${kind}.bin`);
    assert.throws(
      () => TorchBinFile.open(file),
      (e: unknown) => e instanceof Error && e.message.startsWith(`${file}: `) && e.message.includes(`refusing the global ${global}`),
      kind,
    );
    // Through the folder loader too (the pickle is decoded on first access).
    const d = path.join(dir, `mal-${kind}`);
    fs.mkdirSync(d);
    fs.copyFileSync(file, path.join(d, "pytorch_model.bin"));
    assert.throws(() => openWeights(d).names(), new RegExp(`refusing the global ${global.replace(".", "\\.")}`), kind);
    assert.equal(fs.existsSync(marker), false, `${kind}: the payload ran`);
  }
});

test("legacy (non-zip) torch files: the error says so and how to re-save", () => {
  const file = path.join(BIN, "legacy.bin");
  assert.throws(
    () => TorchBinFile.open(file),
    (e: unknown) => e instanceof Error && e.message.startsWith(`${file}: `) && /legacy \(pre-1\.6, non-zip\)/.test(e.message) && e.message.includes("torch.save(torch.load("),
  );
});

test("truncated .bin files are refused with the file named, wherever the cut is", () => {
  const whole = fs.readFileSync(path.join(BIN, "llama-f32.bin"));
  for (const keep of [0, 3, 100, whole.length >> 1, whole.length - 30, whole.length - 1]) {
    const file = path.join(dir, `truncated-${keep}.bin`);
    fs.writeFileSync(file, whole.subarray(0, keep));
    assert.throws(() => TorchBinFile.open(file), (e: unknown) => e instanceof Error && e.message.startsWith(`${file}: `), String(keep));
  }
});

test("a .bin whose pickle holds non-tensor objects is refused naming the entry", () => {
  const step = path.join(BIN, "non-tensor.bin");
  assert.throws(() => TorchBinFile.open(step), (e: unknown) => e instanceof Error && e.message.startsWith(`${step}: entry "step" is an int or float, not a tensor`));
  const nested = path.join(BIN, "nested.bin");
  assert.throws(() => TorchBinFile.open(nested), (e: unknown) => e instanceof Error && e.message.startsWith(`${nested}: entry "model" is a dict, not a tensor`));
});

test("a .bin that is not a zip, or an LFS pointer, says what it is", () => {
  const text = path.join(dir, "text.bin");
  fs.writeFileSync(text, "hello world, not a checkpoint");
  assert.throws(() => TorchBinFile.open(text), /text\.bin: not a PyTorch checkpoint/);
  const lfs = path.join(dir, "lfs.bin");
  fs.writeFileSync(lfs, "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 5\n");
  assert.throws(() => TorchBinFile.open(lfs), /Git LFS pointer/);
});
