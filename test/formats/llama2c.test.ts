import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { importLlama2c, readLlama2cCheckpoint, permuteForHf, llama2cFileSize } from "../../src/formats/llama2c.js";
import { readLlama2cTokenizer, llama2cEncode } from "../../src/formats/llama2c-tokenizer.js";
import { openHfFolder } from "../../src/formats/hf-folder.js";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { FIXTURES, tmpDir } from "./helpers.js";

const MODEL = path.join(FIXTURES, "models", "stories260K", "stories260K.bin");
const TOK = path.join(FIXTURES, "models", "stories260K", "tok512.bin");
const dir = tmpDir("l2c-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const out = path.join(dir, "stories260K-hf");
importLlama2c({ model: MODEL, tokenizer: TOK, output: out });

test("header and size check of stories260K", () => {
  const { config } = readLlama2cCheckpoint(MODEL);
  assert.deepEqual(config, { dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512, sharedClassifier: true });
  assert.equal(llama2cFileSize(config), fs.statSync(MODEL).size);
});

test("imported folder: config and tensor names", () => {
  assert.deepEqual(fs.readdirSync(out).sort(), ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]);
  const f = openHfFolder(out);
  // The raw config.json the importer wrote (its meaning is checked by the models tests).
  const c = f.config;
  assert.equal(c.model_type, "llama");
  assert.equal(c.hidden_size, 64);
  assert.equal(c.intermediate_size, 172);
  assert.equal(c.num_hidden_layers, 5);
  assert.equal(c.num_attention_heads, 8);
  assert.equal(c.num_key_value_heads, 4);
  assert.equal(c.vocab_size, 512);
  assert.equal(c.max_position_embeddings, 512);
  assert.equal(c.rope_theta, 10000);
  assert.equal(c.rms_norm_eps, 1e-5);
  assert.equal(c.tie_word_embeddings, true);
  assert.equal(c.bos_token_id, 1);
  assert.equal(c.eos_token_id, 2);
  assert.equal(c.torch_dtype, "float32");
  const names = f.weights.names();
  assert.equal(names.length, 1 + 5 * 9 + 1);
  assert.ok(!names.includes("lm_head.weight"));
  assert.deepEqual(f.weights.info("model.layers.4.self_attn.k_proj.weight"), { dtype: "F32", shape: [32, 64] });
  assert.deepEqual(f.weights.info("model.layers.0.mlp.down_proj.weight"), { dtype: "F32", shape: [64, 172] });
  assert.deepEqual(f.weights.info("model.embed_tokens.weight"), { dtype: "F32", shape: [512, 64] });
  f.weights.close();
});

/** llama2.c's export.py permute_reverse (HF → Meta): view(n, 2, hd/2, d2).transpose(1, 2). */
function permuteReverse(w: Float32Array, nHeads: number, dim1: number, dim2: number): Float32Array {
  const hd = dim1 / nHeads;
  const half = hd / 2;
  const outW = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++)
    for (let j = 0; j < 2; j++)
      for (let i = 0; i < half; i++) {
        // input index (h, j, i) of the [n, 2, half] view goes to output (h, i, j).
        const src = (h * hd + j * half + i) * dim2;
        const dst = (h * hd + i * 2 + j) * dim2;
        outW.set(w.subarray(src, src + dim2), dst);
      }
  return outW;
}

