/**
 * What callers pass to encode, encodeQueries and encodeDocuments, as the list of inputs the
 * encoder runs; shared by the in-thread encoder and the worker-backed one so that both read the
 * same calls the same way.
 */
import type { EncoderOptions } from "./options.js";
import type { EncodeInput } from "./prepare.js";

/** A lone string as a list of one (a two-string array stays two texts: a lone pair is `[[instruction, text]]`). */
export function asInputList(inputs: string | readonly EncodeInput[]): readonly EncodeInput[] {
  return typeof inputs === "string" ? [inputs] : inputs;
}

export function asTextList(texts: string | readonly string[], fn: string): readonly string[] {
  const list = typeof texts === "string" ? [texts] : texts;
  if (!Array.isArray(list)) throw new TypeError(`${fn}: texts must be a string or an array of strings`);
  list.forEach((t, i) => {
    if (typeof t !== "string") throw new TypeError(`${fn}: texts[${i}] must be a string, got ${t === null ? "null" : typeof t}`);
  });
  return list;
}

/**
 * Queries as `[instruction, text]` pairs (the instruction conditions the query but is not pooled):
 * the instruction given, else the model's `queryInstruction`; with neither, plain texts.
 */
export function queryInputs(texts: string | readonly string[], instruction: string | undefined, options: EncoderOptions): readonly EncodeInput[] {
  const chosen = instruction ?? options.queryInstruction;
  const list = asTextList(texts, "encodeQueries");
  return chosen ? list.map((t): EncodeInput => [chosen, t]) : list;
}
