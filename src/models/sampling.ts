/**
 * Choosing the next token from a row of logits, as Hugging Face's generate orders its warpers:
 * temperature, then top-k, then top-p (nucleus: the smallest set of most likely tokens whose
 * probability reaches p, the token that crosses p included), then a draw. Temperature 0 is
 * greedy (argmax, the first maximum on ties, as torch.argmax).
 */
import { randomInt } from "node:crypto";
import { Rng } from "../tensor/random.js";

export interface SamplingOptions {
  /** 0 = greedy. Default 1. */
  temperature?: number;
  /** Keep the k most likely tokens (0 or undefined = all). */
  topK?: number;
  /** Keep the smallest set reaching this probability (1 or undefined = all). */
  topP?: number;
  /**
   * Seeds the draws; the same seed redraws the same tokens. A Sampler defaults to 0; a generation
   * (DecodeSession) without one draws a fresh seed (drawSeed) and reports it, as OpenAI does.
   */
  seed?: number;
}

export function validateSampling(o: SamplingOptions, where: string): void {
  const t = o.temperature ?? 1;
  if (!(Number.isFinite(t) && t >= 0)) throw new RangeError(`${where}: temperature must be a finite number ≥ 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw new RangeError(`${where}: topK must be an integer ≥ 0, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new RangeError(`${where}: topP must be in (0, 1], got ${o.topP}`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new RangeError(`${where}: seed must be an integer, got ${o.seed}`);
}

/** A fresh seed for a generation that was given none: a 31-bit non-negative integer. */
export function drawSeed(): number {
  return randomInt(0, 2 ** 31);
}

export function argmax(logits: Float32Array, off: number, V: number): number {
  let best = 0;
  let bv = logits[off]!;
  for (let v = 1; v < V; v++) {
    const x = logits[off + v]!;
    if (x > bv || (bv !== bv && x === x)) (best = v), (bv = x);
  }
  return best;
}

export class Sampler {
  private readonly rng: Rng;
  private readonly temperature: number;

  constructor(private readonly o: SamplingOptions) {
    validateSampling(o, "sampling");
    this.rng = new Rng(o.seed ?? 0);
    this.temperature = o.temperature ?? 1;
  }

  get greedy(): boolean {
    return this.temperature === 0;
  }

  /** The next token from logits[off .. off+V). */
  pick(logits: Float32Array, off: number, V: number): number {
    if (this.greedy) return argmax(logits, off, V);
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[off + v]!);
    if (!Number.isFinite(max)) throw new Error(`sampling: the logits hold no finite maximum (${max}); the model produced NaN or infinities`);
    const p = new Float64Array(V);
    for (let v = 0; v < V; v++) p[v] = Math.exp((logits[off + v]! - max) / this.temperature);
    const k = this.o.topK ?? 0;
    const topP = this.o.topP ?? 1;
    let keep: number[] | null = null;
    if ((k > 0 && k < V) || topP < 1) {
      // Most likely first; ties keep the lower id first (a stable order).
      keep = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
      if (k > 0 && k < V) keep.length = k;
      if (topP < 1) {
        let total = 0;
        for (const i of keep) total += p[i]!;
        let cum = 0;
        let n = 0;
        while (n < keep.length) {
          cum += p[keep[n]!]! / total;
          n++;
          if (cum >= topP) break;
        }
        keep.length = n;
      }
    }
    const ids = keep ?? null;
    let sum = 0;
    if (ids) for (const i of ids) sum += p[i]!;
    else for (let v = 0; v < V; v++) sum += p[v]!;
    let r = this.rng.next() * sum;
    if (ids) {
      for (const i of ids) if ((r -= p[i]!) < 0) return i;
      return ids[ids.length - 1]!;
    }
    for (let v = 0; v < V; v++) if ((r -= p[v]!) < 0) return v;
    return V - 1;
  }
}
