/**
 * Seeded pseudo-random numbers, the one generator of the project: random weights and LoRA init
 * (models), sampling in generation, and every random step of the evaluation suite (sub-sampling,
 * held-out splits, k-means) draw from it, so a run is reproducible from its recorded seeds.
 * Algorithm: mulberry32 (32-bit state, fast, good enough for sampling and initialisation).
 * (Dropout uses the stateless hash in backend/types.ts instead, so kernels can regenerate masks.)
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    // Mix the seed so that small consecutive seeds give unrelated streams.
    this.state = (Math.imul(seed >>> 0 ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0;
  }

  /** The generator's whole state: saving it and `Rng.fromState` later continues the same stream (resume). */
  getState(): number {
    return this.state;
  }

  static fromState(state: number): Rng {
    if (!Number.isInteger(state) || state < 0 || state > 0xffffffff) throw new Error(`Rng.fromState: invalid state ${state}`);
    const r = new Rng(0);
    r.state = state;
    return r;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i] as T;
      arr[i] = arr[j] as T;
      arr[j] = tmp;
    }
    return arr;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}

/** A seeded random subset of indices 0..n-1 of size min(k, n), returned in ascending order (keeps file order). */
export function sampleIndices(n: number, k: number, seed: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return new Rng(seed).permutation(n).slice(0, k).sort((a, b) => a - b);
}
