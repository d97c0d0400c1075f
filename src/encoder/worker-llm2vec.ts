/**
 * LLM2Vec in a worker thread: `LLM2Vec.fromPretrained(dir, { worker: true })`. The kernels run
 * synchronously, so an in-thread `encode` holds the event loop for the whole call; here the model
 * lives in the server's model worker (runtime/compute.ts, runtime/worker.ts) and this thread only
 * tokenises, so timers, sockets and other requests keep running while it computes. Concurrent
 * `encode` calls share batches through the server's batcher (runtime/batcher.ts), packed by real
 * tokens, and give what the in-thread encoder gives (within float rounding); `generate` runs on
 * the worker's generation sessions, the server's path. Both classes implement LLM2VecApi (api.ts).
 *
 * A worker that dies fails the calls it was computing with an error saying so; the next call
 * starts a new one. `close()` (or `await using`) lets queued calls finish, then ends the worker.
 */
import type { FromPretrainedOptions, EncodeOptions, GenerateOptions } from "./llm2vec.js";
import type { LLM2VecApi } from "./api.js";
import type { ChatTemplate } from "../generation/chat-template.js";
import { modelChatTemplate, promptIds, type GenerateInput } from "../generation/prompt.js";
import { DEFAULT_MAX_TOKENS, type GeneratedText } from "../generation/text-session.js";
import { asInputList, asTextList, queryInputs } from "./inputs.js";
import type { NamedPrompts } from "./prompts.js";
import * as path from "node:path";
import type { Tokenizer } from "../formats/tokenizer.js";
import { LazyTokenizer } from "../formats/lazy-tokenizer.js";
import { Batcher, DEFAULT_BATCHING, type BatchingOptions, type BatchMetrics } from "../runtime/batcher.js";
import { ModelWorker } from "../runtime/compute.js";
import type { ModelInfo } from "../runtime/protocol.js";
import type { EncoderOptions } from "./options.js";
import { normalizeInPlace } from "./pooling.js";
import { idRows, prepareRow, type EncodeInput, type PreparedRow } from "./prepare.js";

export interface WorkerOptions {
  /** How concurrent calls are packed into batches (the server's defaults: 16384 tokens, 128 rows, 5 ms window). */
  batching?: Partial<Omit<BatchingOptions, "maxQueue">>;
}

/** Rows tokenised between yields to the event loop: eight texts of a hundred words take a few milliseconds. */
const SLICE = 8;

/** Counts of what the worker ran, for the curious (and the tests): batches, rows, real tokens, seconds. */
export class BatchStats implements BatchMetrics {
  batches = 0;
  rows = 0;
  computeSeconds = 0;
  private tokenCount = 0;
  readonly batchSeconds = { count: 0, sum: 0 };
  readonly tokens = { get: () => this.tokenCount };
  readonly dropped = { inc: () => {} };
  readonly queueSeconds = { observe: () => {} };
  batch(rows: number, tokens: number, seconds: number): void {
    this.batches++;
    this.rows += rows;
    this.tokenCount += tokens;
    this.computeSeconds += seconds;
    this.batchSeconds.count++;
    this.batchSeconds.sum += seconds;
  }
}

