/** The native GEMM binding: shape and bounds checks, then one call into the addon. */
import type { Storage } from "../dtype.js";
import { counts, DTYPE_CODE, f32, fmt, KernelArgError, span, storage } from "./native-args.js";
import type { ComputeDtype, GemmArgs } from "./types.js";

export type AddonGemm = (A: Float32Array, B: Storage, C: Float32Array, params: Float64Array) => void;

function computeCode(c: ComputeDtype | undefined): number {
  if (c === undefined || c === "f32") return 0;
  if (c === "bf16") return 1;
  throw new KernelArgError("gemm", `unknown compute dtype ${String(c)}`);
}

export function gemmBinding(addon: { gemm: AddonGemm }): (g: GemmArgs) => void {
  // A reused parameter block (kernels are synchronous, so no call can observe another's block).
  const gp = new Float64Array(16);
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
    addon.gemm(A, B, C, gp);
  };
}
