/**
 * Texts the reference's word rule cuts to nothing (long texts without spaces, or any text under
 * docMaxLength 1) are pooled over their real tokens on the server as in `encode`: a unit vector,
 * never the all-zero vector an empty pooling set gave.
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { storiesFolder } from "../helpers/stories.js";
import { post, startServer } from "./helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-zero-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const url = "https://example.com/" + "a".repeat(2980);
const cjk = "漢字".repeat(250);
const word = "onceuponatimetherewasalittlegirl".repeat(100);

describe("/v1/embeddings: texts cut to nothing", () => {
  for (const [label, load, input] of [
    ["over docMaxLength, no spaces", {}, [url, cjk, word]],
    ["docMaxLength 1", { docMaxLength: 1 }, ["hello world", "Lily saw a big dog."]],
  ] as const) {
    it(`${label}: unit vectors`, async () => {
      const s = await startServer({ load });
      try {
        const r = await post(s.port, JSON.stringify({ model: "stories260K", input, encoding_format: "float" }));
        assert.equal(r.status, 200, r.body);
        const data = (JSON.parse(r.body) as { data: { embedding: number[] }[] }).data;
        assert.equal(data.length, input.length);
        for (const d of data) assert.ok(Math.abs(Math.hypot(...d.embedding) - 1) < 1e-4, `norm ${Math.hypot(...d.embedding)}`);
      } finally {
        await s.close();
      }
    });
  }
});

describe("/v1/embeddings: an embedding with no direction", () => {
  it("a model whose every embedding is zero gets 500 zero_embedding naming the input, never a zero 'unit' vector", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    // A zero final norm makes every hidden state, so every pooled vector, zero.
    for (const [name, t] of enc.model.namedWeights()) if (name === "model.norm.weight") t.f32.fill(0);
    const dir = path.join(tmp, "zero-norm");
    enc.save(dir);
    const s = await startServer({ model: dir });
    try {
      const r = await post(s.port, JSON.stringify({ model: "stories260K", input: ["Lily saw a big dog."] }));
      assert.equal(r.status, 500, r.body);
      const err = (JSON.parse(r.body) as { error: { code: string; message: string } }).error;
      assert.equal(err.code, "zero_embedding");
      assert.match(err.message, /input 0 produced an all-zero embedding/);
    } finally {
      await s.close();
    }
  });
});
