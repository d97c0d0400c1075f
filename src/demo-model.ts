/**
 * The demo model the package ships: stories260K (llama2.c's 260K-parameter TinyStories Llama, MIT),
 * converted to a Hugging Face folder by the package build (scripts/build-package.mjs) into
 * models/stories260K beside dist/. It shows the machinery working, not useful embeddings.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The demo model's folder, ready for `LLM2Vec.fromPretrained`; throws, naming the folder, when it was not built. */
export function demoModelPath(): string {
  const dir = fileURLToPath(new URL("../../models/stories260K", import.meta.url));
  if (!existsSync(join(dir, "config.json"))) throw new Error(`demo model: ${dir} has no config.json (the package build makes it: npm run build:package)`);
  return dir;
}
