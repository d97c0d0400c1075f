/**
 * The kernel interface. Two implementations exist: `reference.ts` (plain TypeScript, the oracle
 * for tests) and `native.ts` (the C++ addon). Kernels work on flat row-major buffers and know
 * nothing of tensors or autograd; every buffer named `out`/`d*` is written, never reallocated.
 *
 * Shape legend used throughout: B batch, T query length, S key length, H query heads,
 * KVH key/value heads, D head dim, C model width, V vocab, N rows.
 */
import type { DType, Storage } from "../dtype.js";

export interface GemmArgs {
  /** Independent products; operand i starts at i*stride (a stride of 0 shares an operand). */
  batch: number;
  M: number;
  N: number;
  K: number;
  /** op(A) is M×K: A is stored M×K (lda ≥ K) or, when transA, K×M (lda ≥ M). */
  transA: boolean;
  /** op(B) is K×N: B is stored K×N (ldb ≥ N) or, when transB, N×K (ldb ≥ K). */
  transB: boolean;
  A: Float32Array;
  lda: number;
  strideA: number;
  /** B may keep a 16-bit storage dtype (weights); it is widened while packing. */
  B: Storage;
  bDtype: DType;
  ldb: number;
  strideB: number;
  C: Float32Array;
  ldc: number;
  strideC: number;
  /** C = alpha·op(A)·op(B) + beta·C. beta = 0 ignores C's old contents (NaN included). */
  alpha: number;
  beta: number;
  /**
   * "bf16": op(A) and op(B) are rounded to bfloat16 (nearest even) before they are multiplied;
   * products accumulate in float32 and C stays float32 (PyTorch's bf16 autocast with f32
   * outputs). Default "f32".
   */
  compute?: ComputeDtype;
  /**
   * op(B) packed once by `Backend.packB` (a frozen weight). It must hold this very B; it is used
   * only where it fits (same kernel, N, K, transB, compute; one product or B shared by the
   * batch), else B is packed per call as usual. Same result either way.
   */
  packedB?: PackedB | null;
}

/** What to pack: op(B) is K×N, stored N×K (ldb ≥ K) when transB, else K×N (ldb ≥ N). */
export interface PackBSpec {
  B: Storage;
  bDtype: DType;
  N: number;
  K: number;
  ldb: number;
  transB: boolean;
  compute: ComputeDtype;
}

/** A GEMM right operand in the kernel's packed layout, made once (see GemmArgs.packedB). */
export interface PackedB {
  readonly words: Float32Array;
  /** The kernel whose layout it holds (native id). */
  readonly kernel: number;
  readonly N: number;
  readonly K: number;
  readonly transB: boolean;
  readonly compute: ComputeDtype;
}

/**
 * A frozen weight [N, K] quantized in blocks of 32 along K (llama.cpp's Q8_0 / Q4_0 / Q4_1), each
 * block with its own f16 scale (and, for Q4_1, an f16 minimum); K is zero-padded to Kp, a multiple of 32 (padding multiplies to 0).
 * Made once at load by `quantizeWeight` (tensor/quant.ts); read only by `Backend.gemmQ`.
 */
export interface QuantWeight {
  readonly kind: QuantKind;
  readonly N: number;
  readonly K: number;
  readonly Kp: number;
  /**
   * q8_0: Int8Array [N·Kp], value = q·d. q4_0: Uint8Array [N·Kp/2], 16 bytes per block: byte j
   * holds value j in its low nibble and value j+16 in its high one, each stored as q+8 (q in −8…7).
   * q4_1: the same nibble order, q in 0…15 stored as is, value = q·d + m.
   */
  readonly qs: Int8Array | Uint8Array;
  /** One f16 scale per block, [N·Kp/32]. */
  readonly d: Uint16Array;
  /** q4_1 only: one f16 minimum per block, [N·Kp/32]. */
  readonly m?: Uint16Array;
}

export type QuantKind = "q8_0" | "q4_0" | "q4_1";

