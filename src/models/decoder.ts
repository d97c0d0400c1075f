/**
 * The decoder stack shared by every family: embeddings → the family's N layers (blocks/layer.ts)
 * → final RMSNorm, with the attention mode chosen per call. Its weights and projections are what
 * the family's builder declared (weight-builder.ts), under their checkpoint names.
 *
 * Masks and positions follow the reference (llm2vec.md §1a): bidirectional = key-padding mask
 * only; causal adds the triangle; positions are 0..T−1 over the padded row, also under left
 * padding. Query rows at padded positions are computed but meaningless (nothing pools them).
 */
import { checkpoint, needsGrad } from "../tensor/autograd.js";
import { withComputeDtype, type ComputeDtype } from "../tensor/compute.js";
import { embedding, matmul, rmsnorm, scale, softcap } from "../tensor/ops/index.js";
import { giveF32 } from "../tensor/pool.js";
import type { Tensor } from "../tensor/tensor.js";
import { LayerCall, type AdapterChoice, type LayerRun } from "./blocks/call.js";
import type { DecoderLayer } from "./blocks/layer.js";
import type { KvCache } from "./kv-cache.js";
import type { LinearLayer } from "./linear.js";
import { layerPrefix } from "./names.js";
import { RopeCache } from "./rope-tables.js";
import type { AttentionMode, DecoderSpec } from "./spec.js";
import type { Declarations, DeclaredLinear, DeclaredTensor } from "./weight-builder.js";

export type { AdapterChoice, AdapterSet } from "./blocks/call.js";
export type { DecoderLayer } from "./blocks/layer.js";

export interface ForwardOptions {
  mode: AttentionMode;
  /** [B·T], 1 = real token. Omitted = no padding. */
  attentionMask?: Uint8Array | null;
  /** [B·T]; default 0..T−1 for every row (the reference's behaviour). */
  positions?: Int32Array;
  /** Dropout on attention probabilities (SimCSE uses 0.3) and LoRA dropout: training only. */
  training?: boolean;
  attentionDropout?: number;
  seed?: number;
  /** Recompute each layer's activations during the backward instead of keeping them. */
  checkpointLayers?: boolean;
  /**
   * These B rows are rows offset.. of a larger batch padded to the same T: dropout draws that
   * batch's masks, so a batch run in chunks (GradCache) sees exactly the masks of the whole.
   */
  dropoutBatchOffset?: number;
  /** Which LoRA adapters run (default: those attached to the model). */
  adapters?: AdapterChoice;
  /**
   * The batch is rows of these lengths packed back to back with no padding (B = 1, T = their
   * sum): every projection runs on real tokens only and attention stays within each row
   * (attentionPacked). Positions default to 0..L−1 per row, as each row alone would have them.
   * Inference only; no attention mask.
   */
  packedLengths?: Int32Array;
}

export { modulePath } from "./names.js";

/** The parts of a model a family's builder produces (build.ts). */
export interface DecoderParts {
  embedTokens: Tensor;
  layers: DecoderLayer[];
  norm: Tensor;
  /** The output projection [V, C]; the embedding table itself when tied. */
  lmHead: Tensor;
  /** Every tensor and projection the parts declared, with their checkpoint names. */
  declared: Declarations;
}

export class DecoderModel {
  readonly rope: RopeCache;
  /** The dtype of the projections' and LM head's products (set through setComputeDtype in compute-mode.ts). */
  computeDtype: ComputeDtype = "f32";

  readonly embedTokens: Tensor;
  readonly layers: DecoderLayer[];
  readonly norm: Tensor;
  /** The output projection [V, C]; the embedding table itself when tied. */
  readonly lmHead: Tensor;
  private readonly declared: Declarations;
  /** Each layer's declared tensors and projections (those under `model.layers.<i>.`). */
  private readonly perLayer: { tensors: DeclaredTensor[]; linears: DeclaredLinear[] }[];

  constructor(
    readonly spec: DecoderSpec,
    parts: DecoderParts,
  ) {
    ({ embedTokens: this.embedTokens, layers: this.layers, norm: this.norm, lmHead: this.lmHead, declared: this.declared } = parts);
    this.rope = new RopeCache(spec);
    this.perLayer = this.layers.map((_, i) => {
      const under = `${layerPrefix(i)}.`;
      return {
        tensors: this.declared.tensors.filter((t) => t.path.startsWith(under)),
        linears: this.declared.linears.filter((l) => l.path.startsWith(under)),
      };
    });
  }

