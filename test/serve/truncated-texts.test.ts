/**
 * Texts the reference's word rule cuts to nothing (long texts without spaces, or any text under
 * docMaxLength 1) are pooled over their real tokens on the server as in `encode`: a unit vector,
 * never the all-zero vector an empty pooling set gave.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { post, startServer } from "./helpers.js";

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
