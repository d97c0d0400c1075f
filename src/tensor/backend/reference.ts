/**
 * Plain TypeScript kernels: slow, obvious, and the oracle every native kernel is tested against.
 * Accumulations are in float64 (JS numbers) so the oracle is at least as accurate as the addon.
 */
import { bf16ToF32, f16ToF32, f32ToBf16, type DType, type Storage } from "../dtype.js";
import { referenceGemmQ } from "./quant-reference.js";
import { dropoutKeep, type AttentionShape, type Backend, type GatedActivation, type GemmArgs } from "./types.js";

function reader(data: Storage, dtype: DType): (i: number) => number {
  if (dtype === "f32") return (i) => (data as Float32Array)[i]!;
  if (dtype === "bf16") return (i) => bf16ToF32((data as Uint16Array)[i]!);
  return (i) => f16ToF32((data as Uint16Array)[i]!);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function act(kind: GatedActivation, x: number): { y: number; dy: number } {
  if (kind === "silu") {
    const s = 1 / (1 + Math.exp(-x));
    return { y: x * s, dy: s * (1 + x * (1 - s)) };
  }
  const inner = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
  const t = Math.tanh(inner);
  const dInner = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
  return { y: 0.5 * x * (1 + t), dy: 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dInner };
}

/**
 * Visits the visible (b, h, i, j) pairs of attention (causal, sliding window, key mask) and gives
 * their scaled scores, soft-capped (c·tanh(x / c)) when s.softcap > 0.
 */
function attentionScores(s: AttentionShape, q: Float32Array, k: Float32Array, b: number, h: number, i: number): Float64Array {
  const { T, S, H, KVH, D } = s;
  const KS = s.kvStride ?? S;
  const kvh = Math.floor(h / (H / KVH));
  const scores = new Float64Array(S).fill(-Infinity);
  const qOff = ((b * T + i) * H + h) * D;
  for (let j = 0; j < S; j++) {
    if (s.causal && j > i + (S - T)) continue;
    if (s.causal && s.window && j <= i + (S - T) - s.window) continue;
    if (s.keyMask && !s.keyMask[b * KS + j]) continue;
    const kOff = ((b * KS + j) * KVH + kvh) * D;
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qOff + d]! * k[kOff + d]!;
    scores[j] = s.softcap ? s.softcap * Math.tanh((dot * s.scale) / s.softcap) : dot * s.scale;
  }
  return scores;
}