/**
 * C[M,N] = alpha·A[M,K]·Wᵀ + beta·C for a quantized W. Each row of A is quantized on the fly to
 * int8 in the same 32-blocks (scale = max|x|/127, f32, round half away from zero), so every block
 * product is an exact integer dot scaled by d_w·d_x and summed in f32 (q4_1 adds m_w·d_x·Σq_x,
 * the block minimum times the activation block's sum).
 */
export interface QuantGemmArgs {
  M: number;
  /** [M, K] row-major. */
  A: Float32Array;
  W: QuantWeight;
  /** [M, N] row-major. beta = 0 ignores its old contents. */
  C: Float32Array;
  alpha: number;
  beta: number;
}

/** The dtype GEMM operands are multiplied in. Everything else (norms, softmax, losses) stays f32. */
export type ComputeDtype = "f32" | "bf16";

export interface AttentionShape {
  B: number;
  T: number;
  S: number;
  H: number;
  KVH: number;
  D: number;
  /** Query i attends key j only if j ≤ i + (S − T) when causal. */
  causal: boolean;
  /** [B, kvStride], 1 = a real key (only the first S of a row are read). null = every key is real. */
  keyMask: Uint8Array | null;
  scale: number;
  /** Dropout on the attention probabilities; the keep mask comes from `dropoutKeep` below. */
  dropoutP: number;
  seed: number;
  /** Dropout indices of row b are those of row b + offset (a chunk of a larger batch draws that batch's mask). */
  dropoutBatchOffset?: number;
  /**
   * Keys between batch rows of k, v and keyMask (default S): a KV cache allocated for `kvStride`
   * positions of which the first S are filled. Forward only; the backward needs the default.
   */
  kvStride?: number;
  /** > 0: each scaled score x becomes softcap·tanh(x / softcap) before the mask (Gemma 2's attention logit soft-cap); 0 / absent: none. */
  softcap?: number;
  /** > 0 with causal: query i sees only keys j > i + (S − T) − window (a sliding window of `window` keys, itself included); 0 / absent: none. */
  window?: number;
}

export interface PackedAttentionShape {
  /** Row boundaries: rows + 1 non-decreasing offsets from 0 to N. */
  starts: Int32Array;
  H: number;
  KVH: number;
  D: number;
  causal: boolean;
  scale: number;
  /** As AttentionShape.softcap and .window. */
  softcap?: number;
  window?: number;
}

export type GatedActivation = "silu" | "gelu_tanh";

export interface Backend {
  readonly name: string;

  gemm(a: GemmArgs): void;
  /** Packs a frozen GEMM operand once for the kernel that would multiply it; absent where packing does not exist (the reference). */
  packB?(spec: PackBSpec): PackedB;
  /** Products with a block-quantized weight (integer dot products, see QuantGemmArgs). */
  gemmQ(a: QuantGemmArgs): void;
  /**
   * Quantizes a weight [N, K] stored in `dtype`, bit for bit as `quantizeWeight` in tensor/quant.ts
   * (which is the definition, and runs where a backend has no such entry), refusing the same input
   * with the same error naming `name`.
   */
  quantizeWeight?(data: Storage, dtype: DType, N: number, K: number, kind: QuantKind, name: string): QuantWeight;

  /**
   * q [B,T,H,D], k/v [B,S,KVH,D] (head h reads kv head floor(h / (H/KVH))), out [B,T,H,D],
   * lse [B,H,T] (log-sum-exp of the scaled, masked scores; saved for the backward).
   * A query row with no visible key yields zeros and lse = -Infinity.
   */
  attentionForward(s: AttentionShape, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array): void;
  /**
   * Packed (varlen) forward, inference only: rows back to back in q [N,H,D] and k/v [N,KVH,D],
   * row b holding tokens [starts[b], starts[b+1]) and attending within itself; lse [N·H], row
   * b's [H, L] block at starts[b]·H. Each row's output equals attentionForward on that row alone
   * (B = 1). Absent where a backend has no such entry: attentionPacked then calls the B = 1
   * forward once per row, which is the definition.
   */
  attentionForwardPacked?(s: PackedAttentionShape, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array): void;
  /** Writes (overwrites) dq, dk, dv from dOut, recomputing the probabilities from lse. */
  attentionBackward(
    s: AttentionShape,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    dOut: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
  ): void;

