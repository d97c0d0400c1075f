/**
 * The API both encoders offer: LLM2Vec (the model on this thread, for scripts and training) and
 * WorkerLLM2Vec (the model in a worker thread, `fromPretrained(dir, { worker: true })`). Both
 * classes implement it, so the compiler keeps the two modes to the same calls and results.
 */
import type { Tokenizer } from "../formats/tokenizer.js";
import type { GenerateInput } from "../generation/prompt.js";
import type { GeneratedText } from "../generation/text-session.js";
import type { EncodeOptions, GenerateOptions } from "./llm2vec.js";
import type { EncoderOptions } from "./options.js";
import type { EncodeInput, PreparedRow } from "./prepare.js";
import type { NamedPrompts } from "./prompts.js";

export interface LLM2VecApi {
  readonly dimension: number;
  /** The encoder options the model loaded with (pooling, template, lengths). */
  readonly options: EncoderOptions;
  /** Named prompts of the model's folders (prompts.ts). */
  readonly prompts: NamedPrompts;
  readonly tokenizer: Tokenizer;
  /** Token rows as the encoder will run them. */
  prepare(inputs: readonly EncodeInput[]): PreparedRow[];
  /** One vector per input, in input order; a single string is a list of one. */
  encode(inputs: string | readonly EncodeInput[], opts?: EncodeOptions): Promise<Float32Array[]>;
  /** Queries with the instruction given, else the model's queryInstruction (inputs.ts). */
  encodeQueries(texts: string | readonly string[], opts?: EncodeOptions & { instruction?: string }): Promise<Float32Array[]>;
  /** Documents: plain texts, no instruction. */
  encodeDocuments(texts: string | readonly string[], opts?: EncodeOptions): Promise<Float32Array[]>;
  /** Already-tokenised rows, all their tokens text. */
  encodeIds(rows: readonly (readonly number[])[], opts?: EncodeOptions): Promise<Float32Array[]>;
  /** Text from the base model, causally (a raw prompt or a conversation). */
  generate(input: GenerateInput, opts?: GenerateOptions): Promise<GeneratedText>;
  /** Several inputs decoded together; onDelta's row is the input index. */
  generateBatch(inputs: readonly GenerateInput[], opts?: GenerateOptions): Promise<GeneratedText[]>;
}
