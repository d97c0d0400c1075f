/**
 * LangChain.js and LlamaIndex.TS with LLM2Vec embeddings, through their own retrieval helpers
 * (MemoryVectorStore, VectorStoreIndex), in-process and against `llm2vec serve`: the query
 * vector is encodeQueries' (the instruction reaches the model), documents are encodeDocuments'.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryVectorStore } from "@langchain/classic/vectorstores/memory";
import { Document, MetadataMode, Settings, VectorStoreIndex } from "llamaindex";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { LLM2VecEmbeddings } from "../../src/integrations/langchain.js";
import { LLM2VecEmbedding } from "../../src/integrations/llamaindex.js";
import { storiesFolder } from "../helpers/stories.js";
import { maxDiff, startServer, type TestServer } from "../serve/helpers.js";

const INSTR = "Given a question, retrieve the story that answers it:";
const STORIES = [
  "Lily had a red ball. She played with her dog in the park every day.",
  "Tom found a little bird in the garden. The bird was hungry, so Tom gave it seeds.",
  "The sun was hot, so Mia and her mom went to the beach and swam in the sea.",
  "Ben was sad because his toy car was broken. His dad fixed it and Ben smiled.",
];
const QUESTION = "What did Tom give the bird?";

describe("integrations", () => {
  let enc: LLM2Vec;
  let server: TestServer;
  let queryVec: Float32Array;
  let best: string;
  before(async () => {
    enc = await LLM2Vec.fromPretrained(storiesFolder(), { onNote: () => {} });
    server = await startServer();
    [queryVec] = await enc.encodeQueries([QUESTION], { instruction: INSTR, normalize: true });
    const docs = await enc.encodeDocuments(STORIES, { normalize: true });
    const scores = docs.map((d) => d.reduce((s, x, k) => s + x * queryVec[k]!, 0));
    best = STORIES[scores.indexOf(Math.max(...scores))]!;
  });
  after(() => server.close());

  for (const where of ["in-process", "server"] as const) {
    const make = () => (where === "in-process" ? { model: enc, queryInstruction: INSTR } : { url: server.url, modelName: "stories260K", queryInstruction: INSTR });

    it(`LangChain (${where}): embedQuery is encodeQueries', MemoryVectorStore retrieves the nearest story, [] gives []`, async () => {
      const emb = new LLM2VecEmbeddings(make());
      assert.ok(maxDiff(await emb.embedQuery(QUESTION), queryVec) < 1e-5);
      const [d0] = await emb.embedDocuments([STORIES[0]!]);
      assert.ok(maxDiff(d0!, (await enc.encodeDocuments(STORIES[0]!, { normalize: true }))[0]!) < 1e-5);
      assert.deepEqual(await emb.embedDocuments([]), []);
      const store = await MemoryVectorStore.fromTexts(STORIES, STORIES.map((_, i) => ({ i })), emb);
      const [hit] = await store.similaritySearch(QUESTION, 1);
      assert.equal(hit!.pageContent, best);
    });

    it(`LlamaIndex (${where}): getQueryEmbedding is encodeQueries', VectorStoreIndex retrieves the nearest story`, async () => {
      const emb = new LLM2VecEmbedding(make());
      assert.ok(maxDiff((await emb.getQueryEmbedding({ type: "text", text: QUESTION }))!, queryVec) < 1e-5);
      assert.deepEqual(await emb.getTextEmbeddings([]), []);
      Settings.embedModel = emb;
      const index = await VectorStoreIndex.fromDocuments(STORIES.map((text, i) => new Document({ text, id_: `s${i}` })));
      const [hit] = await index.asRetriever({ similarityTopK: 1 }).retrieve({ query: QUESTION });
      assert.equal(hit!.node.getContent(MetadataMode.NONE), best);
    });
  }

  it("refuses both or neither of model and url", () => {
    assert.throws(() => new LLM2VecEmbeddings({}), /exactly one of `model`.*or `url`/);
    assert.throws(() => new LLM2VecEmbedding({ model: enc, url: "http://x" }), /exactly one of/);
  });
});
