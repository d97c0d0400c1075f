/**
 * Writing a whole model folder whose weights come from a save function (LLM2Vec.save), plus the
 * files a Hugging Face model folder carries besides config, weights and tokenizer.json, which
 * that save does not write: generation_config.json (generation defaults: eos ids, sampling) and
 * the extra tokenizer files (chat template, SentencePiece model, slow-tokenizer vocabularies).
 * All in one atomic folder write: a killed write leaves the previous folder, never half a one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFolderAtomically } from "./atomic.js";
import { requireRegularFile } from "./regular-file.js";

/** Copied from the base model folder. */
export const MODEL_SIDE_FILES = ["generation_config.json"] as const;
/** Copied from the tokenizer's folder (the save copies tokenizer.json, tokenizer_config.json and special_tokens_map.json). */
export const TOKENIZER_SIDE_FILES = ["chat_template.jinja", "chat_template.json", "tokenizer.model", "added_tokens.json", "vocab.json", "merges.txt"] as const;

/**
 * Writes `output` atomically: `save(dir)` writes the folder's core into a fresh `dir`, then each
 * of `extras`' files present in its source folder is copied in (never over a file the save wrote).
 */
export function writeModelFolder(output: string, overwrite: boolean, save: (dir: string) => void, extras: readonly { from: string; files: readonly string[] }[]): void {
  writeFolderAtomically(output, overwrite, (tmp) => {
    const core = path.join(tmp, "core");
    save(core);
    for (const f of fs.readdirSync(core)) fs.renameSync(path.join(core, f), path.join(tmp, f));
    fs.rmdirSync(core);
    for (const { from, files } of extras) {
      for (const f of files) {
        const src = path.join(from, f);
        if (fs.existsSync(path.join(tmp, f)) || !fs.existsSync(src)) continue;
        requireRegularFile(src, "model folder");
        fs.copyFileSync(src, path.join(tmp, f));
      }
    }
  });
}

/**
 * A loaded model's save (LLM2Vec.save: weights with adapters merged, tokenizer, llm2vec_config.json)
 * plus the base folder's generation_config.json and the tokenizer folder's extra files.
 */
export function saveModelFolder(model: { save(dir: string): void; readonly tokenizerDir: string }, base: string, output: string, overwrite: boolean): void {
  writeModelFolder(output, overwrite, (dir) => model.save(dir), [
    { from: base, files: MODEL_SIDE_FILES },
    { from: model.tokenizerDir, files: TOKENIZER_SIDE_FILES },
  ]);
}
