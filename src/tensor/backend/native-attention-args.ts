/**
 * The attention kernels' argument checks and parameter blocks for the native binding (native.ts):
 * head counts, dropout, scale, the KV stride and key mask of the padded forward and backward, and
 * the row boundaries of the packed forward, each failing with a KernelArgError naming the kernel.
 */
import { counts, fmt, KernelArgError } from "./native-args.js";
import type { AttentionShape, PackedAttentionShape } from "./types.js";

export function attnCheck(kernel: string, s: AttentionShape): Record<string, number | boolean> {
  const shape = { B: s.B, T: s.T, S: s.S, H: s.H, KVH: s.KVH, D: s.D, causal: s.causal };
  counts(kernel, { B: s.B, T: s.T, S: s.S, H: s.H, KVH: s.KVH, D: s.D });
  if (s.KVH < 1 || s.H % s.KVH !== 0) throw new KernelArgError(kernel, `H must be a multiple of KVH ≥ 1 (${fmt(shape)})`);
  if (!(s.dropoutP >= 0 && s.dropoutP < 1)) throw new KernelArgError(kernel, `dropoutP must be in [0, 1), got ${s.dropoutP}`);
  checkScores(kernel, s);
  const ks = kvStride(s);
  if (!(Number.isInteger(ks) && ks >= s.S)) throw new KernelArgError(kernel, `kvStride must be an integer ≥ S, got ${ks} (${fmt(shape)})`);
  if (ks !== s.S && kernel !== "attentionForward") throw new KernelArgError(kernel, `kvStride ${ks} ≠ S is forward-only (${fmt(shape)})`);
  const maskLen = s.B === 0 ? 0 : (s.B - 1) * ks + s.S;
  if (s.keyMask !== null && !(s.keyMask instanceof Uint8Array && s.keyMask.length >= maskLen))
    throw new KernelArgError(kernel, `keyMask must be null or a Uint8Array of ≥ (B−1)·kvStride + S = ${maskLen} elements (${fmt(shape)})`);
  return shape;
}

/** The packed forward's checks: head counts as attnCheck's, and starts 0 ≤ … non-decreasing …; returns N. */
export function packedCheck(kernel: string, s: PackedAttentionShape): { shape: Record<string, number | boolean>; N: number } {
  const st = s.starts;
  if (!(st instanceof Int32Array) || st.length < 1) throw new KernelArgError(kernel, "starts must be an Int32Array of rows + 1 offsets");
  const rows = st.length - 1;
  const N = st[rows]!;
  const shape = { rows, N, H: s.H, KVH: s.KVH, D: s.D, causal: s.causal };
  counts(kernel, { H: s.H, KVH: s.KVH, D: s.D });
  if (s.KVH < 1 || s.H % s.KVH !== 0) throw new KernelArgError(kernel, `H must be a multiple of KVH ≥ 1 (${fmt(shape)})`);
  checkScores(kernel, s);
  if (st[0] !== 0) throw new KernelArgError(kernel, `starts[0] must be 0, got ${st[0]} (${fmt(shape)})`);
  for (let b = 0; b < rows; b++)
    if (st[b + 1]! < st[b]!) throw new KernelArgError(kernel, `starts must be non-decreasing: starts[${b + 1}] = ${st[b + 1]} < starts[${b}] = ${st[b]} (${fmt(shape)})`);
  return { shape, N };
}

function checkScores(kernel: string, s: { scale: number; softcap?: number; window?: number }): void {
  const w = s.window ?? 0;
  if (!(Number.isInteger(w) && w >= 0)) throw new KernelArgError(kernel, `window must be 0 (none) or a positive integer, got ${w}`);
  if (!Number.isFinite(s.scale)) throw new KernelArgError(kernel, `scale must be finite, got ${s.scale}`);
  const cap = s.softcap ?? 0;
  if (!(Number.isFinite(cap) && cap >= 0)) throw new KernelArgError(kernel, `softcap must be 0 (none) or a positive finite number, got ${cap}`);
}

export function kvStride(s: AttentionShape): number {
  return s.kvStride ?? s.S;
}

export function attnParams(p: Float64Array, s: AttentionShape): Float64Array {
  p[0] = s.B;
  p[1] = s.T;
  p[2] = s.S;
  p[3] = s.H;
  p[4] = s.KVH;
  p[5] = s.D;
  p[6] = s.causal ? 1 : 0;
  p[7] = s.scale;
  p[8] = s.dropoutP;
  p[9] = s.seed >>> 0;
  p[10] = s.dropoutBatchOffset ?? 0;
  p[11] = kvStride(s);
  p[12] = s.softcap ?? 0;
  p[13] = s.window ?? 0;
  return p;
}
