/**
 * Dynamic batching: the rows of concurrent requests wait in one queue and go to the model worker
 * in batches packed by a token budget, so that under load each forward pass is as large as the
 * model runs well, while a lone request waits at most `windowMs` for company.
 *
 * - One batch computes at a time, and the next is sent ahead to wait behind it: while a batch
 *   computes, the rows that arrive are held until shortly (LEAD_MS) before it is expected to end
 *   (its tokens at the recent batches' time per token), then sent as the next batch, so the
 *   worker goes from one batch to the next without waiting for the main thread to answer the
 *   first batch's requests and to take in the next ones. Closing it just before the end, not at
 *   once, lets it hold everything that came meanwhile.
 * - With nothing computing, rows that waited through the last batch (it ended before the batch
 *   sent ahead was closed) go at once; otherwise a partial batch waits up to `windowMs` after its
 *   oldest row's arrival, unless no company is likely (a lone client's request runs at once).
 *   While rows are still streaming in (one arrived within the last `quietMs`, or a request is
 *   tokenising) it keeps waiting, up to `maxWindowMs`.
 * - A batch takes queued rows in arrival order (oldest first, so nothing starves) while their
 *   tokens fit maxBatchTokens and their count maxBatchSize. The worker runs a batch packed without
 *   padding (encodePreparedBatch "packed"), so a batch costs its real tokens whatever its mix of
 *   lengths, and the budget counts real tokens, as Text Embeddings Inference's does.
 * - Inside a batch rows are ordered longest first, as LLM2Vec.encode orders them; a packed row's
 *   vector equals `encode`'s within float rounding.
 * - A request whose client is gone or whose time is up (its AbortSignal) loses its queued rows;
 *   rows already computing finish and are thrown away.
 */
import type { PreparedRow } from "../encoder/prepare.js";
import type { BatchResult } from "./compute.js";

/** What the batcher records per batch and row (the server's ServerMetrics, the library's BatchStats). */
export interface BatchMetrics {
  batchSeconds: { readonly count: number; readonly sum: number };
  tokens: { get(): number };
  dropped: { inc(labels: Record<string, string>, by: number): void };
  queueSeconds: { observe(seconds: number): void };
  batch(rows: number, tokens: number, seconds: number): void;
}

/**
 * Builds the errors the batcher rejects with: HTTP-shaped for the server (its ApiError), plain
 * Errors carrying `code` for the library.
 */
export type BatchErrorFactory = (status: number, code: string, message: string, headers?: Record<string, string>) => Error;

const plainError: BatchErrorFactory = (_status, code, message) => Object.assign(new Error(message), { code });

export interface BatchingOptions {
  /** Tokens per batch (real tokens: batches run packed, without padding). */
  maxBatchTokens: number;
  /** Rows per batch. */
  maxBatchSize: number;
  /** How long an idle worker waits for more rows before running a partial batch. */
  windowMs: number;
  /** The longest it waits while rows keep arriving (at least windowMs). */
  maxWindowMs: number;
  /** Rows count as still arriving while the last one came less than this long ago. */
  quietMs: number;
  /** Rows queued or computing, all requests together (429 beyond). */
  maxQueue: number;
}

/**
 * How long before the computing batch's expected end the next one is sent: the hop to the worker
 * is well under a millisecond, but a timer fires only between the main thread's other tasks
 * (a request's parsing and tokenising take a fraction of a millisecond each).
 */
const LEAD_MS = 1.5;
/** Weight of the newest batch in the running time-per-token estimate. */
const RATE_WEIGHT = 0.3;

// maxWindowMs defaults to windowMs: holding an idle worker for the rest of a stream of arrivals
// leaves it idle while the main thread answers and takes in requests, and the rows that come after
// the window ride in the batch sent ahead anyway.
export const DEFAULT_BATCHING: Omit<BatchingOptions, "maxQueue"> = { maxBatchTokens: 16384, maxBatchSize: 128, windowMs: 5, maxWindowMs: 5, quietMs: 3 };

interface Job {
  rows: readonly PreparedRow[];
  vectors: Float32Array[];
  remaining: number;
  done: boolean;
  resolve: (v: Float32Array[]) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  job: Job;
  index: number;
  length: number;
  enqueuedAt: number;
  /** Arrival order, to keep the sort stable and batches deterministic. */
  seq: number;
}

