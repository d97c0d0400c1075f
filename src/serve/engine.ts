/**
 * The serving engine, apart from HTTP: the model worker, the main thread's tokenizer, the batcher
 * and the metrics, with one call per request (`embed`). It is usable before the model has loaded
 * (`state` says so), which lets the HTTP server answer /health with "loading" from the start.
 */
import type { FromPretrainedOptions } from "../encoder/llm2vec.js";
import type { PreparedRow } from "../encoder/prepare.js";
import { Tokenizer } from "../formats/tokenizer.js";
import { Batcher, DEFAULT_BATCHING, type BatchingOptions } from "./batcher.js";
import { ModelWorker, tokenizerFolder } from "./compute.js";
import { ApiError } from "./errors.js";
import type { CheckedInputs, ServeLimits } from "./limits.js";
import { ServerMetrics } from "./metrics.js";
import type { ModelInfo } from "./protocol.js";
import { tokenizeInputs, type TokenizeContext } from "./tokenize.js";

export type EngineState = "loading" | "ready" | "failed" | "closing" | "closed";

export interface EngineOptions {
  model: string;
  load: FromPretrainedOptions;
  limits: ServeLimits;
  batching: Omit<BatchingOptions, "maxQueue">;
  /** Nice value of the model's compute threads (Linux; 0 leaves them at the server's). */
  computeNice: number;
}

export class Engine {
  readonly metrics: ServerMetrics;
  /** Resolves once the model is loaded; rejects with the load error. */
  readonly ready: Promise<ModelInfo>;
  private phase: EngineState = "loading";
  loadError: Error | null = null;
  private worker: ModelWorker;
  private batcher: Batcher;
  private ctx: TokenizeContext | null = null;
  private modelInfo: ModelInfo | null = null;

  constructor(readonly opts: EngineOptions) {
    const { batching, limits } = opts;
    if (batching.maxBatchTokens < 1 || batching.maxBatchSize < 1 || batching.windowMs < 0 || batching.maxWindowMs < 0 || batching.quietMs < 0)
      throw new Error(`batching: maxBatchTokens and maxBatchSize must be positive and windowMs, maxWindowMs and quietMs at least 0, got ${JSON.stringify(batching)}`);
    this.metrics = new ServerMetrics({ queueDepth: () => this.batcher.depth, queueTokens: () => this.batcher.tokens, ready: () => this.state === "ready" });
    this.worker = new ModelWorker(opts.model, opts.load, opts.computeNice);
    this.metrics.startLagSampler();
    this.batcher = new Batcher((rows) => this.worker.run(rows), { ...batching, maxQueue: limits.maxQueue }, this.metrics);
    this.ready = this.worker.ready.then(
      (info) => {
        this.ctx = { tokenizer: Tokenizer.fromFolder(tokenizerFolder(opts.model, opts.load)), options: info.options, family: info.family, truncate: limits.truncate };
        this.modelInfo = info;
        if (this.phase === "loading") this.phase = "ready";
        return info;
      },
      (e: Error) => {
        this.loadError = e;
        if (this.phase === "loading") this.phase = "failed";
        throw e;
      },
    );
    this.ready.catch(() => {});
  }

  /** Where the engine is; a worker that died after loading makes a ready engine "failed". */
  get state(): EngineState {
    return this.phase === "ready" && !this.worker.alive ? "failed" : this.phase;
  }

  /** The loaded model's facts; only valid once ready. */
  get info(): ModelInfo {
    if (!this.modelInfo) throw new Error("the model is not loaded yet");
    return this.modelInfo;
  }

  /** Inputs waiting for a batch. */
  get queueDepth(): number {
    return this.batcher.depth;
  }

  /** Tokenises, queues and waits for a request's embeddings (unnormalised, in input order). */
  async embed(inputs: CheckedInputs, signal: AbortSignal): Promise<{ vectors: Float32Array[]; tokens: number }> {
    this.checkServing();
    let rows: PreparedRow[];
    this.batcher.arriving++;
    try {
      rows = await tokenizeInputs(this.ctx!, inputs, signal);
    } finally {
      this.batcher.arriving--;
    }
    this.checkServing();
    const vectors = await this.batcher.submit(rows, signal);
    return { vectors, tokens: rows.reduce((s, r) => s + r.ids.length, 0) };
  }

  checkServing(): void {
    if (this.state === "ready") return;
    if (this.state === "loading") throw new ApiError(503, "model_loading", "The model is still loading; retry shortly (GET /health says when it is ready).", null, undefined, { "retry-after": "1" });
    if (this.state === "closing" || this.state === "closed") throw new ApiError(503, "shutting_down", "The server is shutting down.");
    throw new ApiError(503, "model_unavailable", `The model is not available: ${this.loadError?.message ?? "its worker stopped"}.`);
  }

  /** Stops taking requests, lets queued work finish, then stops the worker. */
  async close(): Promise<void> {
    if (this.phase === "closed") return;
    this.phase = "closing";
    await this.batcher.idle();
    await this.worker.terminate();
    this.metrics.stop();
    this.phase = "closed";
  }
}

export { DEFAULT_BATCHING };
