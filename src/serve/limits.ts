/**
 * The limits that protect the server process, their defaults, and the per-request checks the
 * schema cannot express because they depend on the limits or the model (inputs per request, empty
 * strings, token ids inside the vocabulary). Errors name the exact element, as `input[2][5]`.
 */
import type { EncodeInput } from "../encoder/prepare.js";
import { invalid } from "./errors.js";
import type { EmbeddingsRequest } from "./schema.js";

export interface ServeLimits {
  /** Request body size; larger bodies get 413 before they are parsed. */
  maxBodyBytes: number;
  /** Inputs in one request (OpenAI's own limit is 2048). */
  maxInputs: number;
  /** Inputs waiting or computing, all requests together; beyond it new requests get 429. */
  maxQueue: number;
  /** From the request's arrival to its answer; then 504 and its queued work is dropped. */
  requestTimeoutMs: number;
  /** Time a client has to send its whole body; then 408 (a slow or stalled client holds no slot). */
  bodyTimeoutMs: number;
  /** Inputs over the encoder's length limits are cut (true, as the reference does) or refused with 400. */
  truncate: boolean;
  /** Generation requests running at once (each holds a KV cache); beyond it new ones get 429. */
  maxGenerations: number;
  /** Prompts in one /v1/completions request (they decode as one batch); beyond it 400. */
  maxPrompts: number;
  /**
   * Characters of prompt text in one generation request (all prompts, or all messages, together),
   * counted before anything is tokenised: tokenising runs on the HTTP thread; beyond it 400.
   */
  maxPromptChars: number;
  /**
   * KV-cache positions one generation request may reserve: rows × (longest prompt + max_tokens,
   * capped at the context), checked before the cache is allocated; beyond it 400.
   */
  maxGenerationTokens: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  maxBodyBytes: 4 * 1024 * 1024,
  maxInputs: 2048,
  maxQueue: 8192,
  requestTimeoutMs: 60_000,
  bodyTimeoutMs: 10_000,
  truncate: true,
  maxGenerations: 8,
  maxPrompts: 64,
  maxPromptChars: 65_536,
  maxGenerationTokens: 32_768,
};

export function resolveLimits(o: Partial<ServeLimits>, source: string): ServeLimits {
  const l = { ...DEFAULT_LIMITS, ...definedOnly(o) };
  for (const k of ["maxBodyBytes", "maxInputs", "maxQueue", "requestTimeoutMs", "bodyTimeoutMs", "maxGenerations", "maxPrompts", "maxPromptChars", "maxGenerationTokens"] as const)
    if (!Number.isInteger(l[k]) || l[k] <= 0) throw new Error(`${source}: ${k} must be a positive integer, got ${JSON.stringify(l[k])}`);
  if (typeof l.truncate !== "boolean") throw new Error(`${source}: truncate must be true or false, got ${JSON.stringify(l.truncate)}`);
  // Otherwise a request at the input limit could never be queued, however idle the server.
  if (l.maxQueue < l.maxInputs) throw new Error(`${source}: maxQueue (${l.maxQueue}) must be at least maxInputs (${l.maxInputs})`);
  return l;
}

export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A request's inputs after the checks: texts (with their instructions) or token-id rows, and
 * `name(i)`, how errors name input i (`input`, `input[3]`; TEI's routes call the field `inputs`).
 */
export type CheckedInputs = ({ kind: "text"; inputs: EncodeInput[] } | { kind: "ids"; rows: number[][] }) & { name: (i: number) => string };

export interface CheckOptions {
  /** The request's field holding the inputs (default "input"). */
  field?: string;
  /** Let empty strings through (/tokenize shows what surrounds an empty text). */
  allowEmpty?: boolean;
}

export function checkInputs(req: Pick<EmbeddingsRequest, "input" | "instruction">, limits: ServeLimits, vocabSize: number, opts: CheckOptions = {}): CheckedInputs {
  const field = opts.field ?? "input";
  const input = req.input;
  const list: unknown[] = typeof input === "string" ? [input] : isIdRow(input) ? [input] : input;
  if (list.length > limits.maxInputs)
    throw invalid(`'${field}' holds ${list.length} inputs; this server takes at most ${limits.maxInputs} per request.`, field, "too_many_inputs");
  const name = (i: number) => (typeof input === "string" || isIdRow(input) ? field : `${field}[${i}]`);

  if (list.every((x) => Array.isArray(x) && x.every((v) => typeof v === "number"))) {
    if (req.instruction !== undefined) throw invalid("'instruction' applies to text inputs; token-id inputs are encoded as given.", "instruction");
    const rows = list as number[][];
    rows.forEach((r, i) =>
      r.forEach((id, j) => {
        if (id < 0 || id >= vocabSize) throw invalid(`'${name(i)}[${j}]' is token id ${id}, outside the model's vocabulary [0, ${vocabSize}).`, `${name(i)}[${j}]`, "invalid_token_id");
      }),
    );
    return { kind: "ids", rows, name };
  }

  const inputs = list.map((x, i): EncodeInput => {
    if (typeof x === "string") {
      if (x.length === 0 && !opts.allowEmpty) throw invalid(`'${name(i)}' is an empty string; every input must hold some text.`, name(i));
      return req.instruction ? [req.instruction, x] : x;
    }
    const [instruction, text] = x as [string, string];
    if (text.length === 0 && !opts.allowEmpty) throw invalid(`'${name(i)}[1]' (the text of an [instruction, text] pair) is an empty string.`, `${name(i)}[1]`);
    return [instruction, text];
  });
  return { kind: "text", inputs, name };
}

function isIdRow(x: unknown): x is number[] {
  return Array.isArray(x) && x.length > 0 && typeof x[0] === "number";
}