  /** Token ids [B·T] → last hidden states [B, T, C] (after the final norm). */
  forward(inputIds: Int32Array, B: number, T: number, opts: ForwardOptions): Tensor {
    if (inputIds.length !== B * T) throw new Error(`forward: ${inputIds.length} ids for a ${B}×${T} batch`);
    let x = embedding(this.embedTokens, inputIds, [B, T]);
    if (this.spec.embedScale !== 1) x = scale(x, this.spec.embedScale);
    x = withComputeDtype(this.computeDtype, () => this.runLayersIn(x, opts, true));
    return this.finalNorm(x);
  }

  /** The final norm of a forward whose input is its own intermediate (recycled when no graph holds it). */
  private finalNorm(x: Tensor): Tensor {
    const y = rmsnorm(x, this.norm, this.spec.rmsNormEps, this.spec.normAddOne);
    if (!needsGrad(x, this.norm)) release(x);
    return y;
  }

  /**
   * Causal forward of T new tokens per row [B·T] after those already in `cache` (the prompt on
   * the first call, then one token per step). tokenMask [B·T] marks padding (left padding of a
   * prompt). Returns hidden states [B, T, C] after the final norm; inference only.
   */
  /** `beforeLayer` runs before each layer and may throw to stop the forward (a cancelled generation's prefill). */
  forwardCached(inputIds: Int32Array, T: number, cache: KvCache, opts: { tokenMask?: Uint8Array | null; adapters?: AdapterChoice; beforeLayer?: () => void } = {}): Tensor {
    const B = cache.B;
    if (inputIds.length !== B * T) throw new Error(`forwardCached: ${inputIds.length} ids for a ${B}×${T} batch`);
    this.checkWindow(cache.length + T);
    const positions = cache.reserve(T, opts.tokenMask ?? null);
    let x = embedding(this.embedTokens, inputIds, [B, T]);
    if (this.spec.embedScale !== 1) x = scale(x, this.spec.embedScale);
    const run = this.layerRun(B, T, { mode: "causal", positions, adapters: opts.adapters }, cache);
    x = withComputeDtype(this.computeDtype, () => {
      let h = x;
      for (let i = 0; i < this.layers.length; i++) {
        opts.beforeLayer?.();
        const next = this.layerForward(i, h, run);
        if (!next.requiresGrad) release(h);
        h = next;
      }
      return h;
    });
    cache.commit(T);
    return this.finalNorm(x);
  }

  private checkWindow(T: number): void {
    const s = this.spec;
    if (s.slidingWindow !== null && T > s.slidingWindow)
      throw new Error(`forward: causal ${s.family} attention over ${T} tokens needs its sliding window (${s.slidingWindow}), which llm2vec does not implement; use at most ${s.slidingWindow} tokens or bidirectional mode`);
  }

  /** Hidden states [B, T, C] through every block (no final norm): what the block benchmark times. */
  runLayers(x: Tensor, opts: ForwardOptions): Tensor {
    return withComputeDtype(this.computeDtype, () => this.runLayersIn(x, opts, false));
  }

  /** ownsInput: x is this forward's own intermediate (the embeddings), which may be recycled. */
  private runLayersIn(x: Tensor, opts: ForwardOptions, ownsInput: boolean): Tensor {
    const [B, T] = x.shape as [number, number, number];
    if (opts.mode === "causal") this.checkWindow(opts.packedLengths ? Math.max(0, ...opts.packedLengths) : T);
    const run = this.layerRun(B, T, opts, null);
    for (let i = 0; i < this.layers.length; i++) {
      // Checkpointed, a layer keeps only its input for the backward and recomputes the rest
      // (same seeds, so the same dropout masks): activations of one layer at a time.
      const next = opts.checkpointLayers
        ? checkpoint((h) => this.layerForward(i, h, run), [x], this.layerTensors(i))
        : this.layerForward(i, x, run);
      // No graph holds the previous hidden states when the new ones record none (a checkpoint
      // node keeps its input, and then its output requires grad).
      if ((i > 0 || ownsInput) && !next.requiresGrad) release(x);
      x = next;
    }
    return x;
  }

