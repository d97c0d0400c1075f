/**
 * TEI's routes (Hugging Face text-embeddings-inference) beside OpenAI's: POST /embed (a bare
 * array of vectors), /tokenize (the tokens the encoder runs, with their text and place) and
 * /decode. They share the batcher, the limits, the deadline and the API key with
 * /v1/embeddings, and answer errors in TEI's shape (`{error, error_type}`).
 */
import type { FastifyInstance } from "fastify";
import { promptText } from "../encoder/prompts.js";
import { tokenPieces } from "../formats/token-pieces.js";
import type { ServeContext } from "./app.js";
import { withDeadline } from "./deadline.js";
import { ApiError, invalid } from "./errors.js";
import { checkInputs, type CheckOptions } from "./limits.js";
import { shapeEmbedding } from "./output.js";
import { DecodeRequest, DecodeResponse, EmbedRequest, EmbedResponse, TeiError, TokenizeRequest, TokenizeResponse } from "./tei-schema.js";

const errors = { 400: TeiError, 413: TeiError, 429: TeiError, 503: TeiError };

export function registerTeiRoutes(app: FastifyInstance, ctx: ServeContext): void {
  const { engine, limits } = ctx;
  const config = { teiErrors: true };

  /** The checked inputs of a TEI request, its named prompt as their instruction. */
  const teiInputs = (inputs: string | string[], promptName: string | null | undefined, opts: CheckOptions = {}) => {
    engine.checkServing();
    if (Array.isArray(inputs) && inputs.length === 0) throw new ApiError(400, "empty_batch", "'inputs' is an empty array; send at least one input.", "inputs");
    let instruction: string | undefined;
    try {
      instruction = promptText(engine.info.prompts, promptName ?? undefined);
    } catch (e) {
      throw invalid((e as Error).message, "prompt_name", "unknown_prompt_name");
    }
    return checkInputs({ input: inputs, instruction }, limits, engine.info.vocabSize, { field: "inputs", ...opts });
  };

  app.post<{ Body: EmbedRequest }>("/embed", { config, schema: { summary: "Embeddings (TEI's API): a bare array of vectors", body: EmbedRequest, response: { 200: EmbedResponse, ...errors } } }, async (req, reply) => {
    const body = req.body;
    if (body.truncation_direction === "left" || body.truncation_direction === "Left")
      throw invalid("'truncation_direction' \"left\" is not supported: the encoder cuts texts at their end (\"right\").", "truncation_direction");
    const inputs = teiInputs(body.inputs, body.prompt_name);
    const normalize = body.normalize ?? ctx.normalize;
    return withDeadline(req, reply, limits, async (signal) => {
      const { vectors } = await engine.embed(inputs, signal, body.truncate ?? undefined);
      return vectors.map((v) => shapeEmbedding(v, { normalize, base64: false }));
    });
  });

  app.post<{ Body: TokenizeRequest }>("/tokenize", { config, schema: { summary: "The tokens the encoder runs for each input (TEI's API)", body: TokenizeRequest, response: { 200: TokenizeResponse, ...errors } } }, async (req, reply) => {
    const body = req.body;
    const inputs = teiInputs(body.inputs, body.prompt_name, { allowEmpty: true });
    const tok = engine.tokenizer;
    const rows = await withDeadline(req, reply, limits, (signal) => engine.tokenize(inputs, signal));
    const out = [];
    for (const r of rows) {
      // Decoding runs on the HTTP thread: let other replies through between rows.
      if (out.length > 0) await new Promise((done) => setImmediate(done));
      const pieces = tokenPieces(tok, r.ids);
      out.push(body.add_special_tokens === false ? pieces.filter((p) => !p.special) : pieces);
    }
    return out;
  });

  app.post<{ Body: DecodeRequest }>("/decode", { config, schema: { summary: "Text of token ids (TEI's API)", body: DecodeRequest, response: { 200: DecodeResponse, ...errors } } }, async (req) => {
    const body = req.body;
    engine.checkServing();
    const batch = body.ids.length > 0 && Array.isArray(body.ids[0]);
    const rows = (batch ? body.ids : [body.ids]) as number[][];
    if (rows.length > limits.maxInputs) throw invalid(`'ids' holds ${rows.length} rows; this server takes at most ${limits.maxInputs} per request.`, "ids", "too_many_inputs");
    const V = engine.info.vocabSize;
    rows.forEach((r, i) =>
      r.forEach((id, j) => {
        const at = batch ? `ids[${i}][${j}]` : `ids[${j}]`;
        if (id < 0 || id >= V) throw invalid(`'${at}' is token id ${id}, outside the model's vocabulary [0, ${V}).`, at, "invalid_token_id");
      }),
    );
    const tok = engine.tokenizer;
    return rows.map((r) => tok.decode(r, { skipSpecialTokens: body.skip_special_tokens ?? true }));
  });
}
