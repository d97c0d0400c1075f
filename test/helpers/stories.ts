/** The real stories260K model (llama2.c fixture), imported once per process into a temp HF folder. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { importLlama2c } from "../../src/formats/llama2c.js";

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures");

let dir: string | null = null;

export function storiesFolder(): string {
  if (dir) return dir;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-stories-"));
  const out = path.join(tmp, "stories260K");
  importLlama2c({
    model: path.join(FIXTURES, "models/stories260K/stories260K.bin"),
    tokenizer: path.join(FIXTURES, "models/stories260K/tok512.bin"),
    output: out,
  });
  process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
  return (dir = out);
}

/** Short passages in the stories model's vocabulary, one answering "What did Tom give the bird?" (s1). */
export const STORIES = [
  "Lily had a red ball. She played with her dog in the park every day.",
  "Tom found a little bird in the garden. The bird was hungry, so Tom gave it seeds.",
  "The sun was hot, so Mia and her mom went to the beach and swam in the sea.",
  "Ben was sad because his toy car was broken. His dad fixed it and Ben smiled.",
  "A big cat lived in a tree. It liked to sleep in the sun all afternoon.",
  "Sue baked a cake with her grandma. They ate it with milk.",
  "The boat went up and down on the big waves.",
];

/** STORIES as an `index` input: {"id":"s<i>","text","metadata":{"n":i,"kind":"odd"|"even"}} a line. */
export function writeStoriesJsonl(file: string): void {
  fs.writeFileSync(file, STORIES.map((text, i) => JSON.stringify({ id: `s${i}`, text, metadata: { n: i, kind: i % 2 ? "odd" : "even" } })).join("\n") + "\n");
}
