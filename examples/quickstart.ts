/**
 * The main job on the model that ships with the project: import the real stories260K Llama from
 * llama2.c format into a Hugging Face folder, load it as an LLM2Vec encoder (bidirectional, mean
 * pooling), embed a few instructed queries and plain documents, and print their cosine matrix.
 *   npm run quickstart
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { LLM2Vec } from "../src/encoder/llm2vec.js";
import { importLlama2c } from "../src/formats/llama2c.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const modelDir = path.join(root, ".cache/stories260K");
if (!fs.existsSync(modelDir)) {
  const fx = path.join(root, "test/fixtures/models/stories260K");
  importLlama2c({ model: path.join(fx, "stories260K.bin"), tokenizer: path.join(fx, "tok512.bin"), output: modelDir });
  console.log(`imported stories260K into ${path.relative(root, modelDir)}`);
}

const encoder = await LLM2Vec.fromPretrained(modelDir, { pooling: "mean", bidirectional: true });
const instruction = "Given a question, retrieve the story that answers it:";
const queries = ["Who played with the dog in the park?", "What did the little bird eat?"];
const docs = ["Lily took her dog to the park and they played with a ball all day.", "The small bird was hungry, so it ate some seeds from the garden."];
const q = await encoder.encode(queries.map((x) => [instruction, x] as [string, string]), { normalize: true });
const d = await encoder.encode(docs, { normalize: true });

console.log(`\nencoder: stories260K (${encoder.model.spec.numLayers} layers, dim ${encoder.dimension}), options ${JSON.stringify(encoder.options)}`);
console.log("\ncosine similarity (rows: queries, columns: documents)");
q.forEach((qv, i) => {
  const row = d.map((dv) => dv.reduce((s, x, k) => s + x * qv[k]!, 0).toFixed(4));
  console.log(`  q${i}: ${row.join("  ")}   ${queries[i]}`);
});
console.log("\n(stories260K is a 260K-parameter toy: train it with MNTP + SimCSE, or bring a real model, for useful embeddings.)");
