/**
 * Which repository files to fetch. A filter is either glob patterns (Python's `allow_patterns`:
 * fnmatch rules, so `*` also crosses `/`; a pattern ending in `/` means everything under it) or
 * a function that also sees the whole listing, for rules such as "the .bin weights only when
 * there are no safetensors".
 */

export type HubFileFilter = readonly string[] | ((file: string, all: readonly string[]) => boolean);

function globToRegExp(pattern: string): RegExp {
  const p = pattern.endsWith("/") ? `${pattern}*` : pattern;
  let re = "";
  for (const ch of p) {
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The files of `all` that `allow` selects, in listing order. */
export function selectFiles(all: readonly string[], allow: HubFileFilter): string[] {
  if (typeof allow === "function") return all.filter((f) => allow(f, all));
  const res = allow.map(globToRegExp);
  return all.filter((f) => res.some((r) => r.test(f)));
}

const ALWAYS = new Set([
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "tokenizer.model",
  "llm2vec_config.json",
  "config_sentence_transformers.json",
  "adapter_config.json",
]);

/**
 * The files an LLM2Vec model, base or adapter needs, from the repository's top level only
 * (Meta's repos also keep multi-GB original checkpoints under `original/`): configs,
 * tokenizer files, `*.safetensors` weights and their index, or `pytorch_model*.bin` and its
 * index only when the repository has no safetensors weights; likewise `adapter_model.bin`
 * only without `adapter_model.safetensors`.
 */
export function modelFiles(file: string, all: readonly string[]): boolean {
  if (file.includes("/")) return false;
  if (ALWAYS.has(file)) return true;
  const hasSafetensors = all.some((f) => !f.includes("/") && f.endsWith(".safetensors") && !f.startsWith("adapter_model"));
  if (file.endsWith(".safetensors") || file === "model.safetensors.index.json") return true;
  if (/^pytorch_model.*\.bin$/.test(file) || file === "pytorch_model.bin.index.json") return !hasSafetensors;
  if (file === "adapter_model.bin") return !all.includes("adapter_model.safetensors");
  return false;
}
