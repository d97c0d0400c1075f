/**
 * What a block needs from the forward it runs in: the batch's shape, positions and RoPE tables,
 * the attention mode (padded, packed or over a KV cache), dropout seeds, the adapter choice, and
 * the recycling of intermediates. Blocks call through a LayerCall, so their code is only the
 * architecture: which projection, which norm, in what order.
 */
import { fmix32 } from "../../tensor/backend/types.js";
import type { RopeTables } from "../../tensor/ops/index.js";
import { add, attention, attentionPacked, rope } from "../../tensor/ops/index.js";
import { f32Scope } from "../../tensor/pool.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { KvCache } from "../kv-cache.js";
import { applyLinear, type LinearLayer, type LoraWeights } from "../linear.js";
import type { LinearModuleName } from "../names.js";

/**
 * The adapters a forward runs: the ones attached to the model, none (the bare base model, as
 * generation runs), or a set held apart from the model, per layer and projection (outermost
 * last). Inference only for the last two: no dropout, no training.
 */
export type AdapterChoice = "attached" | "none" | AdapterSet;
export interface AdapterSet {
  layers: Partial<Record<LinearModuleName, readonly LoraWeights[]>>[];
}

/** How attention scores are formed: scale (default 1/√D) and an optional soft-cap c·tanh(s / c). */
export interface ScoreOptions {
  scale?: number;
  softcap?: number;
}

/** What every layer of one forward shares. */
export interface LayerRun {
  B: number;
  T: number;
  positions: Int32Array;
  tables: RopeTables;
  mask: Uint8Array | null;
  causal: boolean;
  training: boolean;
  attentionDropout: number;
  seed: number;
  batchOffset: number;
  adapters: AdapterChoice;
  /** Set in a cached forward: attention reads and extends it. */
  cache: KvCache | null;
  /** Set in a packed forward (ForwardOptions.packedLengths). */
  packed: Int32Array | null;
  /** Each layer's sliding window (null: none) in a causal forward of a spec with layerWindows. */
  windows: readonly (number | null)[] | null;
}

/**
 * Each random stream of a layer (LoRA dropout per projection, attention dropout) draws from
 * fmix32(seed ^ fmix32(16·layer + stream)): the numbers fix which masks a seed gives.
 */
const STREAM: Record<LinearModuleName | "attention", number> = {
  q_proj: 1, k_proj: 2, v_proj: 3, o_proj: 4, gate_proj: 5, up_proj: 6, down_proj: 7, attention: 9, qkv_proj: 10, gate_up_proj: 11,
};

/** One layer's view of the forward. */
export class LayerCall {
  constructor(
    readonly run: LayerRun,
    readonly layer: number,
    /** Intermediates go back to the buffer pool after their last use (no autograd graph holds them). */
    readonly recycle: boolean,
  ) {}

  private seed(stream: number): number {
    return fmix32(this.run.seed ^ fmix32(this.layer * 16 + stream));
  }

  /** A projection under its module name, which picks its adapters and its dropout stream. */
  linear(name: LinearModuleName, lin: LinearLayer, x: Tensor): Tensor {
    const sel = this.run.adapters;
    return applyLinear(lin, x, {
      training: this.run.training,
      seed: this.seed(STREAM[name]),
      dropoutRowOffset: this.run.batchOffset * this.run.T,
      loras: sel === "attached" ? undefined : sel === "none" ? [] : (sel.layers[this.layer]![name] ?? []),
    });
  }

  /** Rotate-half RoPE at this forward's positions, on [B, T, heads, D]. */
  rope(x: Tensor): Tensor {
    return rope(x, this.run.positions, this.run.tables);
  }

  /**
   * Attention of q [B, T, H, D] over k, v [B, T, KVH, D] with the block's score options and this
   * layer's sliding window (causal forwards): through the KV cache, within packed rows, or over
   * the padded batch.
   */
  attend(q: Tensor, k: Tensor, v: Tensor, blockScores: ScoreOptions = {}): Tensor {
    const r = this.run;
    const scores = { ...blockScores, window: r.windows?.[this.layer] ?? undefined };
    if (r.cache) return r.cache.attend(this.layer, q, k, v, scores);
    if (r.packed) return attentionPacked(q, k, v, r.packed, { causal: r.causal, ...scores });
    return attention(q, k, v, {
      ...scores,
      causal: r.causal,
      keyMask: r.mask,
      dropoutP: r.attentionDropout,
      seed: this.seed(STREAM.attention),
      dropoutBatchOffset: r.batchOffset,
    });
  }

  /** x + f(x), with every intermediate of f recycled once the sum exists. */
  residual(x: Tensor, f: (x: Tensor) => Tensor): Tensor {
    return this.scoped(() => add(x, f(x)));
  }

  /** Runs fn as a recycling scope (tensor/pool.ts f32Scope) when this call recycles; the result is kept. */
  scoped(fn: () => Tensor): Tensor {
    return this.recycle ? f32Scope(fn, (t) => [t.f32]) : fn();
  }
}
