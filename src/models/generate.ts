/**
 * Causal generation with a KV cache: the prompts run once (prefill, left-padded into one batch),
 * then each step runs one token per row. A `DecodeSession` advances one step at a time, so a
 * caller (the server's worker) can interleave steps with other work and stop any row at once;
 * `generate` runs a session to the end. `generateNoCache` re-runs the whole prefix every step: the
 * oracle the cached path is tested against.
 */
import { noGrad } from "../tensor/autograd.js";
import { narrow } from "../tensor/ops/index.js";
import type { AdapterChoice, DecoderModel } from "./decoder.js";
import { KvCache } from "./kv-cache.js";
import { drawSeed, Sampler, type SamplingOptions } from "./sampling.js";

export type FinishReason = "stop" | "length";

export interface DecodeOptions extends SamplingOptions {
  /** Tokens to generate per row at most (the context may end a row sooner: finish "length"). */
  maxTokens: number;
  /** Greedy (argmax) when true, whatever the temperature. */
  greedy?: boolean;
  /** A row ends when it emits one of these ids (not included in its output). */
  stopIds?: readonly number[];
  /** Padding id fed to finished rows and used for left padding (any valid id: it is masked). */
  padId?: number;
  /** Adapters the base runs with; generation defaults to none (the base model). */
  adapters?: AdapterChoice;
  /**
   * Asked before each layer of every forward: true stops the step with GenerationInterrupted. A
   * prefill over many rows can hold its thread for seconds; this lets a cancel (set from another
   * thread, as the server's worker reads a shared flag) end it between layers.
   */
  interrupted?: () => boolean;
  /**
   * Generate from a model trained bidirectionally (spec.trainedAttention), running it causally
   * anyway. Without it such a model is refused: its next-token logits were never trained.
   */
  forceCausal?: boolean;
  /** Called with each step's last-position logits [B·V] (tests compare them step by step). */
  onLogits?: (logits: Float32Array, step: number) => void;
}

/** A step stopped because DecodeOptions.interrupted said so; the session is unusable after. */
export class GenerationInterrupted extends Error {
  constructor() {
    super("generation interrupted");
    this.name = "GenerationInterrupted";
  }
}

export interface DecodedRow {
  ids: number[];
  finishReason: FinishReason | null;
}

/** The positions a model can attend over causally (its context, or its sliding window). */
export function contextLength(model: DecoderModel): number {
  const s = model.spec;
  return s.slidingWindow === null ? s.maxPositions : Math.min(s.maxPositions, s.slidingWindow);
}

export class DecodeSession {
  readonly rows: DecodedRow[];
  /** The seed the draws use: the one given, or one drawn for this session (row b draws with seed + b). */
  readonly seed: number;
  private readonly cache: KvCache;
  private readonly samplers: Sampler[];
  private readonly stop: Set<number>;
  private readonly padId: number;
  /** The token each row feeds next (its last sampled one). */
  private last: Int32Array;
  private steps = 0;
  private readonly prompts: readonly (readonly number[])[];

