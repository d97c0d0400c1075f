/**
 * Named prompts, as sentence-transformers keeps them: `prompts` (name → text) and
 * `default_prompt_name` in config_sentence_transformers.json, or the same keys in
 * llm2vec_config.json, which wins. A request names one (`prompt_name`); its text becomes the
 * input's instruction, so it conditions the text without being pooled, LLM2Vec's way of prompting.
 */
import * as path from "node:path";
import { readJsonObject } from "./options.js";

export interface NamedPrompts {
  /** Prompt name → its text. */
  prompts: Record<string, string>;
  /** The prompt used when a request names none; null: none. */
  defaultPromptName: string | null;
}

export const NO_PROMPTS: NamedPrompts = { prompts: {}, defaultPromptName: null };

const FILES = ["config_sentence_transformers.json", "llm2vec_config.json"];

/** The prompts of model folders in order (weights, then adapters), later files and folders over earlier ones. */
export function readPrompts(dirs: readonly string[]): NamedPrompts {
  const prompts: Record<string, string> = {};
  let defaultPromptName: string | null = null;
  let defaultFrom = "";
  for (const dir of dirs)
    for (const name of FILES) {
      const file = path.join(dir, name);
      const raw = readJsonObject(file);
      if (!raw) continue;
      if (raw.prompts !== undefined) {
        if (!raw.prompts || typeof raw.prompts !== "object" || Array.isArray(raw.prompts)) throw new Error(`${file}: prompts must be an object of name → text, got ${JSON.stringify(raw.prompts)}`);
        for (const [k, v] of Object.entries(raw.prompts as Record<string, unknown>)) {
          if (typeof v !== "string") throw new Error(`${file}: prompts.${k} must be a string, got ${JSON.stringify(v)}`);
          prompts[k] = v;
        }
      }
      if (raw.default_prompt_name !== undefined && raw.default_prompt_name !== null) {
        if (typeof raw.default_prompt_name !== "string") throw new Error(`${file}: default_prompt_name must be a string or null, got ${JSON.stringify(raw.default_prompt_name)}`);
        defaultPromptName = raw.default_prompt_name;
        defaultFrom = file;
      }
    }
  if (defaultPromptName !== null && !(defaultPromptName in prompts))
    throw new Error(`${defaultFrom}: default_prompt_name "${defaultPromptName}" is not one of the prompts (${promptList({ prompts, defaultPromptName: null })})`);
  return { prompts, defaultPromptName };
}

/** The text of a named prompt (the default when `name` is undefined); throws naming the known ones. */
export function promptText(p: NamedPrompts, name: string | undefined): string | undefined {
  const chosen = name ?? p.defaultPromptName ?? undefined;
  if (chosen === undefined) return undefined;
  if (!Object.prototype.hasOwnProperty.call(p.prompts, chosen)) throw new Error(`prompt_name "${chosen}" is not one of this model's prompts (${promptList(p)})`);
  return p.prompts[chosen];
}

export function promptList(p: NamedPrompts): string {
  const names = Object.keys(p.prompts);
  return names.length ? `known: ${names.map((n) => JSON.stringify(n)).join(", ")}` : "it has none: add prompts to config_sentence_transformers.json or llm2vec_config.json";
}
