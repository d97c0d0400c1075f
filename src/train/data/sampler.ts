/**
 * Which items micro-batch g uses: items [g·B, g·B + B) of the concatenation of per-epoch seeded
 * permutations. A pure function of (seed, g), so a resumed run sees exactly an unbroken run's
 * batches without storing anything but g.
 */
import { fmix32 } from "../../tensor/backend/types.js";
import { Rng } from "../../tensor/random.js";

export class EpochSampler {
  private cached: { epoch: number; perm: number[] } | null = null;

  constructor(
    readonly count: number,
    readonly batchSize: number,
    private readonly seed: number,
  ) {
    if (count <= 0) throw new Error("sampler: no items");
  }

  private perm(epoch: number): number[] {
    if (this.cached?.epoch !== epoch) this.cached = { epoch, perm: new Rng(fmix32(this.seed ^ fmix32(epoch + 0x9e37))).permutation(this.count) };
    return this.cached.perm;
  }

  position(g: number): { epoch: number; offset: number } {
    const at = g * this.batchSize;
    return { epoch: Math.floor(at / this.count), offset: at % this.count };
  }

  /** Item indices of micro-batch g. */
  batch(g: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.batchSize; i++) {
      const at = g * this.batchSize + i;
      out.push(this.perm(Math.floor(at / this.count))[at % this.count]!);
    }
    return out;
  }
}
