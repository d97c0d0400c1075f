/**
 * tokenPieces (TEI's /tokenize tokens): each token's text and character span in the decoded
 * text, on SentencePiece with byte fallback (Llama 2) and byte-level BPE (GPT-2), multilingual
 * inputs included, where tokens end inside characters.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { tokenPieces } from "../../src/formats/token-pieces.js";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { FIXTURES, unpackTokenizer } from "./helpers.js";

const inputs = [
  "Once upon a time, there was",
  "  leading spaces and a trailing one ",
  ...(JSON.parse(fs.readFileSync(path.join(FIXTURES, "tokenizers/golden/multilingual_inputs.json"), "utf8")).inputs as { text: string }[]).map((e) => e.text).slice(0, 40),
];

for (const name of ["llama2", "gpt2"])
  describe(`tokenPieces: ${name}`, () => {
    const tok = Tokenizer.fromFolder(unpackTokenizer(name));
    it("spans tile the decoded text and each token's text is its span", () => {
      for (const text of inputs) {
        const ids = tok.encode(text);
        const pieces = tokenPieces(tok, ids);
        assert.deepEqual(pieces.map((p) => p.id), ids);
        const chars = [...tok.decode(ids, { skipSpecialTokens: true, cleanUpSpaces: false })];
        // Both tokenizers are lossless on these inputs: the spans index the input itself.
        assert.equal(chars.join(""), text);
        let at = 0;
        for (const p of pieces) {
          if (p.special) {
            assert.equal(p.start, null);
            continue;
          }
          // Tokens of one character share its span; otherwise spans follow one another.
          assert.ok(p.start === at || (p.stop === at && p.start! < at), `${JSON.stringify(text)}: ${JSON.stringify(p)} at ${at}`);
          assert.equal(p.text, chars.slice(p.start!, p.stop!).join(""), JSON.stringify(text));
          at = p.stop!;
        }
        assert.equal(at, chars.length, JSON.stringify(text));
      }
    });
    it("special tokens are marked and keep their own text", () => {
      const ids = tok.encode("hi");
      for (const p of tokenPieces(tok, [...ids, ...(tok.eosTokenId !== null ? [tok.eosTokenId] : [])]).filter((p) => p.special)) assert.equal(p.text, tok.idToToken(p.id));
      assert.equal(tok.isSpecial(tok.eosTokenId!), true);
    });
    it("no ids: no pieces, and decode of none is empty", () => {
      assert.deepEqual(tokenPieces(tok, []), []);
      assert.equal(tok.decode([]), "");
    });
  });
