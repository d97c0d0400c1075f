/**
 * The main thread's handle on the model worker: starts it, waits for the model to load, and runs
 * one batch at a time as a promise. A worker that dies fails its batch and every later one (the
 * server then reports not ready, the library starts a new one) rather than hanging requests.
 * Used by the server (serve/engine.ts) and the library's worker mode (encoder/worker-llm2vec.ts).
 */
import { Worker } from "node:worker_threads";
import type { FromPretrainedOptions } from "../encoder/llm2vec.js";
import type { PreparedRow } from "../encoder/prepare.js";
import type { TextDelta } from "../generation/text-session.js";
import type { BatchRequest, EmbeddingFault, GeneratedRow, GenerateRequest, ModelInfo, ToMain, WorkerInit } from "./protocol.js";

export type GenerationParams = Omit<GenerateRequest, "type" | "id" | "interrupt">;

interface LiveGeneration {
  onDelta: (d: TextDelta) => void;
  resolve: (rows: GeneratedRow[]) => void;
  reject: (e: Error) => void;
}

export interface BatchResult {
  /** One unnormalised embedding per row, in the rows' order. */
  vectors: Float32Array[];
  /** Rows (indices into the batch) whose embedding is unusable (encoder/embedding-check.ts), and why. */
  faults: EmbeddingFault[];
  computeMs: number;
}

export class ModelWorker {
  readonly ready: Promise<ModelInfo>;
  private readonly worker: Worker;
  private pending = new Map<number, { resolve: (r: BatchResult) => void; reject: (e: Error) => void; dim: number }>();
  private generations = new Map<number, LiveGeneration>();
  private nextId = 1;
  private dead: Error | null = null;
  private info: ModelInfo | null = null;

  /**
   * `keepAlive: false` lets the process exit while the worker is idle (a library user's script
   * that never closes the model still ends); it holds the process only while work is pending.
   */
  constructor(model: string, load: FromPretrainedOptions, computeNice = 0, private readonly keepAlive = true) {
    // A function (onNote) cannot cross to the worker; its notes go to stderr.
    const { onNote: _onNote, ...cloneable } = load;
    const init: WorkerInit = { model, load: cloneable, computeNice };
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: init });
    this.ready = new Promise<ModelInfo>((resolve, reject) => {
      this.worker.on("message", (m: ToMain) => {
        if (m.type === "ready") {
          this.info = m.info;
          this.holdProcessIfBusy();
          resolve(m.info);
        } else if (m.type === "load_error") {
          reject(new Error(`loading ${model}: ${m.message}`));
        } else if (m.type === "gen_delta" || m.type === "gen_done" || m.type === "gen_error") this.settleGeneration(m);
        else this.settle(m);
      });
      this.worker.on("error", (e) => this.fail(e, reject));
      this.worker.on("exit", (code) => this.fail(new Error(`the model worker exited (code ${code})`), reject));
    });
    // A load failure is reported through `ready`; keep it from also being an unhandled rejection.
    this.ready.catch(() => {});
  }

  get alive(): boolean {
    return this.dead === null && this.info !== null;
  }

  /** Encodes `rows` as one batch (in this order) on the worker. */
  run(rows: readonly PreparedRow[]): Promise<BatchResult> {
    if (this.dead) return Promise.reject(this.dead);
    if (!this.info) return Promise.reject(new Error("the model is not loaded yet"));
    const total = rows.reduce((s, r) => s + r.ids.length, 0);
    const msg: BatchRequest = { id: this.nextId++, ids: new Int32Array(total), lengths: new Int32Array(rows.length), textTokens: new Int32Array(rows.length) };
    let at = 0;
    rows.forEach((r, b) => {
      msg.ids.set(r.ids, at);
      at += r.ids.length;
      msg.lengths[b] = r.ids.length;
      msg.textTokens[b] = r.textTokens;
    });
    const dim = this.info.dimension;
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject, dim });
      this.holdProcessIfBusy();
      this.worker.postMessage(msg, [msg.ids.buffer, msg.lengths.buffer, msg.textTokens.buffer] as ArrayBuffer[]);
    });
  }

  /**
   * Starts a generation session on the worker; deltas stream through onDelta. `cancel` drops it
   * there (its cache is freed) and settles `done` with the given error; `stop` ends its rows at
   * the next step and settles `done` with the text so far.
   */
  generate(params: GenerationParams, onDelta: (d: TextDelta) => void): { done: Promise<GeneratedRow[]>; cancel: (why: Error) => void; stop: () => void } {
    if (this.dead) return { done: Promise.reject(this.dead), cancel: () => {}, stop: () => {} };
    const id = this.nextId++;
    let live!: LiveGeneration;
    const done = new Promise<GeneratedRow[]>((resolve, reject) => (live = { onDelta, resolve, reject }));
    this.generations.set(id, live);
    this.holdProcessIfBusy();
    // Shared, not posted: the worker may be inside a prefill for seconds and read no messages.
    const interrupt = new Int32Array(new SharedArrayBuffer(4));
    const msg: GenerateRequest = { type: "generate", id, ...params, interrupt };
    this.worker.postMessage(msg);
    const cancel = (why: Error) => {
      if (!this.generations.delete(id)) return;
      this.holdProcessIfBusy();
      Atomics.store(interrupt, 0, 1);
      this.cancelled++;
      this.worker.postMessage({ type: "gen_cancel", id });
      live.reject(why);
    };
    const stop = () => {
      if (this.generations.has(id)) this.worker.postMessage({ type: "gen_stop", id });
    };
    return { done, cancel, stop };
  }

  /** Generations cancelled before they finished (client gone, deadline). */
  cancelled = 0;

  /** Generation sessions started and not yet settled. */
  get activeGenerations(): number {
    return this.generations.size;
  }

  private settleGeneration(m: Extract<ToMain, { type: "gen_delta" | "gen_done" | "gen_error" }>): void {
    const g = this.generations.get(m.id);
    if (!g) return; // cancelled: late messages are dropped
    if (m.type === "gen_delta") {
      for (const d of m.deltas) g.onDelta(d);
      return;
    }
    this.generations.delete(m.id);
    this.holdProcessIfBusy();
    if (m.type === "gen_error") g.reject(new Error(m.message));
    else g.resolve(m.rows);
  }

  async terminate(): Promise<void> {
    this.dead ??= new Error("the model worker was stopped");
    await this.worker.terminate();
  }

  private settle(m: Extract<ToMain, { type: "result" | "batch_error" }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.holdProcessIfBusy();
    if (m.type === "batch_error") return p.reject(new Error(m.message));
    const vectors: Float32Array[] = [];
    for (let at = 0; at < m.vectors.length; at += p.dim) vectors.push(m.vectors.subarray(at, at + p.dim));
    p.resolve({ vectors, faults: m.faults, computeMs: m.computeMs });
  }

  private holdProcessIfBusy(): void {
    if (this.keepAlive) return;
    if (this.pending.size > 0 || this.generations.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private fail(e: Error, rejectReady: (e: Error) => void): void {
    this.dead ??= e;
    rejectReady(e);
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const g of this.generations.values()) g.reject(e);
    this.generations.clear();
  }
}