export const referenceBackend: Backend = {
  name: "reference",

  gemmQ: referenceGemmQ,

  gemm(g: GemmArgs) {
    const bf16 = g.compute === "bf16";
    const round = (x: number) => (bf16 ? bf16ToF32(f32ToBf16(x)) : x);
    const rb0 = reader(g.B, g.bDtype);
    const rb = bf16 && g.bDtype !== "bf16" ? (i: number) => round(rb0(i)) : rb0;
    for (let p = 0; p < g.batch; p++) {
      const aBase = p * g.strideA;
      const bBase = p * g.strideB;
      const cBase = p * g.strideC;
      for (let m = 0; m < g.M; m++) {
        for (let n = 0; n < g.N; n++) {
          let acc = 0;
          for (let kk = 0; kk < g.K; kk++) {
            const a = round(g.A[aBase + (g.transA ? kk * g.lda + m : m * g.lda + kk)]!);
            const b = rb(bBase + (g.transB ? n * g.ldb + kk : kk * g.ldb + n));
            acc += a * b;
          }
          const ci = cBase + m * g.ldc + n;
          g.C[ci] = g.alpha * acc + (g.beta === 0 ? 0 : g.beta * g.C[ci]!);
        }
      }
    }
  },

  attentionForward(s, q, k, v, out, lse) {
    const { B, T, S, H, KVH, D } = s;
    const keepScale = s.dropoutP > 0 ? 1 / (1 - s.dropoutP) : 1;
    const off = s.dropoutBatchOffset ?? 0;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / (H / KVH));
        for (let i = 0; i < T; i++) {
          const scores = attentionScores(s, q, k, b, h, i);
          let max = -Infinity;
          for (let j = 0; j < S; j++) max = Math.max(max, scores[j]!);
          const oOff = ((b * T + i) * H + h) * D;
          const acc = new Float64Array(D);
          if (max === -Infinity) {
            lse[(b * H + h) * T + i] = -Infinity;
          } else {
            let sum = 0;
            for (let j = 0; j < S; j++) sum += Math.exp(scores[j]! - max);
            const l = max + Math.log(sum);
            lse[(b * H + h) * T + i] = l;
            for (let j = 0; j < S; j++) {
              let pr = Math.exp(scores[j]! - l);
              if (pr === 0) continue;
              if (s.dropoutP > 0) pr = dropoutKeep(s.seed, (((b + off) * H + h) * T + i) * S + j, s.dropoutP) ? pr * keepScale : 0;
              const vOff = ((b * (s.kvStride ?? S) + j) * KVH + kvh) * D;
              for (let d = 0; d < D; d++) acc[d] += pr * v[vOff + d]!;
            }
          }
          for (let d = 0; d < D; d++) out[oOff + d] = acc[d]!;
        }
      }
  },

  attentionBackward(s, q, k, v, _out, lse, dOut, dq, dk, dv) {
    const { B, T, S, H, KVH, D } = s;
    if ((s.kvStride ?? S) !== S) throw new Error(`attentionBackward: kvStride ${s.kvStride} ≠ S ${S} is forward-only`);
    const keepScale = s.dropoutP > 0 ? 1 / (1 - s.dropoutP) : 1;
    const off = s.dropoutBatchOffset ?? 0;
    dq.fill(0);
    dk.fill(0);
    dv.fill(0);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / (H / KVH));
        for (let i = 0; i < T; i++) {
          const l = lse[(b * H + h) * T + i]!;
          if (l === -Infinity) continue;
          const scores = attentionScores(s, q, k, b, h, i);
          const oOff = ((b * T + i) * H + h) * D;
          const P = new Float64Array(S);
          const dPdrop = new Float64Array(S); // d(loss)/d(P after dropout)
          const keep = new Float64Array(S);
          for (let j = 0; j < S; j++) {
            P[j] = scores[j] === -Infinity ? 0 : Math.exp(scores[j]! - l);
            keep[j] = s.dropoutP > 0 ? (dropoutKeep(s.seed, (((b + off) * H + h) * T + i) * S + j, s.dropoutP) ? keepScale : 0) : 1;
            const vOff = ((b * S + j) * KVH + kvh) * D;
            let dot = 0;
            for (let d = 0; d < D; d++) {
              dot += dOut[oOff + d]! * v[vOff + d]!;
              dv[vOff + d] += P[j]! * keep[j]! * dOut[oOff + d]!;
            }
            dPdrop[j] = dot;
          }
          let rowDot = 0;
          for (let j = 0; j < S; j++) rowDot += P[j]! * keep[j]! * dPdrop[j]!;
          for (let j = 0; j < S; j++) {
            if (P[j] === 0) continue;
            // Through the soft-cap: d(c·tanh(x / c))/dx = 1 − (capped / c)².
            const capGrad = s.softcap ? 1 - (scores[j]! / s.softcap) ** 2 : 1;
            const dS = P[j]! * (keep[j]! * dPdrop[j]! - rowDot) * s.scale * capGrad;
            const kOff = ((b * S + j) * KVH + kvh) * D;
            for (let d = 0; d < D; d++) {
              dq[oOff + d] += dS * k[kOff + d]!;
              dk[kOff + d] += dS * q[oOff + d]!;
            }
          }
        }
      }
  },

  rmsnormForward(x, w, wDtype, addOne, eps, N, C, out, rstd) {
    const rw = reader(w, wDtype);
    for (let r = 0; r < N; r++) {
      let ss = 0;
      for (let c = 0; c < C; c++) ss += x[r * C + c]! ** 2;
      const rs = 1 / Math.sqrt(ss / C + eps);
      rstd[r] = rs;
      for (let c = 0; c < C; c++) out[r * C + c] = x[r * C + c]! * rs * (addOne ? 1 + rw(c) : rw(c));
    }
  },

  rmsnormBackward(x, w, wDtype, addOne, rstd, dOut, N, C, dx, dw) {
    const rw = reader(w, wDtype);
    for (let r = 0; r < N; r++) {
      const rs = rstd[r]!;
      let dot = 0; // Σ dOut·w·x
      for (let c = 0; c < C; c++) {
        const wc = addOne ? 1 + rw(c) : rw(c);
        dot += dOut[r * C + c]! * wc * x[r * C + c]!;
        if (dw) dw[c] += dOut[r * C + c]! * x[r * C + c]! * rs;
      }
      const coef = (rs * rs * rs * dot) / C;
      for (let c = 0; c < C; c++) {
        const wc = addOne ? 1 + rw(c) : rw(c);
        dx[r * C + c] = dOut[r * C + c]! * wc * rs - x[r * C + c]! * coef;
      }
    }
  },

  rope(x, positions, cos, sin, N, H, D, inverse, out) {
    const half = D / 2;
    for (let n = 0; n < N; n++) {
      const pos = positions[n]!;
      for (let h = 0; h < H; h++) {
        const off = (n * H + h) * D;
        for (let i = 0; i < half; i++) {
          const c = cos[pos * half + i]!;
          const s = inverse ? -sin[pos * half + i]! : sin[pos * half + i]!;
          const x1 = x[off + i]!;
          const x2 = x[off + i + half]!;
          out[off + i] = x1 * c - x2 * s;
          out[off + i + half] = x2 * c + x1 * s;
        }
      }
    }
  },

  gatedActForward(kind, gate, up, out) {
    for (let i = 0; i < gate.length; i++) out[i] = act(kind, gate[i]!).y * up[i]!;
  },

  gatedActBackward(kind, gate, up, dOut, dGate, dUp) {
    for (let i = 0; i < gate.length; i++) {
      const { y, dy } = act(kind, gate[i]!);
      dUp[i] = dOut[i]! * y;
      dGate[i] = dOut[i]! * up[i]! * dy;
    }
  },

  crossEntropyForward(logits, targets, ignoreIndex, N, V, loss, lse) {
    for (let r = 0; r < N; r++) {
      let max = -Infinity;
      for (let c = 0; c < V; c++) max = Math.max(max, logits[r * V + c]!);
      let sum = 0;
      for (let c = 0; c < V; c++) sum += Math.exp(logits[r * V + c]! - max);
      const l = max + Math.log(sum);
      lse[r] = l;
      const t = targets[r]!;
      loss[r] = t === ignoreIndex ? 0 : l - logits[r * V + t]!;
    }
  },

  crossEntropyBackward(logits, targets, ignoreIndex, lse, rowScale, N, V, dLogits) {
    for (let r = 0; r < N; r++) {
      const t = targets[r]!;
      if (t === ignoreIndex) {
        dLogits.fill(0, r * V, (r + 1) * V);
        continue;
      }
      const sc = rowScale[r]!;
      for (let c = 0; c < V; c++) dLogits[r * V + c] = sc * (Math.exp(logits[r * V + c]! - lse[r]!) - (c === t ? 1 : 0));
    }
  },

  embeddingForward(table, dtype, ids, C, out) {
    const rt = reader(table, dtype);
    for (let i = 0; i < ids.length; i++) for (let c = 0; c < C; c++) out[i * C + c] = rt(ids[i]! * C + c);
  },

  add(a, b, out) {
    for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
  },
  mul(a, b, out) {
    for (let i = 0; i < out.length; i++) out[i] = a[i]! * b[i]!;
  },
  axpy(alpha, x, y) {
    for (let i = 0; i < y.length; i++) y[i] += alpha * x[i]!;
  },
  scale(x, alpha, out) {
    for (let i = 0; i < out.length; i++) out[i] = x[i]! * alpha;
  },
  dropout(x, out, p, seed, indexOffset = 0) {
    const k = 1 / (1 - p);
    for (let i = 0; i < out.length; i++) out[i] = dropoutKeep(seed, (indexOffset + i) >>> 0, p) ? x[i]! * Math.fround(k) : 0;
  },
};
