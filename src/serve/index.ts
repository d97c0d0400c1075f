/** The embedding server as a library: build the app, listen on it yourself (or inject into it). */
export { createEmbeddingServer, type EmbeddingServer, type ServeOptions } from "./app.js";
export { Engine, type EngineState } from "./engine.js";
export { DEFAULT_BATCHING, type BatchingOptions } from "../runtime/batcher.js";
export { DEFAULT_LIMITS, type ServeLimits } from "./limits.js";
export type { EmbeddingsRequest, EmbeddingsResponse, ErrorBody } from "./schema.js";
