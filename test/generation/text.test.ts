/** Text generation: streaming deltas, stop strings, chat templates (rendered by @huggingface/jinja). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { ChatTemplate, ChatTemplateError, generateText, TextDecodeSession, TextStream } from "../../src/generation/index.js";
import { generate } from "../../src/models/generate.js";
import { loadModelFolder } from "../../src/models/load.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

const GOLDEN_TEXT = "Once upon a time, there was a little girl named Lily.";

describe("text generation", () => {
  const dir = storiesFolder();
  const model = loadModelFolder(dir);
  const tok = Tokenizer.fromFolder(dir);

  it("streamed deltas add up to the final text, which decodes the generated ids", () => {
    const deltas: string[] = [];
    const [r] = generateText(model, tok, [[1]], { maxTokens: 30, greedy: true }, (d) => deltas.push(d.text));
    assert.equal(deltas.join(""), r!.text);
    assert.ok(deltas.length > 5, "text came in several pieces");
    assert.equal(r!.text, tok.decode(r!.ids, { skipSpecialTokens: true }));
    assert.ok(r!.text.startsWith(GOLDEN_TEXT), r!.text);
    assert.equal(r!.finishReason, "length");
  });

  it("a stop string ends the text just before it (also across tokens), and generation stops there", () => {
    const deltas: string[] = [];
    const [r] = generateText(model, tok, [[1]], { maxTokens: 30, greedy: true, stop: ["little girl"] }, (d) => deltas.push(d.text));
    assert.equal(r!.text, "Once upon a time, there was a ");
    assert.equal(deltas.join(""), r!.text, "no part of the stop string was streamed");
    assert.equal(r!.finishReason, "stop");
    assert.ok(r!.ids.length < 30);
    // A stop string that never occurs changes nothing.
    const [n] = generateText(model, tok, [[1]], { maxTokens: 30, greedy: true, stop: ["zebra unicorn"] });
    assert.equal(n!.text, tok.decode(generate(model, [1], { maxTokens: 30, greedy: true }), { skipSpecialTokens: true }));
    assert.equal(n!.finishReason, "length");
    assert.throws(() => generateText(model, tok, [[1]], { stop: [""] }), /stop strings must be non-empty/);
  });

  it("TextStream holds back a possible stop-string start and a split multi-byte character", () => {
    const fake = { decode: (ids: readonly number[]) => ["ab", "ab<", "ab<e", "ab<x", "ab<x\ufffd", "ab<x€"][ids.length - 1]! } as unknown as Tokenizer;
    const s = new TextStream(fake, ["<end>"]);
    assert.equal(s.update([1]), "ab");
    assert.equal(s.update([1, 2]), "");
    assert.equal(s.update([1, 2, 3]), "");
    assert.equal(s.update([1, 2, 3, 4]), "<x");
    assert.equal(s.update([1, 2, 3, 4, 5]), "");
    assert.equal(s.update([1, 2, 3, 4, 5, 6]), "€");
  });

  it("cancelling a row stops its deltas while the other row goes on", () => {
    const s = new TextDecodeSession(model, tok, [[1], [1, 403]], { maxTokens: 12, greedy: true });
    s.step();
    s.cancel(0);
    const rows = new Set<number>();
    while (!s.done) for (const d of s.step()) rows.add(d.row);
    assert.deepEqual([...rows], [1]);
  });

  it("chat templates render as transformers would; failures name the template", () => {
    const src = path.join(FIXTURES, "chat-templates/phi-3-mini.jinja");
    const t = new ChatTemplate(fs.readFileSync(src, "utf8"), src);
    const text = t.render([{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], { eos_token: "<|endoftext|>" });
    assert.equal(text, "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n");
    assert.equal(t.render([{ role: "user", content: "Hi" }], { eos_token: "</s>" }, { addGenerationPrompt: false }), "<|user|>\nHi<|end|>\n</s>");
    assert.throws(() => new ChatTemplate("{% for m in messages %}", "my-template.jinja"), (e: Error) => e instanceof ChatTemplateError && /chat template of my-template\.jinja does not parse/.test(e.message));
    const refusing = new ChatTemplate("{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation must start with user') }}{% endif %}ok", "strict.jinja");
    assert.throws(() => refusing.render([{ role: "assistant", content: "x" }], {}), /chat template of strict\.jinja failed to render: Conversation must start with user/);
    const broken = new ChatTemplate("{{ messages[0].content.nope() }}", "broken.jinja");
    assert.throws(() => broken.render([{ role: "user", content: "x" }], {}), /chat template of broken\.jinja failed to render/);
  });

  it("tokenizer_config.json's chat_template is read, or chat_template.jinja beside it", () => {
    assert.equal(tok.chatTemplate, null);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-chat-"));
    try {
      fs.copyFileSync(path.join(dir, "tokenizer.json"), path.join(tmp, "tokenizer.json"));
      fs.writeFileSync(path.join(tmp, "chat_template.jinja"), "{{ messages[0].content }}");
      assert.equal(Tokenizer.fromFolder(tmp).chatTemplate, "{{ messages[0].content }}");
      fs.writeFileSync(path.join(tmp, "tokenizer_config.json"), JSON.stringify({ chat_template: [{ name: "default", template: "D" }, { name: "rag", template: "R" }] }));
      assert.equal(Tokenizer.fromFolder(tmp).chatTemplate, "D");
      fs.writeFileSync(path.join(tmp, "tokenizer_config.json"), JSON.stringify({ chat_template: 7 }));
      assert.throws(() => Tokenizer.fromFolder(tmp), /chat_template must be a string or a list/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
