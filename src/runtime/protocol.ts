/** Messages between the main thread (compute.ts) and the model worker (worker.ts). */
import type { FromPretrainedOptions } from "../encoder/llm2vec.js";
import type { EncoderOptions } from "../encoder/options.js";
import type { NamedPrompts } from "../encoder/prompts.js";
import type { TextDelta, TextGenerateOptions } from "../generation/text-session.js";
import type { FinishReason } from "../models/generate.js";

/** A row of a batch whose embedding is refused (encoder/embedding-check.ts), with the error code and why. */
export interface EmbeddingFault {
  row: number;
  code: "non_finite_embedding" | "zero_embedding";
  reason: string;
}

export interface WorkerInit {
  model: string;
  load: FromPretrainedOptions;
  /** Nice value for the compute threads (the worker and the native pool); 0 leaves them alone. */
  computeNice: number;
}

/** What the main thread learns about the loaded model (for tokenising, checks and /info). */
export interface ModelInfo {
  options: EncoderOptions;
  dimension: number;
  vocabSize: number;
  family: string;
  numLayers: number;
  weightDtype: string;
  /** Positions a prompt plus its completion may fill. */
  contextLength: number;
  /** Whether the base model is intact (no adapter merged into it), so it can generate. */
  canGenerate: boolean;
  /** The tokenizer folder loading resolved (models/resolve.ts), which the main thread tokenises with. */
  tokenizerDir: string;
  /** The model's named prompts, for TEI's `prompt_name`. */
  prompts: NamedPrompts;
}

/** A batch's rows packed into three typed arrays, so they cross threads as three buffers. */
export interface BatchRequest {
  id: number;
  ids: Int32Array;
  lengths: Int32Array;
  textTokens: Int32Array;
}

/**
 * The options of one generation that can cross threads: TextDecodeSession's, less the functions
 * and adapter sets (the worker generates from the base, as the server and LLM2Vec.generate do).
 */
export type GenerationOptions = Omit<TextGenerateOptions, "adapters" | "interrupted" | "onLogits" | "maxTokens"> & { maxTokens: number };

/** One generation request (rows decode together, left-padded). */
export interface GenerateRequest extends GenerationOptions {
  type: "generate";
  id: number;
  prompts: number[][];
  /** One Int32 on a SharedArrayBuffer: the main thread stores 1 to cancel; the worker reads it between layers. */
  interrupt: Int32Array;
}

/** The client went away or its deadline passed: drop the session (its KV cache is freed). */
export interface CancelGeneration {
  type: "gen_cancel";
  id: number;
}

/** End every row at the next step and report the text so far as done (LLM2Vec.generate's abort signal). */
export interface StopGeneration {
  type: "gen_stop";
  id: number;
}

export type ToWorker = BatchRequest | GenerateRequest | CancelGeneration | StopGeneration;

export interface GeneratedRow {
  text: string;
  ids: number[];
  completionTokens: number;
  finishReason: FinishReason;
  /** The seed the row drew with (GeneratedText.seed). */
  seed: number;
}

export type ToMain =
  | { type: "ready"; info: ModelInfo }
  | { type: "load_error"; message: string }
  | { type: "result"; id: number; vectors: Float32Array; faults: EmbeddingFault[]; computeMs: number }
  | { type: "batch_error"; id: number; message: string }
  | { type: "gen_delta"; id: number; deltas: TextDelta[] }
  | { type: "gen_done"; id: number; rows: GeneratedRow[] }
  | { type: "gen_error"; id: number; message: string };
