/**
 * The serving engine, apart from HTTP: the model worker, the main thread's tokenizer, the batcher
 * and the metrics, with one call per request (`embed`). It is usable before the model has loaded
 * (`state` says so), which lets the HTTP server answer /health with "loading" from the start.
 */
import type { FromPretrainedOptions } from "../encoder/llm2vec.js";
import type { PreparedRow } from "../encoder/prepare.js";
import { Tokenizer } from "../formats/tokenizer.js";
import { Batcher, DEFAULT_BATCHING, type BatchingOptions } from "../runtime/batcher.js";
import { ModelWorker, type GenerationParams } from "../runtime/compute.js";
import { ChatTemplate, ChatTemplateError, type ChatMessage } from "../generation/chat-template.js";
import { chatPromptIds, promptIds } from "../generation/prompt.js";
import type { TextDelta } from "../generation/text-session.js";
import * as path from "node:path";
import { ApiError, batchApiError } from "./errors.js";
import type { CheckedInputs, ServeLimits } from "./limits.js";
import { ServerMetrics } from "./metrics.js";
import type { GeneratedRow, ModelInfo } from "../runtime/protocol.js";
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
  private chatTemplate: ChatTemplate | null = null;
  private chatTemplateError: Error | null = null;

  constructor(readonly opts: EngineOptions) {
    const { batching, limits } = opts;
    if (batching.maxBatchTokens < 1 || batching.maxBatchSize < 1 || batching.windowMs < 0 || batching.maxWindowMs < 0 || batching.quietMs < 0)
      throw new Error(`batching: maxBatchTokens and maxBatchSize must be positive and windowMs, maxWindowMs and quietMs at least 0, got ${JSON.stringify(batching)}`);
    this.metrics = new ServerMetrics({ queueDepth: () => this.batcher.depth, queueTokens: () => this.batcher.tokens, ready: () => this.state === "ready" });
    this.worker = new ModelWorker(opts.model, opts.load, opts.computeNice);
    this.metrics.startLagSampler();
    this.batcher = new Batcher((rows) => this.worker.run(rows), { ...batching, maxQueue: limits.maxQueue }, this.metrics, batchApiError);
    this.ready = this.worker.ready.then(
      (info) => {
        const tokDir = info.tokenizerDir;
        this.ctx = { tokenizer: Tokenizer.fromFolder(tokDir), options: info.options, family: info.family, truncate: limits.truncate };
        const jinja = opts.load.chatTemplateJinja;
        const template = jinja ?? this.ctx.tokenizer.chatTemplate;
        // A template that does not parse fails chat requests (naming it), not the whole server.
        try {
          if (template !== null) this.chatTemplate = new ChatTemplate(template, jinja !== undefined ? "the --generation-template file" : path.join(tokDir, "tokenizer_config.json"));
        } catch (e) {
          this.chatTemplateError = e as Error;
        }
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

  /** The main thread's tokenizer; only valid once ready. */
  get tokenizer(): Tokenizer {
    this.checkServing();
    return this.ctx!.tokenizer;
  }

  /**
   * The token rows the model would run for these inputs, as embed() makes them. `truncate`
   * overrides the server's rule for this request (TEI's per-request `truncate`).
   */
  tokenize(inputs: CheckedInputs, signal: AbortSignal, truncate?: boolean): Promise<PreparedRow[]> {
    this.checkServing();
    return tokenizeInputs(truncate === undefined ? this.ctx! : { ...this.ctx!, truncate }, inputs, signal);
  }

  /** Tokenises, queues and waits for a request's embeddings (unnormalised, in input order). */
  async embed(inputs: CheckedInputs, signal: AbortSignal, truncate?: boolean): Promise<{ vectors: Float32Array[]; tokens: number }> {
    this.checkServing();
    let rows: PreparedRow[];
    this.batcher.arriving++;
    try {
      rows = await this.tokenize(inputs, signal, truncate);
    } finally {
      this.batcher.arriving--;
    }
    this.checkServing();
    const vectors = await this.batcher.submit(rows, signal);
    return { vectors, tokens: rows.reduce((s, r) => s + r.ids.length, 0) };
  }

  /** Generations stopped early because their client left or their deadline passed. */
  get cancelledGenerations(): number {
    return this.worker.cancelled;
  }

  /** Generation sessions running on the worker. */
  get activeGenerations(): number {
    return this.worker.activeGenerations;
  }

  /** Prompt ids of a conversation rendered by the chat template (400 naming the template when it fails). */
  chatPromptIds(messages: readonly ChatMessage[]): number[] {
    if (this.chatTemplateError) throw new ApiError(400, "chat_template_error", this.chatTemplateError.message, "messages");
    if (!this.chatTemplate) throw new ApiError(400, "no_chat_template", "This model's tokenizer has no chat_template; use /v1/completions or start the server with --generation-template <file>.", "messages");
    try {
      return chatPromptIds(this.ctx!.tokenizer, this.chatTemplate, messages);
    } catch (e) {
      if (e instanceof ChatTemplateError) throw new ApiError(400, "chat_template_error", e.message, "messages");
      throw e;
    }
  }

  /** Prompt ids of a raw completion prompt (BOS as the tokenizer adds it). */
  completionPromptIds(prompt: string): number[] {
    return promptIds(this.ctx!.tokenizer, null, prompt, this.info.tokenizerDir);
  }

  /**
   * Runs a generation on the worker, streaming text through onDelta. 429 when the
   * generation slots are all taken; the signal (client gone, deadline) cancels it there.
   * Refusals throw synchronously (before anything is started or streamed).
   */
  generate(prompts: number[][], params: Omit<GenerationParams, "prompts">, onDelta: (d: TextDelta) => void, signal: AbortSignal): Promise<GeneratedRow[]> {
    this.checkServing();
    if (!this.info.canGenerate)
      throw new ApiError(400, "generation_disabled", "This server's model has its adapters merged into the base weights, so it cannot generate from the base; start it with --generate.");
    const ctx = this.info.contextLength;
    prompts.forEach((p, i) => {
      if (p.length >= ctx)
        throw new ApiError(400, "context_length_exceeded", `This model's context is ${ctx} tokens; prompt${prompts.length > 1 ? ` ${i}` : ""} has ${p.length}, which leaves no room for a completion.`, prompts.length > 1 ? `prompt[${i}]` : "messages");
    });
    // The KV cache the worker would allocate (DecodeSession: rows × the longest row's room, within
    // the context), refused before it exists rather than let one request claim the memory.
    const longest = Math.max(...prompts.map((p) => p.length));
    const positions = prompts.length * Math.min(ctx, longest + params.maxTokens);
    if (positions > this.opts.limits.maxGenerationTokens)
      throw new ApiError(
        400,
        "generation_too_large",
        `This request would reserve ${positions} KV-cache positions (${prompts.length} prompt${prompts.length > 1 ? "s" : ""} × ${Math.min(ctx, longest + params.maxTokens)}: the longest prompt plus max_tokens); this server allows ${this.opts.limits.maxGenerationTokens} per request (--max-generation-tokens). Send fewer prompts or a smaller max_tokens.`,
        "max_tokens",
      );
    if (this.worker.activeGenerations >= this.opts.limits.maxGenerations)
      throw new ApiError(429, "queue_full", `All ${this.opts.limits.maxGenerations} generation slots are busy; retry shortly.`, null, undefined, { "retry-after": "1" });
    if (signal.aborted) throw signal.reason;
    const run = this.worker.generate({ prompts, ...params }, onDelta);
    const abort = () => run.cancel(signal.reason instanceof Error ? signal.reason : new Error("cancelled"));
    signal.addEventListener("abort", abort, { once: true });
    return run.done.finally(() => signal.removeEventListener("abort", abort));
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
