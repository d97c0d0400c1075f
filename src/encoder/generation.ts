/**
 * What LLM2Vec.generate needs besides the decoder: turning an input (a raw prompt or chat
 * messages) into prompt ids, and running a text session without blocking the event loop.
 * Generation runs the base model causally; the encoder's adapters and attention mode do not apply.
 */
import type { Tokenizer } from "../formats/tokenizer.js";
import { ChatTemplate, type ChatMessage } from "../generation/chat-template.js";
import { TextDecodeSession, type GeneratedText, type TextDelta, type TextGenerateOptions } from "../generation/text-session.js";
import type { AdapterChoice, DecoderModel } from "../models/decoder.js";

/** A raw prompt (the tokenizer adds BOS as configured) or a conversation (rendered by the chat template). */
export type GenerateInput = string | readonly ChatMessage[];

export interface GenerateOptions extends Omit<TextGenerateOptions, "adapters"> {
  /** Adapter set (LLM2Vec.loadAdapter) to generate with; default none: the base model. */
  adapter?: string;
  onDelta?: (d: TextDelta) => void;
  /** Aborting ends every row at the next step (finish "stop"); the text so far is returned. */
  signal?: AbortSignal;
}

export function promptIds(tokenizer: Tokenizer, template: ChatTemplate | null, input: GenerateInput, templateHint: string): number[] {
  if (typeof input === "string") return tokenizer.encode(input);
  if (!Array.isArray(input)) throw new TypeError("generate: an input is a prompt string or an array of {role, content} messages");
  input.forEach((m, i) => {
    if (!m || typeof m.role !== "string" || typeof m.content !== "string") throw new TypeError(`generate: message ${i} must be {role: string, content: string}`);
  });
  if (!template) throw new Error(`generate: chat messages need a chat template, and ${templateHint} has none (pass chatTemplateJinja)`);
  const text = template.render(input, { bos_token: tokenizer.bosToken, eos_token: tokenizer.eosToken, pad_token: tokenizer.padToken, unk_token: tokenizer.unkToken });
  // As transformers' apply_chat_template: the template writes its special tokens itself.
  return tokenizer.encode(text, { addSpecialTokens: false });
}

export async function runGeneration(model: DecoderModel, tokenizer: Tokenizer, prompts: number[][], adapters: AdapterChoice, o: GenerateOptions): Promise<GeneratedText[]> {
  const { adapter: _name, onDelta, signal, ...text } = o;
  const s = new TextDecodeSession(model, tokenizer, prompts, { ...text, adapters });
  while (!s.done) {
    if (signal?.aborted) prompts.forEach((_, b) => s.cancel(b));
    else for (const d of s.step()) onDelta?.(d);
    // Let timers, signals and other requests run between steps.
    await new Promise((r) => setImmediate(r));
  }
  return s.results();
}