test("q/k rows are permuted as HF's conversion does; other weights are copied", () => {
  const { weights: w } = readLlama2cCheckpoint(MODEL);
  const f = openHfFolder(out);
  for (let l = 0; l < 5; l++) {
    const q = f.weights.read(`model.layers.${l}.self_attn.q_proj.weight`).data as Float32Array;
    const k = f.weights.read(`model.layers.${l}.self_attn.k_proj.weight`).data as Float32Array;
    const v = f.weights.read(`model.layers.${l}.self_attn.v_proj.weight`).data as Float32Array;
    assert.deepEqual(permuteReverse(q, 8, 64, 64), w.wq.subarray(l * 4096, (l + 1) * 4096));
    assert.deepEqual(permuteReverse(k, 4, 32, 64), w.wk.subarray(l * 2048, (l + 1) * 2048));
    assert.deepEqual(v, w.wv.subarray(l * 2048, (l + 1) * 2048));
  }
  assert.deepEqual(f.weights.read("model.layers.2.mlp.gate_proj.weight").data, w.w1.subarray(2 * 172 * 64, 3 * 172 * 64));
  assert.deepEqual(f.weights.read("model.layers.2.mlp.up_proj.weight").data, w.w3.subarray(2 * 172 * 64, 3 * 172 * 64));
  assert.deepEqual(f.weights.read("model.norm.weight").data, w.rmsFinal);
  f.weights.close();
});

test("attention scores agree: llama2.c adjacent-pair RoPE vs HF rotate_half on permuted weights", () => {
  const { weights: w } = readLlama2cCheckpoint(MODEL);
  const dim = 64, hd = 8, nH = 8, nKv = 4, kvDim = 32;
  const wq = w.wq.subarray(0, dim * dim), wk = w.wk.subarray(0, kvDim * dim);
  const wqHf = permuteForHf(wq, nH, dim, dim), wkHf = permuteForHf(wk, nKv, kvDim, dim);
  const matvec = (m: Float32Array, x: Float64Array, rows: number) => {
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) y[r]! += m[r * dim + c]! * x[c]!;
    return y;
  };
  const ropeAdjacent = (v: Float64Array, pos: number) => {
    for (let i = 0; i < v.length; i += 2) {
      const a = pos * Math.pow(10000, -(i % hd) / hd);
      const [x0, x1] = [v[i]!, v[i + 1]!];
      v[i] = x0 * Math.cos(a) - x1 * Math.sin(a);
      v[i + 1] = x0 * Math.sin(a) + x1 * Math.cos(a);
    }
    return v;
  };
  const ropeHalf = (v: Float64Array, pos: number) => {
    for (let h = 0; h < v.length / hd; h++)
      for (let j = 0; j < hd / 2; j++) {
        const a = pos * Math.pow(10000, -(2 * j) / hd);
        const i0 = h * hd + j, i1 = i0 + hd / 2;
        const [x0, x1] = [v[i0]!, v[i1]!];
        v[i0] = x0 * Math.cos(a) - x1 * Math.sin(a);
        v[i1] = x1 * Math.cos(a) + x0 * Math.sin(a);
      }
    return v;
  };
  const x1 = Float64Array.from({ length: dim }, (_, i) => Math.sin(i * 1.3) + 0.1);
  const x2 = Float64Array.from({ length: dim }, (_, i) => Math.cos(i * 0.7) - 0.2);
  const score = (q: Float64Array, k: Float64Array, h: number) => {
    const kh = Math.floor(h / (nH / nKv));
    let s = 0;
    for (let d = 0; d < hd; d++) s += q[h * hd + d]! * k[kh * hd + d]!;
    return s;
  };
  const qa = ropeAdjacent(matvec(wq, x1, dim), 5), ka = ropeAdjacent(matvec(wk, x2, kvDim), 2);
  const qb = ropeHalf(matvec(wqHf, x1, dim), 5), kb = ropeHalf(matvec(wkHf, x2, kvDim), 2);
  for (let h = 0; h < nH; h++) {
    const a = score(qa, ka, h), b = score(qb, kb, h);
    assert.ok(Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(a)), `head ${h}: ${a} vs ${b}`);
  }
});

