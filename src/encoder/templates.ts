/**
 * Chat templates of the reference (llm2vec.py `prepare_for_tokenization`), as explicit presets.
 * The reference picks them by matching the model's `_name_or_path`, which silently drops the
 * template for a renamed local folder (issue #128); here the user (or llm2vec_config.json) says.
 */
import { pyStrip } from "./py-str.js";

export interface ChatTemplate {
  prefix: string;
  suffix: string;
  /** Llama-3's template returns before the eos_token suffix is appended (reference quirk). */
  skipsEosSuffix?: boolean;
}

export const CHAT_TEMPLATES = {
  none: { prefix: "", suffix: "" },
  "llama3-instruct": { prefix: "<|start_header_id|>user<|end_header_id|>\n\n", suffix: "<|eot_id|>", skipsEosSuffix: true },
  "mistral-instruct": { prefix: "[INST] ", suffix: " [/INST]" },
  "llama2-chat": { prefix: "[INST] ", suffix: " [/INST]" },
  "gemma-it": { prefix: "<bos><start_of_turn>user\n", suffix: "<end_of_turn>" },
  "qwen2-instruct": { prefix: "<|im_start|>user\n", suffix: "<|im_end|>" },
} satisfies Record<string, ChatTemplate>;

export type ChatTemplateName = keyof typeof CHAT_TEMPLATES;

/**
 * What the reference appends for eos_token pooling: a fixed string per config class, not the
 * tokenizer's eos token (a Llama-3 folder gets " </s>" too; the reference special-cases only the
 * exact name "meta-llama/Meta-Llama-3-8B", which the `eosSuffix` option reproduces).
 */
export const REFERENCE_EOS_SUFFIX: Readonly<Record<string, string>> = {
  llama: " </s>",
  mistral: " </s>",
  gemma: "<eos>",
  qwen2: "<|endoftext|>",
  qwen3: "<|endoftext|>",
};

/** The eos_token suffix: the explicit option, else the reference's string for the family. */
export function eosSuffix(family: string, override: string | null): string {
  return override ?? REFERENCE_EOS_SUFFIX[family] ?? "";
}

export function applyTemplate(name: ChatTemplateName, text: string): string {
  const t: ChatTemplate = CHAT_TEMPLATES[name];
  return name === "none" ? text : t.prefix + pyStrip(text) + t.suffix;
}
