/**
 * The HTTP API's shapes as JSON schema (TypeBox), which Fastify validates requests against and
 * TypeScript takes its types from: one definition for both. The request follows OpenAI's
 * embeddings API (https://platform.openai.com/docs/api-reference/embeddings/create) plus one
 * extension field, `instruction`, and `[instruction, text]` pairs as inputs.
 *
 * The schema checks shapes only. Rules that depend on the loaded model or the server's limits
 * (empty strings, ids inside the vocabulary, inputs per request) are checked in limits.ts, where
 * the error can name the exact element (`input[3]`).
 */
import { Type, type Static } from "@sinclair/typebox";

const TokenIds = Type.Array(Type.Integer(), { minItems: 1 });

/** `[instruction, text]`: the instruction conditions the text but is not pooled. */
const Pair = Type.Tuple([Type.String(), Type.String()]);

export const EmbeddingInput = Type.Union(
  [
    Type.String(),
    Type.Array(Type.Union([Type.String(), Pair]), { minItems: 1 }),
    TokenIds,
    Type.Array(TokenIds, { minItems: 1 }),
  ],
  {
    // Read by the error formatter (app.ts): ajv's own message for a failed anyOf names no shape.
    description: "a string, an array of strings or [instruction, text] pairs, an array of token ids, or an array of token-id arrays, none empty",
  },
);

export const EmbeddingsRequest = Type.Object(
  {
    input: EmbeddingInput,
    model: Type.String({ minLength: 1 }),
    encoding_format: Type.Optional(Type.Union([Type.Literal("float"), Type.Literal("base64")], { description: '"float" or "base64"' })),
    dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
    user: Type.Optional(Type.String()),
    instruction: Type.Optional(Type.String()),
  },
  // OpenAI rejects unknown parameters too; a typo ("dimension") should not be silently ignored.
  { additionalProperties: false },
);
export type EmbeddingsRequest = Static<typeof EmbeddingsRequest>;

export interface EmbeddingObject {
  object: "embedding";
  index: number;
  /** float32 values, or their little-endian bytes in base64. */
  embedding: number[] | string;
}

export interface EmbeddingsResponse {
  object: "list";
  data: EmbeddingObject[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface ModelObject {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  /** llm2vec's extension: the endpoints this model answers (embeddings, and generation when the base is intact). */
  uses: string[];
}

/** OpenAI's error body. `type` is the class of error, `code` the machine-readable reason. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