  constructor(readonly model: DecoderModel, prompts: readonly (readonly number[])[], private readonly opts: DecodeOptions) {
    if (prompts.length === 0) throw new Error("generate: no prompts");
    if (model.spec.trainedAttention === "bidirectional" && !opts.forceCausal)
      throw new Error(
        `generate: this ${model.spec.family} checkpoint was trained with bidirectional attention (config.json: is_causal false or model_type llama_bidirec), so it is an encoder and its causal next-token predictions are untrained; pass forceCausal (CLI --force-causal) to generate anyway`,
      );
    if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 0) throw new RangeError(`generate: maxTokens must be an integer ≥ 0, got ${opts.maxTokens}`);
    const V = model.spec.vocabSize;
    const ctx = contextLength(model);
    let longest = 0;
    prompts.forEach((p, i) => {
      if (p.length === 0) throw new Error(`generate: prompt ${i} has no tokens (a BOS token at least is needed)`);
      if (p.length > ctx) throw new RangeError(`generate: prompt ${i} has ${p.length} tokens, over the model's context of ${ctx}`);
      for (const id of p) if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`generate: prompt ${i} holds token id ${id}, outside [0, ${V})`);
      longest = Math.max(longest, p.length);
    });
    this.prompts = prompts;
    this.seed = opts.seed ?? drawSeed();
    const temperature = opts.greedy ? 0 : opts.temperature;
    this.samplers = prompts.map((_, b) => new Sampler({ ...opts, temperature, seed: (this.seed + b) | 0 }));
    this.stop = new Set(opts.stopIds ?? []);
    this.padId = opts.padId ?? 0;
    // Enough room for every row's budget, never more than the context (a huge maxTokens allocates nothing extra).
    this.cache = new KvCache(model.spec, prompts.length, Math.max(1, Math.min(ctx, longest + opts.maxTokens)));
    this.last = new Int32Array(prompts.length);
    this.rows = prompts.map(() => ({ ids: [], finishReason: opts.maxTokens === 0 ? "length" : null }));
  }

  get done(): boolean {
    return this.rows.every((r) => r.finishReason !== null);
  }

  /** Ends a row now (a stop string matched, the client went away); its slot just idles after. */
  finish(row: number, reason: FinishReason): void {
    if (this.rows[row]!.finishReason === null) this.rows[row]!.finishReason = reason;
  }

  /** Runs one step (the prefill on the first call); returns the new token of each row, null for finished rows. */
  step(): (number | null)[] {
    if (this.done) return this.rows.map(() => null);
    const B = this.prompts.length;
    const V = this.model.spec.vocabSize;
    let ids: Int32Array, T: number, mask: Uint8Array | null;
    if (this.steps === 0) {
      T = Math.max(...this.prompts.map((p) => p.length));
      ids = new Int32Array(B * T).fill(this.padId);
      mask = new Uint8Array(B * T);
      this.prompts.forEach((p, b) => {
        ids.set(p, b * T + T - p.length);
        mask!.fill(1, b * T + T - p.length, (b + 1) * T);
      });
      if (mask.every((m) => m === 1)) mask = null;
    } else {
      T = 1;
      ids = this.last;
      mask = Uint8Array.from(this.rows, (r) => (r.finishReason === null ? 1 : 0));
      if (mask.every((m) => m === 1)) mask = null;
    }
    const interrupted = this.opts.interrupted;
    const beforeLayer = interrupted
      ? () => {
          if (interrupted()) throw new GenerationInterrupted();
        }
      : undefined;
    const logits = noGrad(() => {
      const h = this.model.forwardCached(ids, T, this.cache, { tokenMask: mask, adapters: this.opts.adapters ?? "none", beforeLayer });
      return this.model.logits(T === 1 ? h : narrow(h, 1, T - 1, 1)).f32;
    });
    this.opts.onLogits?.(logits, this.steps);
    this.steps++;
    const next = new Int32Array(B).fill(this.padId);
    const out = this.rows.map((r, b) => {
      if (r.finishReason !== null) return null;
      const id = this.samplers[b]!.pick(logits, b * V, V);
      if (this.stop.has(id)) {
        r.finishReason = "stop";
        return null;
      }
      r.ids.push(id);
      next[b] = id;
      if (r.ids.length >= this.opts.maxTokens || this.cache.length >= this.cache.capacity) r.finishReason = "length";
      return id;
    });
    this.last = next;
    return out;
  }
}

/** Generates for a batch of prompts to the end. onToken sees each new token as it comes. */
export function generateBatch(model: DecoderModel, prompts: readonly (readonly number[])[], opts: DecodeOptions, onToken?: (row: number, id: number) => void): DecodedRow[] {
  const s = new DecodeSession(model, prompts, opts);
  while (!s.done) s.step().forEach((id, b) => id !== null && onToken?.(b, id));
  return s.rows;
}

/** One prompt's generated ids (the stop id excluded). */
export function generate(model: DecoderModel, prompt: readonly number[], opts: DecodeOptions): number[] {
  return generateBatch(model, [prompt], opts)[0]!.ids;
}

/** The oracle: every step re-runs the whole prefix through the plain causal forward. */
export function generateNoCache(model: DecoderModel, prompt: readonly number[], opts: DecodeOptions): number[] {
  if (prompt.length === 0) throw new Error("generate: the prompt has no tokens (a BOS token at least is needed)");
  const ids = [...prompt];
  const out: number[] = [];
  const sampler = new Sampler({ ...opts, temperature: opts.greedy ? 0 : opts.temperature, seed: opts.seed ?? 0 });
  const V = model.spec.vocabSize;
  // Like the cached path: the last forward may fill the whole context (its token is never fed).
  for (let step = 0; step < opts.maxTokens && ids.length <= contextLength(model); step++) {
    const T = ids.length;
    const logits = noGrad(() => model.logits(narrow(model.forward(Int32Array.from(ids), 1, T, { mode: "causal", adapters: opts.adapters ?? "none" }), 1, T - 1, 1)).f32);
    opts.onLogits?.(logits, step);
    const next = sampler.pick(logits, 0, V);
    if (opts.stopIds?.includes(next)) break;
    ids.push(next);
    out.push(next);
  }
  return out;
}
