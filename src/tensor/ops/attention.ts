/**
 * Fused scaled-dot-product attention with grouped-query heads, causal or bidirectional masking,
 * a key-padding mask and seeded dropout on the probabilities. q [B,T,H,D], k/v [B,S,KVH,D] →
 * [B,T,H,D]. Only the log-sum-exp per query row is saved; the backward recomputes probabilities.
 */
import { makeOutput, needsGrad } from "../autograd.js";
import { backend } from "../backend/index.js";
import { giveF32, takeF32 } from "../pool.js";
import type { AttentionShape } from "../backend/types.js";
import { ShapeError, shapeStr, Tensor } from "../tensor.js";

export interface AttentionOptions {
  causal: boolean;
  /** [B, S], 1 = real key. */
  keyMask?: Uint8Array | null;
  scale?: number;
  /** Gemma 2's attention logit soft-cap: scores become c·tanh(score / c); absent = none. */
  softcap?: number;
  /** Causal only: a sliding window of this many keys (query i sees keys i − window + 1 .. i); absent = none. */
  window?: number;
  dropoutP?: number;
  seed?: number;
  /** Dropout draws row b's mask as row b + offset of a larger batch would (GradCache chunks). */
  dropoutBatchOffset?: number;
}

export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4)
    throw new ShapeError("attention", `expected rank-4 q/k/v, got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  const [B, T, H, D] = q.shape as [number, number, number, number];
  const [Bk, S, KVH, Dk] = k.shape as [number, number, number, number];
  if (Bk !== B || Dk !== D || v.shape.some((d, i) => d !== k.shape[i]) || H % KVH !== 0)
    throw new ShapeError("attention", `incompatible q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} (need equal B and D, k = v, H divisible by KVH)`);
  if (opts.keyMask && opts.keyMask.length !== B * S) throw new ShapeError("attention", `key mask has ${opts.keyMask.length} entries for ${B}×${S} keys`);
  const p = opts.dropoutP ?? 0;
  if (!(p >= 0 && p < 1)) throw new RangeError(`attention: dropout probability ${p} outside [0, 1)`);
  const s: AttentionShape = {
    B, T, S, H, KVH, D,
    causal: opts.causal,
    keyMask: opts.keyMask ?? null,
    scale: opts.scale ?? 1 / Math.sqrt(D),
    softcap: opts.softcap ?? 0,
    window: opts.window ?? 0,
    dropoutP: p,
    seed: (opts.seed ?? 0) >>> 0,
    dropoutBatchOffset: opts.dropoutBatchOffset ?? 0,
  };
  const be = backend();
  // The kernel writes every output row and every lse entry (zeros / −inf where no key is visible).
  const out = takeF32(q.size);
  const lse = takeF32(B * H * T);
  be.attentionForward(s, q.f32, k.f32, v.f32, out, lse);
  // Only the backward reads lse: without a graph it goes straight back to the pool.
  if (!needsGrad(q, k, v)) giveF32(lse);
  return makeOutput("attention", out, q.shape, [q, k, v], (g) => {
    const dq = new Float32Array(q.size);
    const dk = new Float32Array(k.size);
    const dv = new Float32Array(v.size);
    be.attentionBackward(s, q.f32, k.f32, v.f32, out, lse, g, dq, dk, dv);
    return [q.requiresGrad ? dq : null, k.requiresGrad ? dk : null, v.requiresGrad ? dv : null];
  });
}

/**
 * Attention over rows packed back to back without padding (inference): q [1,N,H,D], k/v
 * [1,N,KVH,D] hold rows of `lengths` (summing to N) one after another, and each row attends only
 * to itself, at its own length. The projections around it then run on N real tokens instead of
 * B × the longest row: what a server's mixed-length batch needs (TEI's varlen batching). Each row
 * goes through the B = 1 kernel on views of the buffers (all rows in one backend call where the
 * backend has attentionForwardPacked, else one call per row), so a row's result is what a batch
 * of that row alone computes. No gradient and no dropout: training batches stay padded.
 */
export function attentionPacked(q: Tensor, k: Tensor, v: Tensor, lengths: Int32Array, opts: { causal: boolean; scale?: number; softcap?: number; window?: number }): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4 || q.shape[0] !== 1)
    throw new ShapeError("attentionPacked", `expected rank-4 q/k/v with B = 1, got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  if (q.requiresGrad || k.requiresGrad || v.requiresGrad) throw new Error("attentionPacked: inference only (an input requires a gradient); train on padded batches");
  const [, N, H, D] = q.shape as [number, number, number, number];
  const [, S, KVH, Dk] = k.shape as [number, number, number, number];
  if (S !== N || Dk !== D || v.shape.some((d, i) => d !== k.shape[i]) || H % KVH !== 0)
    throw new ShapeError("attentionPacked", `incompatible q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} (need N keys for N queries, equal D, k = v, H divisible by KVH)`);
  let total = 0;
  for (const L of lengths) {
    if (!(Number.isInteger(L) && L >= 0)) throw new RangeError(`attentionPacked: row length ${L} is not a non-negative integer`);
    total += L;
  }
  if (total !== N) throw new ShapeError("attentionPacked", `row lengths sum to ${total}, the packed batch holds ${N} tokens`);
  const be = backend();
  const out = takeF32(q.size);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const softcap = opts.softcap ?? 0;
  const window = opts.window ?? 0;
  if (be.attentionForwardPacked) {
    // One call for the whole batch: the rows run in parallel inside it (a row per call cost a
    // kernel launch each, most of the attention time of a small model's batch of short rows).
    const starts = new Int32Array(lengths.length + 1);
    for (let b = 0; b < lengths.length; b++) starts[b + 1] = starts[b]! + lengths[b]!;
    const lse = takeF32(N * H); // written by the kernel, read by no one (no backward)
    be.attentionForwardPacked({ starts, H, KVH, D, causal: opts.causal, scale, softcap, window }, q.f32, k.f32, v.f32, out, lse);
    giveF32(lse);
    return new Tensor(out, q.shape);
  }
  const lse = new Float32Array(H * Math.max(0, ...lengths));
  const qs = H * D,
    ks = KVH * D;
  let at = 0;
  for (const L of lengths) {
    if (L === 0) continue;
    const s: AttentionShape = { B: 1, T: L, S: L, H, KVH, D, causal: opts.causal, keyMask: null, scale, softcap, window, dropoutP: 0, seed: 0 };
    be.attentionForward(s, q.f32.subarray(at * qs, (at + L) * qs), k.f32.subarray(at * ks, (at + L) * ks), v.f32.subarray(at * ks, (at + L) * ks), out.subarray(at * qs, (at + L) * qs), lse);
    at += L;
  }
  return new Tensor(out, q.shape);
}

