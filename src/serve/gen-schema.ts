/**
 * OpenAI's generation APIs as JSON schema (TypeBox): POST /v1/chat/completions and POST
 * /v1/completions (https://platform.openai.com/docs/api-reference/chat/create, .../completions),
 * the parameters this server implements plus `top_k` (an extension, as vLLM's). Unknown
 * parameters are refused, so a client is never silently given something other than it asked for.
 */
import { Type, type Static } from "@sinclair/typebox";

const Stop = Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { maxItems: 4 })], { description: "a non-empty string or up to 4 of them" }));

const Sampling = {
  model: Type.String({ minLength: 1 }),
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: "an integer ≥ 1" })),
  temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()], { description: "a number in [0, 2]" })),
  top_p: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1 }), Type.Null()], { description: "a number in (0, 1]" })),
  top_k: Type.Optional(Type.Integer({ minimum: 0 })),
  seed: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  stop: Type.Optional(Type.Union([Stop, Type.Null()])),
  n: Type.Optional(Type.Union([Type.Literal(1), Type.Null()], { description: "1 (one choice per prompt)" })),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), Type.Null()])),
  user: Type.Optional(Type.String()),
};

const Message = Type.Object(
  {
    role: Type.Union([Type.Literal("system"), Type.Literal("developer"), Type.Literal("user"), Type.Literal("assistant")], { description: '"system", "developer", "user" or "assistant"' }),
    content: Type.String(),
    name: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const ChatCompletionRequest = Type.Object(
  {
    ...Sampling,
    messages: Type.Array(Message, { minItems: 1 }),
    max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: "an integer ≥ 1" })),
  },
  { additionalProperties: false },
);
export type ChatCompletionRequest = Static<typeof ChatCompletionRequest>;

export const CompletionRequest = Type.Object(
  {
    ...Sampling,
    prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], { description: "a string or a non-empty array of strings" }),
  },
  { additionalProperties: false },
);
export type CompletionRequest = Static<typeof CompletionRequest>;

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}
