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