/** Keys and values held in buffers allocated for more positions than are filled (a KV cache). */
export interface StridedKv {
  /** [B, stride, KVH, D] each; positions 0..S−1 of every row are filled. */
  k: Float32Array;
  v: Float32Array;
  S: number;
  stride: number;
  KVH: number;
  /** [B, stride], 1 = a real key; null = all real. */
  keyMask: Uint8Array | null;
}

/**
 * Inference-only attention of q [B,T,H,D] over the first S keys of strided K/V buffers (no
 * copy into a contiguous [B,S,..] tensor per step). Causal: query i sits at key position
 * i + S − T, so the T new tokens must be the last T filled keys. No gradient.
 */
export function attentionOverKv(q: Tensor, kv: StridedKv, opts: { causal: boolean; scale?: number; softcap?: number; window?: number }): Tensor {
  if (q.rank !== 4) throw new ShapeError("attentionOverKv", `expected a rank-4 q, got ${shapeStr(q.shape)}`);
  if (q.requiresGrad) throw new Error("attentionOverKv: inference only (q requires a gradient)");
  const [B, T, H, D] = q.shape as [number, number, number, number];
  const need = B * kv.stride * kv.KVH * D;
  if (kv.S < T || kv.S > kv.stride || kv.k.length < need || kv.v.length < need || H % kv.KVH !== 0)
    throw new ShapeError("attentionOverKv", `q ${shapeStr(q.shape)} against ${kv.S} of ${kv.stride} cached keys × ${kv.KVH} heads (buffers ${kv.k.length}, ${kv.v.length}; need ${need})`);
  const s: AttentionShape = {
    B, T, S: kv.S, H, KVH: kv.KVH, D,
    causal: opts.causal,
    keyMask: kv.keyMask,
    scale: opts.scale ?? 1 / Math.sqrt(D),
    softcap: opts.softcap ?? 0,
    window: opts.window ?? 0,
    dropoutP: 0,
    seed: 0,
    kvStride: kv.stride,
  };
  const out = new Float32Array(q.size);
  backend().attentionForward(s, q.f32, kv.k, kv.v, out, new Float32Array(B * H * T));
  return new Tensor(out, q.shape);
}
