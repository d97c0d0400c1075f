/**
 * The decoder stack shared by every family: embeddings → N × (RMSNorm → attention → residual →
 * RMSNorm → gated MLP → residual) → final RMSNorm, with the attention mode chosen per call.
 * Family differences live in DecoderSpec (biases, norm variant, activation, embedding scale).
 *
 * Masks and positions follow the reference (llm2vec.md §1a): bidirectional = key-padding mask
 * only; causal adds the triangle; positions are 0..T−1 over the padded row, also under left
 * padding. Query rows at padded positions are computed but meaningless (nothing pools them).
 */
import { fmix32 } from "../tensor/backend/types.js";
import { checkpoint, needsGrad } from "../tensor/autograd.js";
import { withComputeDtype, type ComputeDtype } from "../tensor/compute.js";
import type { RopeTables } from "../tensor/ops/index.js";
import { add, attention, attentionPacked, embedding, gatedActivation, matmul, reshape, rmsnorm, rope, scale } from "../tensor/ops/index.js";
import { giveF32 } from "../tensor/pool.js";
import { Tensor } from "../tensor/tensor.js";
import type { KvCache } from "./kv-cache.js";
import { applyLinear, type LinearContext, type LinearLayer, type LoraWeights } from "./linear.js";
import { RopeCache } from "./rope-tables.js";
import { EMBED_TOKENS, FINAL_NORM, linearTensorName, LM_HEAD, modulePath, normName } from "./names.js";
import { LINEAR_MODULES, type AttentionMode, type DecoderSpec, type LinearModule } from "./spec.js";

export interface DecoderLayer {
  inputNorm: Tensor;
  postAttentionNorm: Tensor;
  linears: Record<LinearModule, LinearLayer>;
}

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

/**
 * The adapters a forward runs: the ones attached to the model, none (the bare base model, as
 * generation runs), or a set held apart from the model, per layer and projection (outermost
 * last). Inference only for the last two: no dropout, no training.
 */
export type AdapterChoice = "attached" | "none" | AdapterSet;
export interface AdapterSet {
  layers: Record<LinearModule, readonly LoraWeights[]>[];
}

/** What every layer of one forward shares. */
interface LayerRun {
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
}

export { modulePath } from "./names.js";

export class DecoderModel {
  readonly rope: RopeCache;
  /** The dtype of the projections' and LM head's products (set through setComputeDtype in compute-mode.ts). */
  computeDtype: ComputeDtype = "f32";

