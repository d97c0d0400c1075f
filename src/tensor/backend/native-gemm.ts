/** The native GEMM binding: shape and bounds checks, then one call into the addon. */
import type { Storage } from "../dtype.js";
import { counts, DTYPE_CODE, f32, fmt, KernelArgError, span, storage } from "./native-args.js";
import type { Backend, ComputeDtype, GemmArgs, PackBSpec, PackedB, QuantGemmArgs, QuantKind } from "./types.js";
import { QBLOCK, quantRefusal } from "../quant.js";

export type AddonGemm = (A: Float32Array, B: Storage, C: Float32Array, params: Float64Array, packed?: Float32Array | null) => void;
export type AddonPackB = (B: Storage, out: Float32Array | null, params: Float64Array) => { words: number; kernel: number };

function computeCode(c: ComputeDtype | undefined): number {
  if (c === undefined || c === "f32") return 0;
  if (c === "bf16") return 1;
  throw new KernelArgError("gemm", `unknown compute dtype ${String(c)}`);
}

export function gemmBinding(addon: { gemm: AddonGemm }): (g: GemmArgs) => void {
  // A reused parameter block (kernels are synchronous, so no call can observe another's block).
  const gp = new Float64Array(21);
  return (g: GemmArgs) => {
    const K = "gemm";
    const shape = { batch: g.batch, M: g.M, N: g.N, K: g.K, transA: g.transA, transB: g.transB, lda: g.lda, ldb: g.ldb, ldc: g.ldc };
    counts(K, { batch: g.batch, M: g.M, N: g.N, K: g.K, lda: g.lda, ldb: g.ldb, ldc: g.ldc, strideA: g.strideA, strideB: g.strideB, strideC: g.strideC });
    const aRows = g.transA ? g.K : g.M,
      aCols = g.transA ? g.M : g.K;
    const bRows = g.transB ? g.N : g.K,
      bCols = g.transB ? g.K : g.N;
    if (aCols > 0 && g.lda < aCols) throw new KernelArgError(K, `lda ${g.lda} < ${aCols} (${fmt(shape)})`);
    if (bCols > 0 && g.ldb < bCols) throw new KernelArgError(K, `ldb ${g.ldb} < ${bCols} (${fmt(shape)})`);
    if (g.N > 0 && g.ldc < g.N) throw new KernelArgError(K, `ldc ${g.ldc} < N (${fmt(shape)})`);
    const live = g.M > 0 && g.N > 0 ? g.batch : 0;
    const A = f32(K, "A", g.A, span(live, g.strideA, aRows, g.lda, aCols), shape);
    const B = storage(K, "B", g.B, g.bDtype, span(live, g.strideB, bRows, g.ldb, bCols), shape);
    const C = f32(K, "C", g.C, span(live, g.strideC, g.M, g.ldc, g.N), shape);
    if (live === 0) return;
    gp[0] = g.batch;
    gp[1] = g.M;
    gp[2] = g.N;
    gp[3] = g.K;
    gp[4] = g.transA ? 1 : 0;
    gp[5] = g.transB ? 1 : 0;
    gp[6] = g.lda;
    gp[7] = g.strideA;
    gp[8] = DTYPE_CODE[g.bDtype];
    gp[9] = g.ldb;
    gp[10] = g.strideB;
    gp[11] = g.ldc;
    gp[12] = g.strideC;
    gp[13] = g.alpha;
    gp[14] = g.beta;
    gp[15] = computeCode(g.compute);
    const pk = g.packedB;
    if (pk) {
      if (!(pk.words instanceof Float32Array)) throw new KernelArgError(K, `packedB.words must be a Float32Array (${fmt(shape)})`);
      gp[16] = pk.kernel;
      gp[17] = pk.N;
      gp[18] = pk.K;
      gp[19] = pk.transB ? 1 : 0;
      gp[20] = computeCode(pk.compute);
      addon.gemm(A, B, C, gp, pk.words);
    } else {
      gp[16] = -1;
      addon.gemm(A, B, C, gp);
    }
  };
}

/** Backend.packB on the addon: sizes the packed buffer, then fills it. */
export function packBBinding(addon: { packB: AddonPackB }): (s: PackBSpec) => PackedB {
  return (s: PackBSpec) => {
    const K = "packB";
    const shape = { N: s.N, K: s.K, ldb: s.ldb, transB: s.transB };
    counts(K, { N: s.N, K: s.K, ldb: s.ldb });
    if (s.N === 0 || s.K === 0) throw new KernelArgError(K, `nothing to pack (${fmt(shape)})`);
    const rows = s.transB ? s.N : s.K,
      cols = s.transB ? s.K : s.N;
    if (s.ldb < cols) throw new KernelArgError(K, `ldb ${s.ldb} < ${cols} (${fmt(shape)})`);
    const B = storage(K, "B", s.B, s.bDtype, span(1, 0, rows, s.ldb, cols), shape);
    const p = new Float64Array([s.N, s.K, s.transB ? 1 : 0, DTYPE_CODE[s.bDtype], s.ldb, computeCode(s.compute)]);
    const size = addon.packB(B, null, p);
    const words = new Float32Array(size.words);
    const made = addon.packB(B, words, p);
    return { words, kernel: made.kernel, N: s.N, K: s.K, transB: s.transB, compute: s.compute };
  };
}

