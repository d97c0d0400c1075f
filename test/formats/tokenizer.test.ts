import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { FIXTURES, tmpDir, unpackTokenizer } from "./helpers.js";

const GOLDEN = path.join(FIXTURES, "tokenizers", "golden");
const llamaDir = unpackTokenizer("llama2");
const gpt2Dir = unpackTokenizer("gpt2");
const scratch = tmpDir("tok-scratch-");
after(() => {
  for (const d of [llamaDir, gpt2Dir, scratch]) fs.rmSync(d, { recursive: true, force: true });
});
const llama = Tokenizer.fromFolder(llamaDir);
const gpt2 = Tokenizer.fromFolder(gpt2Dir);

const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(GOLDEN, f), "utf8"));

/** llama.cpp's vocab tests: inputs joined by `__ggml_vocab_test__` lines, one line of ids per input (no BOS). */
function llamaCppCases(name: string): Array<{ text: string; ids: number[] }> {
  const inp = fs.readFileSync(path.join(GOLDEN, `ggml-vocab-${name}.gguf.inp`), "utf8").split("\n__ggml_vocab_test__\n");
  // The file ends with a separator line, so the last split piece is empty.
  if (inp[inp.length - 1] === "" || inp[inp.length - 1] === "\n") inp.pop();
  const out = fs.readFileSync(path.join(GOLDEN, `ggml-vocab-${name}.gguf.out`), "utf8").split("\n");
  return inp.map((text, i) => ({ text, ids: out[i]!.trim() === "" ? [] : out[i]!.trim().split(/\s+/).map(Number) }));
}

test("special tokens of the Llama-2 tokenizer: BOS added, pad := eos", () => {
  assert.equal(llama.bosToken, "<s>");
  assert.equal(llama.bosTokenId, 1);
  assert.equal(llama.eosTokenId, 2);
  assert.equal(llama.padToken, "</s>"); // tokenizer_config has pad_token null
  assert.equal(llama.padTokenId, 2);
  assert.equal(llama.addsBos, true);
  assert.equal(llama.addsEos, false);
  assert.equal(llama.vocabSize, 32000);
  assert.equal(llama.tokenToId("▁hello"), 22172);
  assert.deepEqual(llama.encode("Hello world"), [1, 15043, 3186]);
  assert.deepEqual(llama.encode("Hello world", { addSpecialTokens: false }), [15043, 3186]);
  assert.equal(llama.decode([1, 15043, 3186], { skipSpecialTokens: true }), "Hello world");
  assert.equal(llama.decode([1, 15043, 3186]), "<s> Hello world");
});

test("special tokens of GPT-2: no BOS added, everything is <|endoftext|>", () => {
  assert.equal(gpt2.bosTokenId, 50256);
  assert.equal(gpt2.eosTokenId, 50256);
  assert.equal(gpt2.padTokenId, 50256);
  assert.equal(gpt2.addsBos, false);
  assert.equal(gpt2.vocabSize, 50257);
  assert.deepEqual(gpt2.encode("Hello world"), [15496, 995]);
});

test("llama.cpp golden ids: llama-spm against the Llama-2 tokenizer", () => {
  const cases = llamaCppCases("llama-spm");
  assert.equal(cases.length, 46);
  for (const c of cases) assert.deepEqual(llama.encode(c.text, { addSpecialTokens: false }), c.ids, JSON.stringify(c.text));
});

test("llama.cpp golden ids: gpt-2", () => {
  const cases = llamaCppCases("gpt-2");
  assert.equal(cases.length, 46);
  for (const c of cases) assert.deepEqual(gpt2.encode(c.text, { addSpecialTokens: false }), c.ids, JSON.stringify(c.text));
});

test("llama-tokenizer-js golden ids (with BOS)", () => {
  const cases = readJson("llama-tokenizer-js_1.2.2.tests.json") as Array<{ text: string; ids: number[] }>;
  assert.equal(cases.length, 12);
  for (const c of cases) assert.deepEqual(llama.encode(c.text), c.ids, JSON.stringify(c.text).slice(0, 60));
});

