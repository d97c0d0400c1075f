/**
 * TEI's request and response shapes (Hugging Face text-embeddings-inference: /embed, /tokenize,
 * /decode), as TypeBox schemas: Fastify validates requests against them and /openapi.json
 * documents them. Unknown fields are refused, as on the OpenAI route, so a typo is not ignored.
 */
import { Type, type Static } from "@sinclair/typebox";

const Inputs = Type.Union([Type.String(), Type.Array(Type.String())], { description: "a string or an array of strings" });

const PromptName = Type.Optional(
  Type.Union([Type.String(), Type.Null()], {
    description: "a key of the model's prompts (config_sentence_transformers.json or llm2vec_config.json); its text is the input's instruction. Default: the model's default_prompt_name, else none",
  }),
);

export const EmbedRequest = Type.Object(
  {
    inputs: Inputs,
    normalize: Type.Optional(Type.Boolean({ description: "L2-normalise the vectors (default: the server's --no-normalize setting, normally true)" })),
    truncate: Type.Optional(Type.Union([Type.Boolean(), Type.Null()], { description: "cut inputs over the length limits (default: the server's setting, /info auto_truncate); false: 413" })),
    truncation_direction: Type.Optional(Type.Union([Type.Literal("right"), Type.Literal("Right"), Type.Literal("left"), Type.Literal("Left")], { description: '"right" (only "right" is supported)' })),
    prompt_name: PromptName,
  },
  { additionalProperties: false },
);
export type EmbedRequest = Static<typeof EmbedRequest>;

export const EmbedResponse = Type.Array(Type.Array(Type.Number()), { description: "one vector per input, in input order" });

export const TokenizeRequest = Type.Object(
  {
    inputs: Inputs,
    add_special_tokens: Type.Optional(Type.Boolean({ description: "include the special tokens (BOS, EOS, chat markers) the encoder adds (default true)" })),
    prompt_name: PromptName,
  },
  { additionalProperties: false },
);
export type TokenizeRequest = Static<typeof TokenizeRequest>;

export const SimpleToken = Type.Object({
  id: Type.Integer(),
  text: Type.String(),
  special: Type.Boolean(),
  start: Type.Union([Type.Integer(), Type.Null()], { description: "first character of the token in the decoded text (null for special tokens)" }),
  stop: Type.Union([Type.Integer(), Type.Null()]),
});

export const TokenizeResponse = Type.Array(Type.Array(SimpleToken), { description: "per input, the tokens the encoder runs" });

const Ids = Type.Array(Type.Integer());

export const DecodeRequest = Type.Object(
  {
    ids: Type.Union([Ids, Type.Array(Ids)], { description: "an array of token ids or an array of such arrays" }),
    skip_special_tokens: Type.Optional(Type.Boolean({ description: "leave special tokens out of the text (default true)" })),
  },
  { additionalProperties: false },
);
export type DecodeRequest = Static<typeof DecodeRequest>;

export const DecodeResponse = Type.Array(Type.String());

export const TeiError = Type.Object({ error: Type.String(), error_type: Type.String() });