export type AddonGemmQ = (A: Float32Array, qs: Int8Array | Uint8Array, d: Uint16Array, C: Float32Array, params: Float64Array, m?: Uint16Array) => void;

/** The addon's code of each kind (quant.h). */
const KIND_CODE: Record<QuantKind, number> = { q8_0: 0, q4_0: 1, q4_1: 2 };

/** Backend.gemmQ on the addon: the quantized weight's arrays checked against its shape, then one call. */
export function gemmQBinding(addon: { gemmQ: AddonGemmQ }): (g: QuantGemmArgs) => void {
  const qp = new Float64Array(7);
  return (g: QuantGemmArgs) => {
    const K = "gemmQ";
    const W = g.W;
    const shape = { M: g.M, N: W.N, K: W.K, Kp: W.Kp };
    counts(K, shape);
    if (W.Kp % 32 !== 0 || W.Kp < W.K || W.Kp >= W.K + 32) throw new KernelArgError(K, `Kp must be K rounded up to 32 (${fmt(shape)})`);
    const q8 = W.kind === "q8_0";
    if (!Object.hasOwn(KIND_CODE, W.kind)) throw new KernelArgError(K, `unknown quantization ${String(W.kind)}`);
    const qs = q8 ? W.qs instanceof Int8Array : W.qs instanceof Uint8Array;
    if (!qs || W.qs.length !== (q8 ? W.N * W.Kp : (W.N * W.Kp) / 2)) throw new KernelArgError(K, `W.qs is not a ${W.kind} array of [${W.N},${W.Kp}] (${fmt(shape)})`);
    const blocks = (W.N * W.Kp) / 32;
    if (!(W.d instanceof Uint16Array) || W.d.length !== blocks) throw new KernelArgError(K, `W.d must be a Uint16Array of ${blocks} scales (${fmt(shape)})`);
    const mins = W.kind === "q4_1";
    if (mins ? !(W.m instanceof Uint16Array) || W.m.length !== blocks : W.m !== undefined)
      throw new KernelArgError(K, mins ? `W.m must be a Uint16Array of ${blocks} minimums (${fmt(shape)})` : `W.m is for q4_1 only, not ${W.kind} (${fmt(shape)})`);
    const A = f32(K, "A", g.A, g.M * W.K, shape);
    const C = f32(K, "C", g.C, g.M * W.N, shape);
    if (g.M === 0 || W.N === 0) return;
    qp[0] = g.M;
    qp[1] = W.N;
    qp[2] = W.K;
    qp[3] = W.Kp;
    qp[4] = KIND_CODE[W.kind];
    qp[5] = g.alpha;
    qp[6] = g.beta;
    addon.gemmQ(A, W.qs, W.d, C, qp, W.m);
  };
}

export type AddonQuantizeWeight = (data: Storage, qs: Int8Array | Uint8Array, d: Uint16Array, params: Float64Array, why: Float64Array, m?: Uint16Array) => void;

/** Backend.quantizeWeight on the addon: the arrays allocated here, the refusal worded by tensor/quant.ts. */
export function quantizeWeightBinding(addon: { quantizeWeight: AddonQuantizeWeight }): NonNullable<Backend["quantizeWeight"]> {
  const why = new Float64Array(4);
  return (data, dtype, N, K, kind, name) => {
    if (data.length !== N * K) throw quantRefusal.shape(name, data.length, N, K);
    if (!Object.hasOwn(KIND_CODE, kind)) throw new KernelArgError("quantizeWeight", `unknown quantization ${String(kind)}`);
    const nb = Math.ceil(K / QBLOCK),
      Kp = nb * QBLOCK;
    const qs = kind === "q8_0" ? new Int8Array(N * Kp) : new Uint8Array((N * Kp) / 2);
    const d = new Uint16Array(N * nb);
    const m = kind === "q4_1" ? new Uint16Array(N * nb) : undefined;
    addon.quantizeWeight(storage("quantizeWeight", "data", data, dtype, N * K, { N, K }), qs, d, new Float64Array([N, K, DTYPE_CODE[dtype], KIND_CODE[kind]]), why, m);
    if (why[0] === 1) throw quantRefusal.nonFinite(name, why[3]!, why[1]!, why[2]!);
    if (why[0] === 2) throw quantRefusal.scaleRange(name, why[3]!, why[1]!);
    return { kind, N, K, Kp, qs, d, ...(m ? { m } : {}) };
  };
}
