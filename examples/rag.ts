/**
 * Retrieval-augmented generation with ONE model and the embedded vector store: the shipped
 * stories260K Llama both embeds the corpus into the store (bidirectional, mean pooling; with LLM2Vec adapters they would be attached, unmerged)
 * and writes the answer (causal, the base weights, no adapter), from one LLM2Vec object and one
 * copy of the weights.
 *   npm run build && node dist/examples/rag.js ["your question"]
 *
 * stories260K is a 260K-parameter toy trained on children's stories: its retrieval is weak and its
 * "answers" are toy stories that continue the prompt, not answers. The point is the plumbing;
 * bring a real instruction-tuned model (and its LLM2Vec adapters) for real answers.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
// A user imports these from "llm2vec" and "llm2vec/store"; the checkout builds them from src/.
import { LLM2Vec, importLlama2c } from "../src/index.js";
import * as vectorStore from "../src/store/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const modelDir = path.join(root, ".cache/stories260K");
if (!fs.existsSync(modelDir)) {
  const fx = path.join(root, "test/fixtures/models/stories260K");
  importLlama2c({ model: path.join(fx, "stories260K.bin"), tokenizer: path.join(fx, "tok512.bin"), output: modelDir });
}

const instruction = "Given a question, retrieve the story that answers it:";
const model = await LLM2Vec.fromPretrained(modelDir, { pooling: "mean", bidirectional: true, queryInstruction: instruction });
const corpus = [
  "Lily had a red ball. She played with her dog in the park every day.",
  "Tom found a little bird in the garden. The bird was hungry, so Tom gave it seeds.",
  "The sun was hot, so Mia and her mom went to the beach and swam in the sea.",
  "Ben was sad because his toy car was broken. His dad fixed it and Ben smiled.",
  "A big cat lived in a tree. It liked to sleep in the sun all afternoon.",
];
const question = process.argv[2] ?? "What did Tom give the bird?";

// 1. Index the corpus as documents into an embedded store (one SQLite file), then search it with
//    the question as a query (encoded with the query instruction). Run again: stored ids are skipped.
const dbDir = path.join(os.tmpdir(), "llm2vec-rag-example");
const db = await vectorStore.openStore(dbDir, model);
await vectorStore.indexDocuments(model, db, corpus.map((text, i) => ({ id: `story-${i}`, text, metadata: { n: i } })));
const top = await vectorStore.searchText(model, db, question, { topK: 2 });
await db.close();
console.log(`question: ${question}\n\nretrieved (from ${dbDir}):`);
for (const t of top) console.log(`  ${t.score.toFixed(3)}  ${t.id}  ${t.text}`);

// 2. Generate from the retrieved passages (causal pass over the same weights, no adapter).
const prompt = `${top.map((t) => t.text).join(" ")} ${question} The answer is that`;
console.log(`\nprompt: ${prompt}`);
process.stdout.write("generated (greedy, at most 40 tokens): ");
const answer = await model.generate(prompt, { maxTokens: 40, temperature: 0, stop: ["\n"], onDelta: (d) => process.stdout.write(d.text) });
console.log(`\n\n(${answer.ids.length} tokens, finish: ${answer.finishReason}. stories260K is a toy: its answers are toys.)`);
