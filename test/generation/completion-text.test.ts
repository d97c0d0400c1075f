/**
 * A completion's text is what follows the prompt's text: the continuation is decoded together with
 * the prompt's last tokens and the prompt's part cut off (Hugging Face's pipelines do the same), so
 * a SentencePiece decoder that strips a leading space does not eat the completion's first space.
 * Streamed deltas add up to that text, on a SentencePiece (Llama) and a byte-level BPE (Qwen2,
 * GPT-2) tokenizer.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateCommand } from "../../src/cli/commands/generate.js";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { generateText } from "../../src/generation/index.js";
import { loadModelFolder } from "../../src/models/load.js";
import { storiesFolder } from "../helpers/stories.js";

/** The text Hugging Face's text-generation pipeline returns: decode(prompt + new) minus decode(prompt). */
function pipelineText(tok: Tokenizer, prompt: readonly number[], ids: readonly number[]): string {
  const all = tok.decode([...prompt, ...ids], { skipSpecialTokens: true });
  const head = tok.decode(prompt, { skipSpecialTokens: true });
  assert.ok(all.startsWith(head), "the prompt's text is a prefix");
  return all.slice(head.length);
}

/** GPT-2's byte → printable character map (the ByteLevel pre-tokenizer and decoder use it). */
function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return out;
}

/**
 * A byte-level BPE tokenizer (Qwen2's decoder and pre-tokenizer) with 512 ids, so that
 * stories260K's 512 logits can drive it: 255 merges of "Ġ" + letter and letter pairs, the 256
 * bytes after them (where the model's usual ids fall, so samples split multi-byte characters),
 * and <|endoftext|> at 511.
 */
function byteLevelTokenizer(): Tokenizer {
  const chars = bytesToUnicode();
  const vocab: Record<string, number> = {};
  chars.forEach((c, b) => (vocab[c] = 255 + b));
  const merges: string[] = [];
  const letters = "etaoinshrdlucmfwypvbgkjqxz";
  const pairs: [string, string][] = [...letters].map((l) => ["Ġ", l]);
  for (const a of letters) for (const b of letters) pairs.push([a, b]);
  for (const [a, b] of pairs) {
    if (merges.length === 255) break;
    vocab[a + b] = merges.length;
    merges.push(`${a} ${b}`);
  }
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true };
  return Tokenizer.fromJson(
    {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [{ id: 511, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      normalizer: { type: "NFC" },
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, use_regex: false },
      decoder: { ...byteLevel, use_regex: false },
      model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, vocab, merges },
    },
    { eos_token: "<|endoftext|>", bos_token: null },
    "byte-level test tokenizer",
  );
}

describe("completion text", () => {
  const dir = storiesFolder();
  const model = loadModelFolder(dir);
  const llama = Tokenizer.fromFolder(dir);

  it("SentencePiece: 'Once upon' continues with its leading space, as the pipeline decodes it", () => {
    const prompt = llama.encode("Once upon");
    const deltas: string[] = [];
    const [r] = generateText(model, llama, [prompt], { maxTokens: 12, greedy: true }, (d) => deltas.push(d.text));
    assert.match(r!.text, /^ a time/);
    assert.equal(r!.text, pipelineText(llama, prompt, r!.ids));
    assert.equal(deltas.join(""), r!.text);
    assert.equal(deltas.find((d) => d !== ""), " a", "the first delta carries the space");
  });

  it("the CLI and LLM2Vec.generate continue with the space too", async () => {
    const cli = await generateCommand({ model: dir, prompt: "Once upon", maxTokens: "8", greedy: true });
    assert.match(cli.text, /^ a time/);
    const enc = await LLM2Vec.fromPretrained(dir);
    const deltas: string[] = [];
    const r = await enc.generate("Once upon", { maxTokens: 8, greedy: true, onDelta: (d) => deltas.push(d.text) });
    assert.equal(r.text, cli.text);
    assert.equal(deltas.join(""), r.text);
  });

  it("byte-level BPE: sampled text (split multi-byte characters included) streams whole and matches the pipeline", () => {
    const tok = byteLevelTokenizer();
    let nonAscii = 0;
    for (const text of ["Once upon", "Un café"]) {
      const prompt = tok.encode(text);
      for (let seed = 0; seed < 12; seed++) {
        const deltas: string[] = [];
        const [r] = generateText(model, tok, [prompt], { maxTokens: 32, temperature: 1, seed, stopIds: [511] }, (d) => deltas.push(d.text));
        assert.equal(deltas.join(""), r!.text, `seed ${seed}`);
        assert.equal(r!.text, pipelineText(tok, prompt, r!.ids), `seed ${seed}`);
        nonAscii += [...r!.text].filter((c) => c.codePointAt(0)! > 0x7f && c !== "\ufffd").length;
      }
    }
    assert.ok(nonAscii > 0, "the samples hold multi-byte characters, split over byte tokens");
  });
});
