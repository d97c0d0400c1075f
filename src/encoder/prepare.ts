/**
 * Turning (instruction, text) pairs into token rows and pooling masks, exactly as the reference
 * does (llm2vec.md §2): word-ratio truncation of the text (truncate.ts), "instr !@#$%^&*()text", the chat
 * template around the whole string, the separator deleted before tokenising, and an embed mask
 * over the last N positions where N is the length of the text part tokenised alone.
 */
import type { Tokenizer } from "../formats/tokenizer.js";
import type { EncoderOptions } from "./options.js";
import { pyStrip } from "./py-str.js";
import { applyTemplate, eosSuffix, templateParts } from "./templates.js";
import { boundForRow, cappedTokenCount, truncateText } from "./truncate.js";

export { truncateWords } from "./truncate.js";

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

/** The templated string, still holding the separator between instruction and text. */
export function buildString(instruction: string, text: string, opts: EncoderOptions, family: string): string {
  let s = instruction ? `${pyStrip(instruction)} ${SEPARATOR}${text}` : `${SEPARATOR}${text}`;
  s = applyTemplate(opts.chatTemplate, s);
  // The reference strips before appending (text.strip() + " </s>"): "hello " gets no extra token.
  if (opts.pooling === "eos_token" && !templateParts(opts.chatTemplate).skipsEosSuffix) s = pyStrip(s) + eosSuffix(family, opts.eosSuffix);
  return s;
}

export function prepareRow(tok: Tokenizer, input: EncodeInput, index: number, opts: EncoderOptions, family: string): PreparedRow {
  const [instruction, rawText] = normalizeInput(input, index);
  const cut = truncateText(tok, rawText, opts.truncation, opts.docMaxLength, opts.maxLength);
  const tokens = cut.tokens;
  const text = boundForRow(tok, cut.text, opts.maxLength);
  const s = buildString(instruction, text, opts, family);
  const parts = s.split(SEPARATOR);
  const original = parts.join("");
  const textPart = parts.length > 1 ? parts[1]! : "";
  const { inputIds } = tok.encodeBatch([original], { maxLength: opts.maxLength });
  const ids = inputIds[0]!;
  // Without a template suffix the text part is the text itself, already counted above.
  const partTokens = textPart === text ? tokens : cappedTokenCount(tok, textPart, opts.maxLength);
  const textTokens = Math.min(partTokens, opts.maxLength, ids.length);
  return { ids, textTokens };
}

/** Already-tokenised rows as the encoder runs them (all their tokens are text), checked against the model. */
export function idRows(rows: readonly (readonly number[])[], maxLength: number, vocabSize: number): PreparedRow[] {
  return rows.map((r, i) => {
    if (r.length === 0) throw new Error(`encode: input ${i} has no token ids`);
    if (r.length > maxLength) throw new Error(`encode: input ${i} has ${r.length} ids, over maxLength ${maxLength}`);
    for (const id of r) if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`encode: input ${i} holds token id ${id}, outside [0, ${vocabSize})`);
    return { ids: Int32Array.from(r), textTokens: r.length };
  });
}