export class Batcher {
  private queue: Slot[] = [];
  private queuedTokens = 0;
  private computingRows = 0;
  /** Batches sent to the worker and not yet answered, oldest (computing) first: their predicted ms. */
  private inFlight: { predictedMs: number }[] = [];
  /** When the computing batch is expected to end (performance.now() ms). */
  private computingEndsAt = Infinity;
  /** Running estimate of compute ms per real token (NaN until a batch has run). */
  private msPerToken = NaN;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private idleWaiters: (() => void)[] = [];
  private freeSince = 0;
  private lastBatchJobs = 0;
  private lastArrivalAt = -Infinity;
  /** Requests accepted but still tokenising: rows that will arrive any moment. */
  arriving = 0;

  constructor(
    private readonly run: (rows: PreparedRow[]) => Promise<BatchResult>,
    private readonly opts: BatchingOptions,
    private readonly metrics: BatchMetrics,
    private readonly makeError: BatchErrorFactory = plainError,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  get tokens(): number {
    return this.queuedTokens;
  }

  /** Queues a request's rows; resolves with one embedding per row, in order. */
  submit(rows: readonly PreparedRow[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queue.length + this.computingRows + rows.length > this.opts.maxQueue) {
      const retry = Math.max(1, Math.ceil(this.metrics.batchSeconds.count ? this.expectedDrainSeconds() : 1));
      throw this.makeError(429, "queue_full", `The server is at its queue limit (${this.opts.maxQueue} inputs waiting or computing); retry after ${retry} s.`, {
        "retry-after": String(retry),
      });
    }
    return new Promise((resolve, reject) => {
      const job: Job = { rows, vectors: new Array(rows.length), remaining: rows.length, done: false, resolve, reject };
      const now = performance.now();
      this.lastArrivalAt = now;
      rows.forEach((r, index) => {
        this.queue.push({ job, index, length: r.ids.length, enqueuedAt: now, seq: this.seq++ });
        this.queuedTokens += r.ids.length;
      });
      signal?.addEventListener("abort", () => this.cancel(job, signal.reason), { once: true });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or computing (graceful shutdown). */
  idle(): Promise<void> {
    if (this.inFlight.length === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private expectedDrainSeconds(): number {
    // Mean tokens/s of the batches so far, against what is queued: a rough but honest Retry-After.
    const rate = this.metrics.tokens.get() / Math.max(this.metrics.batchSeconds.sum, 1e-3);
    return this.queuedTokens / Math.max(rate, 1);
  }

  private cancel(job: Job, reason: unknown): void {
    if (job.done) return;
    job.done = true;
    const before = this.queue.length;
    this.queue = this.queue.filter((s) => {
      if (s.job !== job) return true;
      this.queuedTokens -= s.length;
      return false;
    });
    const dropped = before - this.queue.length;
    if (dropped) this.metrics.dropped.inc({ reason: errorCode(reason) ?? "aborted" }, dropped);
    job.reject(reason);
    this.notifyIdle();
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.inFlight.length >= 2) return;
    const now = performance.now();
    const full = this.queue.length >= this.opts.maxBatchSize || this.queuedTokens >= this.opts.maxBatchTokens;
    if (this.inFlight.length === 1) {
      // A batch computes: this one goes ahead, closed LEAD_MS before that one should end (at once
      // when full). Until a batch has run there is no estimate, and it waits for the end.
      const wait = this.computingEndsAt - LEAD_MS - now;
      if (!full && !(wait <= 0)) {
        if (Number.isFinite(wait)) this.wakeIn(wait);
        return;
      }
      this.clearTimer();
      void this.dispatch(this.takeBatch());
      return;
    }
    // Rows queued while the last batch computed have waited through it: they were to go ahead,
    // and the batch ended before its predicted end (about half of them do) or before any estimate
    // existed. They go at once; holding them for the window too would leave the worker idle for
    // it. The clients of the batch just answered ride in the next batch, sent ahead while this
    // one computes.
    // Otherwise the window counts from the oldest row's arrival. A lone client (the last batch
    // was one request's, and no other request is on its way in) has no company coming: it does
    // not wait at all. Past the window, rows still streaming in (the last came under quietMs ago,
    // or a request is tokenising) keep it open up to maxWindowMs; a pause in arrivals closes it.
    const waitedThroughBatch = this.queue[0]!.enqueuedAt < this.freeSince;
    const waited = now - this.queue[0]!.enqueuedAt;
    const companyLikely = !waitedThroughBatch && (this.lastBatchJobs > 1 || this.arriving > 0 || new Set(this.queue.map((q) => q.job)).size > 1);
    const sinceArrival = now - this.lastArrivalAt;
    const streaming = this.arriving > 0 || sinceArrival < this.opts.quietMs;
    const limit = streaming ? Math.max(this.opts.windowMs, this.opts.maxWindowMs) : this.opts.windowMs;
    if (!full && companyLikely && waited < limit) {
      // Wake at the window's end, or (streaming) when arrivals would have paused for quietMs.
      this.wakeIn(waited < this.opts.windowMs ? this.opts.windowMs - waited : Math.min(limit - waited, Math.max(1, this.opts.quietMs - sinceArrival)));
      return;
    }
    this.clearTimer();
    void this.dispatch(this.takeBatch());
  }

  private wakeIn(ms: number): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.schedule();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private takeBatch(): Slot[] {
    const { maxBatchTokens, maxBatchSize } = this.opts;
    // The oldest row always goes (a row longer than the budget still runs, alone).
    let n = 1;
    let tokens = this.queue[0]!.length;
    while (n < this.queue.length && n < maxBatchSize && tokens + this.queue[n]!.length <= maxBatchTokens) tokens += this.queue[n++]!.length;
    const batch = this.queue.splice(0, n);
    this.queuedTokens -= tokens;
    return batch.sort((a, b) => b.length - a.length || a.seq - b.seq);
  }

  private async dispatch(batch: Slot[]): Promise<void> {
    const real = batch.reduce((n, s) => n + s.length, 0);
    const slot = { predictedMs: this.msPerToken * real };
    this.inFlight.push(slot);
    // Sent with nothing computing, it starts now; sent ahead, it starts when the computing one ends.
    if (this.inFlight.length === 1) this.computingEndsAt = performance.now() + slot.predictedMs;
    this.computingRows += batch.length;
    this.lastBatchJobs = new Set(batch.map((s) => s.job)).size;
    const start = performance.now();
    for (const s of batch) this.metrics.queueSeconds.observe((start - s.enqueuedAt) / 1000);
    try {
      const result = await this.run(batch.map((s) => s.job.rows[s.index]!));
      this.metrics.batch(batch.length, real, result.computeMs / 1000);
      if (real > 0) {
        const rate = result.computeMs / real;
        this.msPerToken = Number.isNaN(this.msPerToken) ? rate : RATE_WEIGHT * rate + (1 - RATE_WEIGHT) * this.msPerToken;
      }
      const faults = new Map(result.faults.map((f) => [f.row, f]));
      batch.forEach((s, b) => {
        const job = s.job;
        if (job.done) return;
        const fault = faults.get(b);
        if (fault) {
          this.cancel(job, this.makeError(500, fault.code, `input ${s.index} produced ${fault.reason}.`));
          return;
        }
        job.vectors[s.index] = result.vectors[b]!;
        if (--job.remaining === 0) {
          job.done = true;
          job.resolve(job.vectors);
        }
      });
    } catch (e) {
      const err = this.makeError(500, "model_error", `The model failed on a batch: ${(e as Error).message}`);
      for (const s of batch) this.cancel(s.job, err);
    } finally {
      // The worker answers in order, so this is the oldest; the one sent ahead now computes.
      this.inFlight.splice(this.inFlight.indexOf(slot), 1);
      this.computingRows -= batch.length;
      const now = performance.now();
      this.computingEndsAt = this.inFlight.length > 0 ? now + this.inFlight[0]!.predictedMs : Infinity;
      if (this.inFlight.length === 0) this.freeSince = now;
      this.clearTimer();
      this.notifyIdle();
      this.schedule();
    }
  }

  private notifyIdle(): void {
    if (this.inFlight.length > 0 || this.queue.length > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

function errorCode(e: unknown): string | undefined {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}
