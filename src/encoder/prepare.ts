/**
 * Turning (instruction, text) pairs into token rows and pooling masks, exactly as the reference
 * does (llm2vec.md §2): word-ratio truncation of the text, "instr !@#$%^&*()text", the chat
 * template around the whole string, the separator deleted before tokenising, and an embed mask
 * over the last N positions where N is the length of the text part tokenised alone.
 */
import type { Tokenizer } from "../formats/tokenizer.js";
import type { EncoderOptions } from "./options.js";
import { applyTemplate, CHAT_TEMPLATES, eosSuffix, type ChatTemplate } from "./templates.js";

export const SEPARATOR = "!@#$%^&*()";

export type EncodeInput = string | readonly [instruction: string, text: string];

export interface PreparedRow {
  ids: Int32Array;
  /** How many trailing tokens belong to the text (pooled when skipInstruction). */
  textTokens: number;
}

export function normalizeInput(input: EncodeInput, index: number): [string, string] {
  if (typeof input === "string") return ["", input];
  if (Array.isArray(input) && input.length >= 2 && typeof input[0] === "string" && typeof input[1] === "string") return [input[0], input[1]];
  throw new TypeError(`encode: input ${index} must be a string or an [instruction, text] pair, got ${JSON.stringify(input)?.slice(0, 80)}`);
}

/** The reference's doc_max_length cut: keep a proportional share of whitespace words until it fits. */
export function truncateWords(tok: Tokenizer, text: string, docMaxLength: number, maxLength: number): { text: string; tokens: number } {
  let tokens = tok.encode(text, { addSpecialTokens: false }).length;
  while (Math.min(tokens, maxLength) > docMaxLength) {
    const words = text.split(/\s+/).filter((w) => w.length > 0);
    const keep = Math.floor((words.length * docMaxLength) / Math.min(tokens, maxLength));
    text = words.slice(0, keep).join(" ");
    tokens = tok.encode(text, { addSpecialTokens: false }).length;
  }
  return { text, tokens };
}

/** The templated string, still holding the separator between instruction and text. */
export function buildString(instruction: string, text: string, opts: EncoderOptions, family: string, eosToken: string | null): string {
  let s = instruction ? `${instruction.trim()} ${SEPARATOR}${text}` : `${SEPARATOR}${text}`;
  s = applyTemplate(opts.chatTemplate, s);
  const t: ChatTemplate = CHAT_TEMPLATES[opts.chatTemplate];
  if (opts.pooling === "eos_token" && !t.skipsEosSuffix) s += eosSuffix(family, eosToken);
  return s;
}

export function prepareRow(tok: Tokenizer, input: EncodeInput, index: number, opts: EncoderOptions, family: string): PreparedRow {
  const [instruction, rawText] = normalizeInput(input, index);
  const { text, tokens } = truncateWords(tok, rawText, opts.docMaxLength, opts.maxLength);
  const s = buildString(instruction, text, opts, family, tok.eosToken);
  const parts = s.split(SEPARATOR);
  const original = parts.join("");
  const textPart = parts.length > 1 ? parts[1]! : "";
  const { inputIds } = tok.encodeBatch([original], { maxLength: opts.maxLength });
  const ids = inputIds[0]!;
  // Without a template suffix the text part is the text itself, already counted above.
  const partTokens = textPart === text ? tokens : tok.encode(textPart, { addSpecialTokens: false }).length;
  const textTokens = Math.min(partTokens, opts.maxLength, ids.length);
  return { ids, textTokens };
}
