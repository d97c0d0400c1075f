/** Messages between the main thread (compute.ts) and the model worker (worker.ts). */
import type { FromPretrainedOptions } from "../encoder/llm2vec.js";
import type { EncoderOptions } from "../encoder/options.js";

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
}

/** A batch's rows packed into three typed arrays, so they cross threads as three buffers. */
export interface BatchRequest {
  id: number;
  ids: Int32Array;
  lengths: Int32Array;
  textTokens: Int32Array;
}

export type ToMain =
  | { type: "ready"; info: ModelInfo }
  | { type: "load_error"; message: string }
  | { type: "result"; id: number; vectors: Float32Array; nonFinite: number[]; computeMs: number }
  | { type: "batch_error"; id: number; message: string };
