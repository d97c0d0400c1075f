/**
 * The reference `gemmQ`: activations quantized per row and block (tensor/quant.ts), each block's
 * integer dot computed exactly, scaled by d_w·d_x in f32 (plus q4_1's m_w·d_x·Σq_x, the block
 * minimum times the activation block's sum) and summed in f32, block by block (the
 * oracle the native kernels are checked against: their integer parts agree exactly, the f32
 * sums up to order).
 */
import { f16ToF32 } from "../dtype.js";
import { QBLOCK, quantizeRows, quantValue } from "../quant.js";
import type { QuantGemmArgs } from "./types.js";

export function referenceGemmQ(g: QuantGemmArgs): void {
  const { W, M } = g;
  const nb = W.Kp / QBLOCK;
  const x = quantizeRows(g.A, M, W.K);
  const row = new Int8Array(W.Kp);
  for (let n = 0; n < W.N; n++) {
    for (let k = 0; k < W.Kp; k++) row[k] = quantValue(W, n, k);
    for (let m = 0; m < M; m++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        let isum = 0;
        for (let j = b * QBLOCK; j < (b + 1) * QBLOCK; j++) isum += row[j]! * x.q[m * W.Kp + j]!;
        acc = Math.fround(acc + Math.fround(Math.fround(f16ToF32(W.d[n * nb + b]!) * x.s[m * nb + b]!) * isum));
        if (W.m) acc = Math.fround(acc + Math.fround(f16ToF32(W.m[n * nb + b]!) * x.sum[m * nb + b]!));
      }
      const ci = m * W.N + n;
      g.C[ci] = g.alpha * acc + (g.beta === 0 ? 0 : g.beta * g.C[ci]!);
    }
  }
}
