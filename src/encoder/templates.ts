/**
 * Chat templates of the reference (llm2vec.py `prepare_for_tokenization`), as explicit presets,
 * and the reference's rule for picking one: an exact match of the model's name. The names come
 * from the loading chain (models/resolve.ts: the model folder's config.json `_name_or_path`, an
 * adapter's `base_model_name_or_path`), so a renamed local folder keeps its template (the
 * reference loses it there, issue #128). An explicit choice, a custom {prefix, suffix} or "none"
 * overrides the rule.
 */
import type { NameInChain } from "../models/resolve.js";
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

/** A template the presets do not cover: prefix + text.strip() + suffix, as the presets apply. */
export interface CustomTemplate {
  prefix: string;
  suffix: string;
}

/** The template an encoder runs with. */
export type TemplateChoice = ChatTemplateName | CustomTemplate;

/** What a user may ask for: a template, or "auto" (the reference's name rules, the default of fromPretrained). */
export type TemplateOption = TemplateChoice | "auto";

/**
 * The reference's rules, in its order: an exact `_name_or_path` match picks the template. Llama-3
 * returns early, so its match is final; the others only wrap the text.
 */
export const REFERENCE_TEMPLATE_RULES: readonly { names: readonly string[]; template: Exclude<ChatTemplateName, "none">; label: string }[] = [
  { names: ["meta-llama/Meta-Llama-3-8B-Instruct"], template: "llama3-instruct", label: "Llama-3 instruct" },
  { names: ["mistralai/Mistral-7B-Instruct-v0.2"], template: "mistral-instruct", label: "Mistral instruct" },
  { names: ["meta-llama/Llama-2-7b-chat-hf"], template: "llama2-chat", label: "Llama-2 chat" },
  { names: ["google/gemma-2-9b-it"], template: "gemma-it", label: "Gemma instruct" },
  { names: ["Qwen/Qwen2-1.5B-Instruct", "Qwen/Qwen2-7B-Instruct"], template: "qwen2-instruct", label: "Qwen2 instruct" },
];

/** The one name whose eos_token suffix the reference special-cases (Llama-3's end-of-text, not " </s>"). */
export const REFERENCE_EOS_NAME_RULES: readonly { name: string; suffix: string }[] = [{ name: "meta-llama/Meta-Llama-3-8B", suffix: "<|end_of_text|>" }];

export interface AutoTemplate {
  /** "none" when no name matched a rule. */
  template: ChatTemplateName;
  /** The eos_token suffix a name rule sets, or null (the family's). */
  eosSuffix: string | null;
  /** The name that decided, and where it was read; null when none matched. */
  decidedBy: NameInChain | null;
  /** What was decided, in words (for stderr); null when nothing applies. */
  announcement: string | null;
}

/**
 * The reference's choice from the names met while loading: the first name (nearest the user's
 * folder first) that a rule matches decides, as the reference's single `_name_or_path` would.
 */
export function chooseTemplate(names: readonly NameInChain[]): AutoTemplate {
  for (const n of names) {
    const where = `${n.field} in ${n.file}`;
    const rule = REFERENCE_TEMPLATE_RULES.find((r) => r.names.includes(n.name));
    if (rule)
      return { template: rule.template, eosSuffix: null, decidedBy: n, announcement: `applying the ${rule.label} template, as the reference does for ${n.name} (${where}); chatTemplate "none" turns it off` };
    const eos = REFERENCE_EOS_NAME_RULES.find((r) => r.name === n.name);
    if (eos)
      return { template: "none", eosSuffix: eos.suffix, decidedBy: n, announcement: `eos_token pooling appends ${JSON.stringify(eos.suffix)}, as the reference does for ${n.name} (${where})` };
  }
  // An instruct or chat model that no rule names gets no template, as in the reference (Llama-3.1,
  // Qwen3, …); say so, since its adapters may have been trained with one.
  const chatty = names.find((n) => /instruct|chat|-it$/i.test(n.name));
  if (chatty) {
    const known = REFERENCE_TEMPLATE_RULES.flatMap((r) => r.names).join(", ");
    return {
      template: "none",
      eosSuffix: null,
      decidedBy: null,
      announcement: `no input template for ${chatty.name} (${chatty.field} in ${chatty.file}): the reference's rules name only ${known}, so it gets none, as in the reference; pass chatTemplate (a preset, or {prefix, suffix}) if the model was trained with one`,
    };
  }
  return { template: "none", eosSuffix: null, decidedBy: null, announcement: null };
}

/** The prefix and suffix of a template choice. */
export function templateParts(t: TemplateChoice): ChatTemplate {
  return typeof t === "string" ? CHAT_TEMPLATES[t] : t;
}

/** Whether a value is a template choice (a preset name or {prefix, suffix} strings); "auto" is not. */
export function isTemplateChoice(v: unknown): v is TemplateChoice {
  if (typeof v === "string") return Object.hasOwn(CHAT_TEMPLATES, v);
  if (!v || typeof v !== "object" || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return Object.keys(o).every((k) => k === "prefix" || k === "suffix") && typeof o.prefix === "string" && typeof o.suffix === "string";
}

/** A template for messages: its preset name, or its prefix and suffix. */
export function describeTemplate(t: TemplateChoice): string {
  return typeof t === "string" ? t : `custom (prefix ${JSON.stringify(t.prefix)}, suffix ${JSON.stringify(t.suffix)})`;
}

/**
 * What the reference appends for eos_token pooling: a fixed string per config class, not the
 * tokenizer's eos token (a Llama-3 folder gets " </s>" too; the reference special-cases only the
 * exact name "meta-llama/Meta-Llama-3-8B", which the name rules above reproduce).
 */
export const REFERENCE_EOS_SUFFIX: Readonly<Record<string, string>> = {
  llama: " </s>",
  mistral: " </s>",
  gemma: "<eos>",
  // Gemma 2's tokenizer has Gemma's eos token; the reference's Gemma-2 port appends it as for Gemma.
  gemma2: "<eos>",
  qwen2: "<|endoftext|>",
  qwen3: "<|endoftext|>",
  // The reference appends nothing for Phi3Config; this is Phi-3's tokenizer eos token.
  phi3: "<|endoftext|>",
};

/** The eos_token suffix: the explicit option, else the reference's string for the family. */
export function eosSuffix(family: string, override: string | null): string {
  return override ?? REFERENCE_EOS_SUFFIX[family] ?? "";
}

export function applyTemplate(t: TemplateChoice, text: string): string {
  if (t === "none") return text;
  const { prefix, suffix } = templateParts(t);
  return prefix + pyStrip(text) + suffix;
}
