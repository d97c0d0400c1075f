/**
 * Turning a request's checked inputs into token rows, on the main thread: the batcher needs each
 * row's length before it can pack batches by tokens, and the model worker is busy computing. The
 * work is split into slices with a yield between them so that one large request does not hold up
 * /health, /metrics or other requests' replies for long.
 */
import type { EncoderOptions } from "../encoder/options.js";
import { normalizeInput, prepareRow, type PreparedRow } from "../encoder/prepare.js";
import type { Tokenizer } from "../formats/tokenizer.js";
import { invalid } from "./errors.js";
import type { CheckedInputs } from "./limits.js";

export interface TokenizeContext {
  tokenizer: Tokenizer;
  options: EncoderOptions;
  family: string;
  truncate: boolean;
}

/** Inputs per slice between yields: a slice of short texts tokenises in about a millisecond. */
const SLICE = 32;

export async function tokenizeInputs(ctx: TokenizeContext, inputs: CheckedInputs, signal?: AbortSignal): Promise<PreparedRow[]> {
  const { options } = ctx;
  if (inputs.kind === "ids") {
    return inputs.rows.map((r, i) => {
      if (r.length > options.maxLength && !ctx.truncate) throw tooLong(inputs.name(i), r.length, options.maxLength, "maxLength");
      // All of a token-id row is text, as LLM2Vec.encodeIds treats it; truncation keeps the start.
      const ids = Int32Array.from(r.length > options.maxLength ? r.slice(0, options.maxLength) : r);
      return { ids, textTokens: ids.length };
    });
  }
  const rows: PreparedRow[] = [];
  const n = inputs.inputs.length;
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % SLICE === 0) {
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw signal.reason;
    }
    const input = inputs.inputs[i]!;
    if (!ctx.truncate) {
      // The encoder cuts texts to docMaxLength tokens (the reference's rule); refusing instead needs the uncut count.
      const limit = Math.min(options.docMaxLength, options.maxLength);
      const tokens = ctx.tokenizer.encode(normalizeInput(input, i)[1], { addSpecialTokens: false }).length;
      if (tokens > limit) throw tooLong(inputs.name(i), tokens, limit, limit === options.docMaxLength ? "docMaxLength" : "maxLength");
    }
    rows.push(prepareRow(ctx.tokenizer, input, i, options, ctx.family));
  }
  return rows;
}

function tooLong(param: string, tokens: number, limit: number, option: string) {
  return invalid(
    `'${param}' has ${tokens} tokens, over this model's limit of ${limit} (${option}); shorten it, or have it cut: the server cuts unless started with --no-truncate, and /embed takes "truncate": true.`,
    param,
    "input_too_long",
  );
}