test("imported tokenizer: Once upon a time, round trips, agrees with llama2.c's encoder", () => {
  const tok = Tokenizer.fromFolder(out);
  assert.equal(tok.vocabSize, 512);
  assert.equal(tok.bosTokenId, 1);
  assert.equal(tok.eosTokenId, 2);
  assert.equal(tok.padTokenId, 2);
  assert.deepEqual(tok.encode("Once upon a time"), [1, 403, 407, 261, 378]);
  assert.deepEqual(tok.tokenize("Once upon a time"), ["▁Once", "▁upon", "▁a", "▁time"]);
  const gold = [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433];
  assert.equal(tok.decode([1, ...gold], { skipSpecialTokens: true }), "Once upon a time, there was a little girl named Lily. She loved to play outside in the park");
  const raw = readLlama2cTokenizer(TOK, 512);
  const texts = [
    "Once upon a time, there was a little girl named Lily.",
    "Tom said, \"Let's go to the park!\" and they ran.",
    "Hello  world",
    "  two leading spaces",
    "tab\there\nnew line",
    "naïve café 日本 🦙",
    "The end.",
    "a",
  ];
  for (const t of texts) {
    const ids = tok.encode(t);
    assert.deepEqual(ids, llama2cEncode(raw, t), JSON.stringify(t));
    assert.equal(tok.decode(ids, { skipSpecialTokens: true }), t, JSON.stringify(t));
  }
  assert.deepEqual(tok.encode(""), [1]);
});

test("truncated, oversized, v1 and garbage checkpoints are rejected clearly", () => {
  const bytes = fs.readFileSync(MODEL);
  const cut = path.join(dir, "cut.bin");
  fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
  assert.throws(() => readLlama2cCheckpoint(cut), new RegExp(`${cut.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: truncated llama2.c checkpoint: 1056440 bytes, the header implies 1056540`));
  const tiny = path.join(dir, "tiny.bin");
  fs.writeFileSync(tiny, bytes.subarray(0, 10));
  assert.throws(() => readLlama2cCheckpoint(tiny), /tiny\.bin: truncated llama2\.c checkpoint \(10 bytes/);
  const long = path.join(dir, "long.bin");
  fs.writeFileSync(long, Buffer.concat([bytes, Buffer.alloc(8)]));
  assert.throws(() => readLlama2cCheckpoint(long), /long\.bin: 8 unexpected trailing bytes/);
  const v1 = path.join(dir, "v1.bin");
  const h = Buffer.alloc(256);
  h.writeUInt32LE(0x616b3432, 0);
  fs.writeFileSync(v1, h);
  assert.throws(() => readLlama2cCheckpoint(v1), /v1\.bin: llama2\.c v1\/v2/);
  const junk = path.join(dir, "junk.bin");
  const j = Buffer.from(bytes.subarray(0, 64));
  j.writeInt32LE(-5, 0);
  fs.writeFileSync(junk, j);
  assert.throws(() => readLlama2cCheckpoint(junk), /junk\.bin: header field dim = -5/);
  const heads = Buffer.from(bytes.subarray(0, 64));
  heads.writeInt32LE(3, 16); // n_kv_heads 3 does not divide 8
  fs.writeFileSync(junk, heads);
  assert.throws(() => readLlama2cCheckpoint(junk), /n_kv_heads/);
});

test("truncated tokenizer and atomic output", () => {
  const tbytes = fs.readFileSync(TOK);
  const cut = path.join(dir, "tok-cut.bin");
  fs.writeFileSync(cut, tbytes.subarray(0, 3000));
  assert.throws(() => readLlama2cTokenizer(cut, 512), /tok-cut\.bin: truncated llama2\.c tokenizer/);
  assert.throws(() => readLlama2cTokenizer(TOK, 500), /tok512\.bin: \d+ trailing bytes after 500 tokens/);
  const target = path.join(dir, "never");
  assert.throws(() => importLlama2c({ model: MODEL, tokenizer: cut, output: target }), /truncated/);
  assert.equal(fs.existsSync(target), false);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes(".tmp")), []);
  assert.throws(() => importLlama2c({ model: MODEL, tokenizer: TOK, output: out }), /output folder already exists/);
  importLlama2c({ model: MODEL, tokenizer: TOK, output: out, overwrite: true });
  assert.ok(fs.existsSync(path.join(out, "model.safetensors")));
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes(".tmp")), []);
});
