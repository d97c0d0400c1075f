/** encodeQueries / encodeDocuments and a lone string to encode(), on the real stories260K model. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { storiesFolder } from "../helpers/stories.js";

const INSTR = "Given a question, retrieve the story that answers it:";

describe("encoder: queries and documents", () => {
  let enc: LLM2Vec;
  before(async () => {
    enc = await LLM2Vec.fromPretrained(storiesFolder(), { onNote: () => {} });
  });

  it("encodeQueries gives each query as an [instruction, text] pair; encodeDocuments gives plain texts", async () => {
    const qs = ["what did Tom give the bird?", "where did Mia swim?"];
    assert.deepEqual(await enc.encodeQueries(qs, { instruction: INSTR }), await enc.encode(qs.map((q) => [INSTR, q] as [string, string])));
    assert.deepEqual(await enc.encodeDocuments(qs), await enc.encode(qs));
    // The instruction changes the vector (it conditions the text), so the comparison above is not vacuous.
    const [withI] = await enc.encodeQueries(qs[0]!, { instruction: INSTR });
    const [plain] = await enc.encodeDocuments(qs[0]!);
    assert.notDeepEqual(withI, plain);
  });

  it("a lone string is a list of one", async () => {
    const out = await enc.encode("Lily had a red ball.");
    assert.equal(out.length, 1);
    assert.deepEqual(out, await enc.encode(["Lily had a red ball."]));
  });

  it("the default query instruction comes from the option, else llm2vec_config.json's query_instruction", async () => {
    const q = "what did Tom give the bird?";
    const want = await enc.encode([[INSTR, q]]);
    const byOption = await LLM2Vec.fromPretrained(storiesFolder(), { queryInstruction: INSTR, onNote: () => {} });
    assert.deepEqual(await byOption.encodeQueries([q]), want);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-qi-"));
    try {
      for (const f of fs.readdirSync(storiesFolder())) fs.copyFileSync(path.join(storiesFolder(), f), path.join(dir, f));
      fs.writeFileSync(path.join(dir, "llm2vec_config.json"), JSON.stringify({ query_instruction: INSTR }));
      const byFile = await LLM2Vec.fromPretrained(dir, { onNote: () => {} });
      assert.equal(byFile.options.queryInstruction, INSTR);
      assert.deepEqual(await byFile.encodeQueries([q]), want);
      fs.writeFileSync(path.join(dir, "llm2vec_config.json"), JSON.stringify({ query_instruction: 3 }));
      await assert.rejects(LLM2Vec.fromPretrained(dir, { onNote: () => {} }), /llm2vec_config\.json: queryInstruction must be a string or null/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a non-string text, naming it", async () => {
    await assert.rejects(enc.encodeQueries(["ok", 3 as unknown as string]), /encodeQueries: texts\[1\] must be a string/);
  });
});