  /** x, out [N, C]; rstd [N]. y = x·rstd·w, or x·rstd·(1+w) when addOne (Gemma). */
  rmsnormForward(x: Float32Array, w: Storage, wDtype: DType, addOne: boolean, eps: number, N: number, C: number, out: Float32Array, rstd: Float32Array): void;
  /** Overwrites dx; accumulates into dw when it is not null. */
  rmsnormBackward(
    x: Float32Array,
    w: Storage,
    wDtype: DType,
    addOne: boolean,
    rstd: Float32Array,
    dOut: Float32Array,
    N: number,
    C: number,
    dx: Float32Array,
    dw: Float32Array | null,
  ): void;

  /**
   * Rotate-half RoPE (Hugging Face convention) on x [N, H, D] with positions [N] into cos/sin
   * tables [P, D/2]. inverse = rotate by −θ (this is also the backward).
   */
  rope(x: Float32Array, positions: Int32Array, cos: Float32Array, sin: Float32Array, N: number, H: number, D: number, inverse: boolean, out: Float32Array): void;

  /** out = act(gate) ⊙ up over n elements. */
  gatedActForward(kind: GatedActivation, gate: Float32Array, up: Float32Array, out: Float32Array): void;
  /** Overwrites dGate and dUp. */
  gatedActBackward(kind: GatedActivation, gate: Float32Array, up: Float32Array, dOut: Float32Array, dGate: Float32Array, dUp: Float32Array): void;

  /**
   * logits [N, V], targets [N] (ignoreIndex rows count nothing). Writes per-row loss [N]
   * (0 for ignored rows) and per-row log-sum-exp [N].
   */
  crossEntropyForward(logits: Float32Array, targets: Int32Array, ignoreIndex: number, N: number, V: number, loss: Float32Array, lse: Float32Array): void;
  /** dLogits[r] = rowScale[r]·(softmax(logits[r]) − onehot(target[r])); zero for ignored rows. */
  crossEntropyBackward(logits: Float32Array, targets: Int32Array, ignoreIndex: number, lse: Float32Array, rowScale: Float32Array, N: number, V: number, dLogits: Float32Array): void;

  /** out[i] = table[ids[i]] rows of width C (table widened from its storage dtype). */
  embeddingForward(table: Storage, dtype: DType, ids: Int32Array, C: number, out: Float32Array): void;

  /** Elementwise over equal lengths. */
  add(a: Float32Array, b: Float32Array, out: Float32Array): void;
  mul(a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** y += alpha·x */
  axpy(alpha: number, x: Float32Array, y: Float32Array): void;
  scale(x: Float32Array, alpha: number, out: Float32Array): void;
  /** Inverted dropout: out[i] = x[i]/(1−p) where dropoutKeep(seed, i, p), else 0 (the mask is regenerated, never stored). */
  dropout(x: Float32Array, out: Float32Array, p: number, seed: number, indexOffset?: number): void;
}

/** murmur3's 32-bit finaliser: the mixing step of the dropout hash, shared by every backend. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Counter-based dropout: element `index` (= ((b·H + h)·T + i)·S + j for attention) is kept iff
 * this returns true. Stateless, so the backward and the native kernels regenerate the same mask.
 * C++ twin: `dropout_keep` in native/src/common.h.
 */
export function dropoutKeep(seed: number, index: number, p: number): boolean {
  const h = fmix32((index ^ fmix32(seed >>> 0)) >>> 0);
  return (h >>> 8) / 16777216 >= p;
}