  private layerRun(B: number, T: number, opts: ForwardOptions, cache: KvCache | null): LayerRun {
    const packed = opts.packedLengths ?? null;
    if (packed) {
      const total = packed.reduce((n, L) => n + L, 0);
      if (B !== 1 || total !== T) throw new Error(`forward: packed rows of ${total} tokens in all need a 1×${total} batch, got ${B}×${T}`);
      if (opts.attentionMask) throw new Error("forward: a packed batch has no padding, so no attention mask");
      if (opts.training) throw new Error("forward: packed batches are inference only; train on padded batches");
    }
    const positions = opts.positions ?? (packed ? packedPositions(packed) : defaultPositions(B, T));
    return {
      B,
      T,
      positions,
      tables: this.rope.get(maxOf(positions) + 1),
      mask: opts.attentionMask && !opts.attentionMask.every((m) => m === 1) ? opts.attentionMask : null,
      causal: opts.mode === "causal",
      training: opts.training ?? false,
      attentionDropout: opts.training ? (opts.attentionDropout ?? 0) : 0,
      seed: opts.seed ?? 0,
      batchOffset: opts.dropoutBatchOffset ?? 0,
      adapters: opts.adapters ?? "attached",
      cache,
      packed,
      windows: opts.mode === "causal" ? (this.spec.layerWindows ?? null) : null,
    };
  }

  /**
   * Layer i on x. Without autograd (no input of the layer requires a gradient, or gradients are
   * off) the layer runs as a recycling scope: its intermediates go back to the buffer pool after
   * their last use (LayerCall.residual), so the next op, layer and batch reuse their memory
   * instead of paying fresh allocations (zero fill, page faults, GC).
   */
  private layerForward(i: number, x: Tensor, run: LayerRun): Tensor {
    const recycle = !needsGrad(x, ...this.layerTensors(i), ...chosenLoraTensors(run.adapters, i));
    const call = new LayerCall(run, i, recycle);
    return call.scoped(() => this.layers[i]!.forward(x, call));
  }

  /** Every tensor layer i reads (weights, biases, norms, LoRA factors). */
  layerTensors(i: number): Tensor[] {
    const { tensors, linears } = this.perLayer[i]!;
    const out = tensors.map((t) => t.current());
    for (const { linear: lin } of linears) {
      if (lin.lora) out.push(lin.lora.A, lin.lora.B);
      for (const l of lin.loraStack ?? []) out.push(l.A, l.B);
    }
    return out;
  }

  /** [.., C] → [.., V] logits (soft-capped where the spec says so: Gemma 2). */
  logits(hidden: Tensor): Tensor {
    const z = withComputeDtype(this.computeDtype, () => matmul(hidden, this.lmHead, { transB: true }));
    const cap = this.spec.finalLogitSoftcap;
    if (cap === undefined) return z;
    const y = softcap(z, cap);
    if (!z.requiresGrad) release(z);
    return y;
  }

  /** Every projection with its HF module path (LoRA injection, PEFT save/load, merging). */
  *linearModules(): Generator<[string, LinearLayer]> {
    for (const { path, linear } of this.declared.linears) yield [path, linear];
  }

  /** All tensors by their HF checkpoint names, in declaration order (= spec's weightShapes). */
  *namedWeights(): Generator<[string, Tensor]> {
    for (const t of this.declared.tensors) yield [t.path, t.current()];
  }
}

/** Gives the tensors' float32 buffers back to the pool: only for intermediates no graph or caller holds. */
function release(...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype === "f32" && !t.requiresGrad) giveF32(t.f32);
}

/** The LoRA factors an adapter choice held apart from the model runs in layer i (none for "attached"/"none"). */
function chosenLoraTensors(sel: AdapterChoice, i: number): Tensor[] {
  if (sel === "attached" || sel === "none") return [];
  return Object.values(sel.layers[i]!).flatMap((ls) => ls.flatMap((l) => [l.A, l.B]));
}

export function defaultPositions(B: number, T: number): Int32Array {
  const p = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) p[b * T + t] = t;
  return p;
}

/** 0..L−1 for each packed row in turn. */
export function packedPositions(lengths: Int32Array): Int32Array {
  const p = new Int32Array(lengths.reduce((n, L) => n + L, 0));
  let at = 0;
  for (const L of lengths) for (let t = 0; t < L; t++) p[at++] = t;
  return p;
}

function maxOf(a: Int32Array): number {
  let m = 0;
  for (const v of a) if (v > m) m = v;
  return m;
}