test("swift-transformers encoded samples (Llama-2 and GPT-2)", () => {
  const l = readJson("llama_encoded.json");
  const ids = llama.encode(l.text);
  assert.deepEqual(ids, l.token_ids);
  assert.deepEqual(llama.tokenize(l.text), l.bpe_tokens);
  assert.equal(llama.decode(ids), l.decoded_text);
  const g = readJson("gpt2_encoded_tokens.json");
  assert.deepEqual(gpt2.encode(g.text), g.token_ids);
  assert.equal(gpt2.decode(g.token_ids), g.decoded_text);
});

test("swift-transformers multilingual ids (TinyLlama = Llama-2 vocab, GPT-2)", () => {
  const inputs = readJson("multilingual_inputs.json").inputs as Array<{ id: string; text: string }>;
  const cases: Array<[Tokenizer, string]> = [
    [llama, "multilingual_TinyLlama__TinyLlama-1.1B-Chat-v1.0.json"],
    [gpt2, "multilingual_openai-community__gpt2.json"],
  ];
  for (const [tok, file] of cases) {
    const entries = readJson(file).entries as Record<string, { input_ids: number[]; decoded_skip_special: string }>;
    let n = 0;
    for (const inp of inputs) {
      const e = entries[inp.id];
      if (!e) continue;
      n++;
      assert.deepEqual(tok.encode(inp.text), e.input_ids, `${file} ${inp.id}`);
      const decoded = tok.decode(e.input_ids, { skipSpecialTokens: true });
      if (file.includes("gpt2") && inp.id === "ipa_basic") {
        // Known difference: gpt2's tokenizer_config has clean_up_tokenization_spaces: true, so
        // the JS library (like transformers' own clean_up_tokenization) turns " 's" into "'s"
        // ("for 'ship'" → "for'ship'"). The golden file was produced by transformers 4.57 with
        // clean-up off for this model, so it keeps the space. Ids are identical.
        assert.equal(decoded, e.decoded_skip_special.replace("for 'ship'", "for'ship'"));
        continue;
      }
      assert.equal(decoded, e.decoded_skip_special, `${file} ${inp.id} decode`);
    }
    assert.equal(n, 30);
  }
});

test("encodeBatch: right truncation, left padding with pad = eos, mask", () => {
  const texts = ["Hello world", "Hi", "The quick brown fox jumps over the lazy dog"];
  const full = texts.map((t) => llama.encode(t));
  const b = llama.encodeBatch(texts, { padding: "left" });
  const width = Math.max(...full.map((r) => r.length));
  for (let i = 0; i < texts.length; i++) {
    const ids = Array.from(b.inputIds[i]!);
    const mask = Array.from(b.attentionMask[i]!);
    assert.equal(ids.length, width);
    const pad = width - full[i]!.length;
    assert.deepEqual(ids, [...Array(pad).fill(2), ...full[i]!]);
    assert.deepEqual(mask, [...Array(pad).fill(0), ...Array(full[i]!.length).fill(1)]);
  }
  const t = llama.encodeBatch(texts, { maxLength: 4, padding: "left" });
  assert.deepEqual(Array.from(t.inputIds[2]!), full[2]!.slice(0, 4)); // BOS kept, text cut on the right
  const hi = full[1]!;
  assert.deepEqual(Array.from(t.inputIds[1]!), [...Array(4 - hi.length).fill(2), ...hi]);
  assert.deepEqual(Array.from(t.attentionMask[1]!), [...Array(4 - hi.length).fill(0), ...Array(hi.length).fill(1)]);
  const m = llama.encodeBatch(["Hi"], { maxLength: 6, padToMaxLength: true });
  assert.equal(m.inputIds[0]!.length, 6);
  assert.ok(m.inputIds[0] instanceof Int32Array && m.attentionMask[0] instanceof Uint8Array);
  assert.throws(() => llama.encodeBatch(["x"], { maxLength: 0 }), /maxLength must be a positive integer/);
  assert.deepEqual(llama.encodeBatch([]), { inputIds: [], attentionMask: [] });
});

