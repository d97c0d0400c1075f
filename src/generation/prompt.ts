/**
 * Prompts → token ids, for every entry path (CLI, LLM2Vec.generate, the server): a raw prompt is
 * encoded with the tokenizer's special tokens (BOS as configured); a conversation is rendered by
 * the chat template and encoded without them, as transformers' apply_chat_template does (the
 * template writes its special tokens itself).
 */
import * as path from "node:path";
import type { Tokenizer } from "../formats/tokenizer.js";
import { ChatTemplate, type ChatMessage } from "./chat-template.js";

/** A raw prompt (the tokenizer adds BOS as configured) or a conversation (rendered by the chat template). */
export type GenerateInput = string | readonly ChatMessage[];

/** A conversation's prompt ids; a template that fails to render throws ChatTemplateError naming it. */
export function chatPromptIds(tokenizer: Tokenizer, template: ChatTemplate, messages: readonly ChatMessage[]): number[] {
  const text = template.render(messages, { bos_token: tokenizer.bosToken, eos_token: tokenizer.eosToken, pad_token: tokenizer.padToken, unk_token: tokenizer.unkToken });
  return tokenizer.encode(text, { addSpecialTokens: false });
}

/** `templateHint` names where a template would have come from, for the error when there is none. */
export function promptIds(tokenizer: Tokenizer, template: ChatTemplate | null, input: GenerateInput, templateHint: string): number[] {
  if (typeof input === "string") return tokenizer.encode(input);
  if (!Array.isArray(input)) throw new TypeError("generate: an input is a prompt string or an array of {role, content} messages");
  input.forEach((m, i) => {
    if (!m || typeof m.role !== "string" || typeof m.content !== "string") throw new TypeError(`generate: message ${i} must be {role: string, content: string}`);
  });
  if (!template) throw new Error(`generate: chat messages need a chat template, and ${templateHint} has none (pass chatTemplateJinja)`);
  return chatPromptIds(tokenizer, template, input);
}

/** The chat template generation renders conversations with: the one given (`jinja`), else the tokenizer's; null when neither. */
export function modelChatTemplate(tokenizer: { readonly chatTemplate: string | null }, tokenizerDir: string, jinja?: string): ChatTemplate | null {
  if (jinja !== undefined) return new ChatTemplate(jinja, "the chatTemplateJinja option");
  return tokenizer.chatTemplate !== null ? new ChatTemplate(tokenizer.chatTemplate, path.join(tokenizerDir, "tokenizer_config.json")) : null;
}