export class WorkerLLM2Vec implements LLM2VecApi {
  /** What the worker has run so far. */
  readonly stats = new BatchStats();
  private readonly batcher: Batcher;
  private restarting: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly model: string,
    private readonly load: FromPretrainedOptions,
    private worker: ModelWorker,
    private readonly info: ModelInfo,
    private readonly lazyTokenizer: LazyTokenizer,
    /** Rendered here too: generation's prompt ids are made on this thread, as the server makes them. */
    private readonly chatTemplate: ChatTemplate | null,
    batching: Partial<Omit<BatchingOptions, "maxQueue">>,
  ) {
    this.batcher = new Batcher((rows) => this.worker.run(rows), { ...DEFAULT_BATCHING, ...batching, maxQueue: Infinity }, this.stats);
  }

  /** Starts the worker and waits for it to load the model (a load error rejects, as fromPretrained's does). */
  static async start(model: string, opts: FromPretrainedOptions & WorkerOptions = {}): Promise<WorkerLLM2Vec> {
    const { batching = {}, ...load } = opts;
    const worker = new ModelWorker(model, load, 0, false);
    const info = await worker.ready;
    const tokenizer = new LazyTokenizer(info.tokenizerDir);
    return new WorkerLLM2Vec(model, load, worker, info, tokenizer, modelChatTemplate(tokenizer.summary(), info.tokenizerDir, load.chatTemplateJinja), batching);
  }

  /** The tokenizer, on this thread (the batcher packs by each row's token count), built when text first needs it. */
  get tokenizer(): Tokenizer {
    return this.lazyTokenizer.get();
  }

  get dimension(): number {
    return this.info.dimension;
  }

  /** The encoder options the model loaded with (pooling, template, lengths). */
  get options(): EncoderOptions {
    return this.info.options;
  }

  /** The model's named prompts. */
  get prompts(): NamedPrompts {
    return this.info.prompts;
  }

  /** Token rows as the encoder will run them, tokenised on this thread. */
  prepare(inputs: readonly EncodeInput[]): PreparedRow[] {
    if (!Array.isArray(inputs)) throw new TypeError("encode: inputs must be an array of strings or [instruction, text] pairs");
    return inputs.map((x, i) => prepareRow(this.tokenizer, x, i, this.info.options, this.info.family));
  }

  /**
   * As LLM2Vec.encode. `batchSize` is not used (the batcher packs rows by tokens across calls);
   * `onProgress` is called once, when the call's rows are done; `adapter` is refused (per-call
   * adapter sets need the in-thread encoder's loadAdapter; load-time `adapter` works).
   */
  async encode(inputs: string | readonly EncodeInput[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    this.checkOptions(opts);
    inputs = asInputList(inputs);
    if (!Array.isArray(inputs)) throw new TypeError("encode: inputs must be an array of strings or [instruction, text] pairs");
    const rows: PreparedRow[] = [];
    for (let at = 0; at < inputs.length; at += SLICE) {
      if (at > 0) await new Promise((r) => setImmediate(r));
      if (opts.signal?.aborted) throw new Error("encode: aborted");
      rows.push(...inputs.slice(at, at + SLICE).map((x, k) => prepareRow(this.tokenizer, x, at + k, this.info.options, this.info.family)));
    }
    return this.run(rows, opts);
  }

  /** As LLM2Vec.encodeQueries: with the instruction given, else the model's queryInstruction. */
  async encodeQueries(texts: string | readonly string[], opts: EncodeOptions & { instruction?: string } = {}): Promise<Float32Array[]> {
    return this.encode(queryInputs(texts, opts.instruction, this.info.options), opts);
  }

  /** As LLM2Vec.encodeDocuments: plain texts. */
  async encodeDocuments(texts: string | readonly string[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    return this.encode(asTextList(texts, "encodeDocuments"), opts);
  }

  /** As LLM2Vec.generate, on the worker's copy of the base model. */
  async generate(input: GenerateInput, opts: GenerateOptions = {}): Promise<GeneratedText> {
    return (await this.generateBatch([input], opts))[0]!;
  }

  /**
   * As LLM2Vec.generateBatch: prompts are made on this thread, decoded on the worker between its
   * embedding batches (runtime/worker.ts); the signal ends the rows at the next step and returns
   * the text so far, as in-thread. `adapter` and the callbacks that cannot cross threads
   * (`interrupted`, `onLogits`) are refused.
   */
  async generateBatch(inputs: readonly GenerateInput[], opts: GenerateOptions = {}): Promise<GeneratedText[]> {
    if (this.closed) throw new Error("generate: this model was closed (WorkerLLM2Vec.close)");
    const { adapter, onDelta, signal, interrupted, onLogits, ...params } = opts;
    if (adapter !== undefined) throw new Error(`generate: the adapter option ("${adapter}") needs the in-thread model (LLM2Vec.fromPretrained without worker: true)`);
    if (interrupted !== undefined || onLogits !== undefined) throw new Error("generate: interrupted and onLogits are functions, which cannot reach the worker thread; use signal, or the in-thread model");
    const prompts = inputs.map((x) => promptIds(this.tokenizer, this.chatTemplate, x, path.join(this.info.tokenizerDir, "tokenizer_config.json")));
    await this.live();
    const worker = this.worker;
    const run = worker.generate({ ...params, prompts, maxTokens: params.maxTokens ?? DEFAULT_MAX_TOKENS }, (d) => onDelta?.(d));
    if (signal?.aborted) run.stop();
    signal?.addEventListener("abort", run.stop, { once: true });
    try {
      const rows = await run.done;
      return rows.map((r, b) => ({ text: r.text, ids: r.ids, promptTokens: prompts[b]!.length, finishReason: r.finishReason, seed: r.seed }));
    } catch (e) {
      if (worker !== this.worker || !worker.alive) throw new Error(`generate: the model worker stopped while generating (${(e as Error).message}); the next call starts a new one`, { cause: e });
      throw e;
    } finally {
      signal?.removeEventListener("abort", run.stop);
    }
  }

  /** As LLM2Vec.encodeIds: already-tokenised rows, all their tokens text. */
  async encodeIds(rows: readonly (readonly number[])[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    this.checkOptions(opts);
    return this.run(idRows(rows, this.info.options.maxLength, this.info.vocabSize), opts);
  }

  /** Lets queued calls finish, then ends the worker; later calls are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.batcher.idle();
    await this.worker.terminate();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private checkOptions(opts: EncodeOptions): void {
    if (this.closed) throw new Error("encode: this model was closed (WorkerLLM2Vec.close)");
    if (opts.adapter !== undefined)
      throw new Error(`encode: the adapter option ("${opts.adapter}") needs the in-thread encoder (LLM2Vec.fromPretrained without worker: true); in worker mode pass adapters at load`);
    if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) throw new Error(`encode: batchSize must be a positive integer, got ${opts.batchSize}`);
  }

  private async run(rows: PreparedRow[], opts: EncodeOptions): Promise<Float32Array[]> {
    if (rows.length === 0) return [];
    await this.live();
    const worker = this.worker;
    let vectors: Float32Array[];
    try {
      vectors = await this.batcher.submit(rows, opts.signal);
    } catch (e) {
      if (opts.signal?.aborted) throw new Error("encode: aborted");
      if (worker !== this.worker || !worker.alive)
        throw new Error(`encode: the model worker stopped while computing this call (${(e as Error).message}); the next call starts a new one`, { cause: e });
      throw new Error(`encode: ${(e as Error).message}`, { cause: e });
    }
    if (opts.normalize) for (const v of vectors) normalizeInPlace(v);
    opts.onProgress?.(rows.length, rows.length, rows.reduce((s, r) => s + r.ids.length, 0));
    return vectors;
  }

  /** A worker that died is replaced (once, however many calls are waiting) before the call is queued. */
  private async live(): Promise<void> {
    if (this.worker.alive) return;
    this.restarting ??= (async () => {
      await this.worker.terminate().catch(() => {});
      this.worker = new ModelWorker(this.model, this.load, 0, false);
      await this.worker.ready;
    })().finally(() => (this.restarting = null));
    await this.restarting;
  }
}