  constructor(
    readonly spec: DecoderSpec,
    readonly embedTokens: Tensor,
    readonly layers: DecoderLayer[],
    readonly norm: Tensor,
    /** The output projection [V, C]; the embedding table itself when tied. */
    readonly lmHead: Tensor,
  ) {
    this.rope = new RopeCache(spec);
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
    };
  }

  /**
   * One block: x + attn(norm(x)), then + mlp(norm(·)). Without autograd (no input of the layer
   * requires a gradient, or gradients are off) every intermediate goes back to the buffer pool
   * right after its last use, so the next op, layer and batch reuse its memory instead of paying
   * fresh allocations (zero fill, page faults, GC): the inference forward's "outside kernel" time.
   */
  private layerForward(i: number, x: Tensor, run: LayerRun): Tensor {
    const s = this.spec;
    const { B, T, positions, tables } = run;
    const l = this.layers[i]!;
    const lin = l.linears;
    const sel = run.adapters;
    const recycle = !needsGrad(x, ...this.layerTensors(i), ...chosenLoraTensors(sel, i));
    const done = recycle ? release : noRelease;
    const ctx = (k: number): LinearContext => ({
      training: run.training,
      seed: fmix32(run.seed ^ fmix32(i * 16 + k + 1)),
      dropoutRowOffset: run.batchOffset * T,
      loras: sel === "attached" ? undefined : sel === "none" ? [] : sel.layers[i]![LINEAR_MODULES[k]!],
    });
    const h = rmsnorm(x, l.inputNorm, s.rmsNormEps, s.normAddOne);
    const qp = applyLinear(lin.q_proj, h, ctx(0));
    const kp = applyLinear(lin.k_proj, h, ctx(1));
    const v = reshape(applyLinear(lin.v_proj, h, ctx(2)), [B, T, s.numKvHeads, s.headDim]);
    done(h);
    const q = rope(reshape(qp, [B, T, s.numHeads, s.headDim]), positions, tables);
    done(qp);
    const k = rope(reshape(kp, [B, T, s.numKvHeads, s.headDim]), positions, tables);
    done(kp);
    const a = run.cache
      ? run.cache.attend(i, q, k, v)
      : run.packed
        ? attentionPacked(q, k, v, run.packed, { causal: run.causal })
        : attention(q, k, v, {
          causal: run.causal,
          keyMask: run.mask,
          dropoutP: run.attentionDropout,
          seed: fmix32(run.seed ^ fmix32(i * 16 + 9)),
          dropoutBatchOffset: run.batchOffset,
        });
    done(q, k, v); // a KV cache holds copies of k and v
    const o = applyLinear(lin.o_proj, reshape(a, [B, T, s.numHeads * s.headDim]), ctx(3));
    done(a);
    const x1 = add(x, o);
    done(o);
    const h2 = rmsnorm(x1, l.postAttentionNorm, s.rmsNormEps, s.normAddOne);
    const gate = applyLinear(lin.gate_proj, h2, ctx(4));
    const up = applyLinear(lin.up_proj, h2, ctx(5));
    done(h2);
    const act = gatedActivation(s.activation, gate, up);
    done(gate, up);
    const down = applyLinear(lin.down_proj, act, ctx(6));
    done(act);
    const out = add(x1, down);
    done(x1, down);
    return out;
  }

  /** Every tensor layer i reads (weights, biases, norms, LoRA factors). */
  layerTensors(i: number): Tensor[] {
    const l = this.layers[i]!;
    const out: Tensor[] = [l.inputNorm, l.postAttentionNorm];
    for (const m of LINEAR_MODULES) {
      const lin = l.linears[m];
      out.push(lin.weight);
      if (lin.bias) out.push(lin.bias);
      if (lin.lora) out.push(lin.lora.A, lin.lora.B);
      for (const l of lin.loraStack ?? []) out.push(l.A, l.B);
    }
    return out;
  }

  /** [.., C] → [.., V] logits. */
  logits(hidden: Tensor): Tensor {
    return withComputeDtype(this.computeDtype, () => matmul(hidden, this.lmHead, { transB: true }));
  }

  /** Every projection with its HF module path (LoRA injection, PEFT save/load, merging). */
  *linearModules(): Generator<[string, LinearLayer]> {
    for (let i = 0; i < this.layers.length; i++) for (const m of LINEAR_MODULES) yield [modulePath(i, m), this.layers[i]!.linears[m]];
  }

  /** All tensors by their HF checkpoint names (the order of spec.weightShapes). */
  *namedWeights(): Generator<[string, Tensor]> {
    yield [EMBED_TOKENS, this.embedTokens];
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i]!;
      yield [normName(i, "input_layernorm"), layer.inputNorm];
      yield [normName(i, "post_attention_layernorm"), layer.postAttentionNorm];
      for (const m of LINEAR_MODULES) {
        const lin = layer.linears[m];
        yield [linearTensorName(i, m, "weight"), lin.weight];
        if (lin.bias) yield [linearTensorName(i, m, "bias"), lin.bias];
      }
    }
    yield [FINAL_NORM, this.norm];
    if (!this.spec.tieWordEmbeddings) yield [LM_HEAD, this.lmHead];
  }
}

/** Gives the tensors' float32 buffers back to the pool: only for intermediates no graph or caller holds. */
function release(...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype === "f32" && !t.requiresGrad) giveF32(t.f32);
}

function noRelease(): void {}

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