test("tokenizer_config add_bos_token / add_eos_token override the post-processor", () => {
  const d = path.join(scratch, "eos");
  fs.mkdirSync(d);
  fs.copyFileSync(path.join(llamaDir, "tokenizer.json"), path.join(d, "tokenizer.json"));
  const cfg = JSON.parse(fs.readFileSync(path.join(llamaDir, "tokenizer_config.json"), "utf8"));
  fs.writeFileSync(path.join(d, "tokenizer_config.json"), JSON.stringify({ ...cfg, add_bos_token: false, add_eos_token: true, pad_token: "<unk>" }));
  const t = Tokenizer.fromFolder(d);
  assert.equal(t.addsBos, false);
  assert.equal(t.addsEos, true);
  assert.equal(t.padTokenId, 0);
  assert.deepEqual(t.encode("Hello world"), [15043, 3186, 2]);
  // With EOS appended, truncation keeps the EOS as the last token (as transformers does).
  assert.deepEqual(Array.from(t.encodeBatch(["Hello world"], { maxLength: 2 }).inputIds[0]!), [15043, 2]);
});

test("missing tokenizer.json names the folder", () => {
  const d = path.join(scratch, "empty");
  fs.mkdirSync(d);
  assert.throws(() => Tokenizer.fromFolder(d), (e: unknown) => e instanceof Error && e.message.includes(d) && /no tokenizer\.json/.test(e.message));
  fs.writeFileSync(path.join(d, "tokenizer.json"), "{broken");
  assert.throws(() => Tokenizer.fromFolder(d), /tokenizer\.json: cannot read tokenizer file/);
  fs.writeFileSync(path.join(d, "tokenizer.json"), "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n");
  assert.throws(() => Tokenizer.fromFolder(d), /weights not downloaded \(Git LFS pointer\): .*tokenizer\.json/);
});

/** A copy of the Llama-2 tokenizer.json with `edit` applied, loaded from a fresh folder. */
function loadEdited(name: string, edit: (tj: Record<string, any>) => void): () => Tokenizer {
  const d = path.join(scratch, name);
  fs.mkdirSync(d);
  const tj = JSON.parse(fs.readFileSync(path.join(llamaDir, "tokenizer.json"), "utf8"));
  edit(tj);
  fs.writeFileSync(path.join(d, "tokenizer.json"), JSON.stringify(tj));
  return () => Tokenizer.fromFolder(d);
}

function throwsNaming(load: () => unknown, field: RegExp): void {
  assert.throws(load, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /tokenizer\.json: /, `names the file: ${e.message}`);
    assert.match(e.message, field);
    return true;
  });
}

test("a corrupt vocabulary or merge list is refused at load, naming file and field", () => {
  // Each of these loaded before (the first turned every word into <unk>).
  throwsNaming(loadEdited("vocab-array", (tj) => (tj.model.vocab = [1, 2])), /model\.vocab of a BPE model must be an object/);
  throwsNaming(loadEdited("vocab-id", (tj) => (tj.model.vocab["▁the"] = -3)), /model\.vocab\["▁the"\] must be a non-negative integer id/);
  throwsNaming(loadEdited("vocab-dup", (tj) => (tj.model.vocab["▁the"] = tj.model.vocab["▁a"])), /gives id \d+ to both/);
  throwsNaming(loadEdited("vocab-empty", (tj) => (tj.model.vocab = {})), /model\.vocab is empty/);
  throwsNaming(loadEdited("no-merges", (tj) => delete tj.model.merges), /model\.merges is missing/);
  throwsNaming(loadEdited("merge-3", (tj) => (tj.model.merges[5] = "a b c")), /model\.merges\[5\] must be two tokens/);
  throwsNaming(loadEdited("merge-oov", (tj) => (tj.model.merges[7] = "▁t zzzunknown")), /model\.merges\[7\] .*"zzzunknown", which is not in model\.vocab/);
  throwsNaming(loadEdited("added", (tj) => (tj.added_tokens[1] = { content: "<s>" })), /added_tokens\[1\] must have a non-negative integer "id"/);
  throwsNaming(loadEdited("no-model", (tj) => delete tj.model), /"model" must be an object/);
  throwsNaming(loadEdited("unigram", (tj) => (tj.model = { type: "Unigram", vocab: [["a", 0], ["b"]] })), /model\.vocab\[1\] must be a \[token, score\] pair/);
  // The untouched copy still loads (the checks accept real tokenizers).
  assert.equal(loadEdited("unchanged", () => {})().vocabSize, 32000);
});
