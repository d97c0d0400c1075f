/**
 * The native GEMM against the TypeScript reference: shapes, transposes, strides, beta, storage
 * dtypes, the few-row path, shared outputs, thread splits and split-K. The ISA-capped files
 * (native-generic, native-avx2, ...) import it beside native-vs-reference.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { GemmArgs } from "../../src/tensor/backend/types.js";
import type { DType } from "../../src/tensor/dtype.js";
import { close, native, randInt, randn, ref, storageOf, tag } from "../helpers/native-cases.js";

test(`gemm: shapes × transposes × strides × beta × dtypes ${tag}`, () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 33, 129],
    [33, 7, 1],
    [129, 33, 7],
    [13, 70, 400], // K spans two KC blocks (KC is 256 or 384)
    [200, 37, 19], // M spans two MC blocks
    [5, 4200, 3], // N spans two NC panels (NC ≤ 4096)
    [1, 129, 33],
    [33, 1, 129],
  ];
  let caseNo = 0;
  for (const [M, N, K] of shapes)
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        caseNo++;
        const dtype: DType = (["f32", "bf16", "f16"] as const)[caseNo % 3]!;
        const batch = caseNo % 4 === 0 ? 3 : 1;
        const pad = caseNo % 2;
        const lda = (transA ? M : K) + pad,
          ldb = (transB ? K : N) + 2 * pad,
          ldc = N + pad;
        const aSize = (transA ? K : M) * lda,
          bSize = (transB ? N : K) * ldb,
          cSize = M * ldc;
        const shareA = caseNo % 8 === 0,
          shareB = caseNo % 8 === 4;
        const strideA = batch > 1 && !shareA ? aSize : 0;
        const strideB = batch > 1 && !shareB ? bSize + 5 : 0;
        const A = randn(Math.max(1, strideA * (batch - 1) + aSize));
        const B = storageOf(randn(Math.max(1, strideB * (batch - 1) + bSize)), dtype);
        for (const [alpha, beta] of [
          [1, 0],
          [0.5, 1],
          [-1.25, 0.75],
        ] as const) {
          const C0 = randn(batch * cSize);
          if (beta === 0) for (let i = 0; i < C0.length; i += 3) C0[i] = NaN; // beta 0 ignores NaN
          const args = (C: Float32Array): GemmArgs => ({ batch, M, N, K, transA, transB, A, lda, strideA, B, bDtype: dtype, ldb, strideB, C, ldc, strideC: cSize, alpha, beta });
          const cRef = C0.slice(),
            cNat = C0.slice();
          ref.gemm(args(cRef));
          native.gemm(args(cNat));
          // Padding columns (j ≥ N) are never written by either side.
          close(cNat, cRef, `gemm M=${M} N=${N} K=${K} tA=${transA} tB=${transB} ${dtype} batch=${batch} alpha=${alpha} beta=${beta}`);
        }
      }
});

test(`gemm: few rows (M ≤ 16, the unpacked streaming path): every M, ragged N, odd K ${tag}`, () => {
  // M 1..16 covers every register-tile height and one or several row chunks; N not a multiple of
  // the column tile, vector width (8/16) or thread chunk; K not a multiple of the lane count.
  let caseNo = 0;
  for (let M = 1; M <= 16; M++)
    for (const [N, K] of [
      [37, 33],
      [70, 1],
      [19, 129],
      [300, 47], // past one thread chunk when several threads split the columns
    ] as const) {
      caseNo++;
      const transA = caseNo % 3 === 0,
        transB = caseNo % 2 === 0;
      const dtype: DType = (["f32", "bf16", "f16"] as const)[caseNo % 3]!;
      const [alpha, beta] = ([[1, 0], [0.5, 1], [-1.25, 0.75]] as const)[(caseNo >> 1) % 3]!;
      const pad = caseNo % 2;
      const lda = (transA ? M : K) + pad,
        ldb = (transB ? K : N) + 2 * pad,
        ldc = N + pad;
      const A = randn((transA ? K : M) * lda);
      const B = storageOf(randn((transB ? N : K) * ldb), dtype);
      const C0 = randn(M * ldc);
      if (beta === 0) for (let i = 0; i < C0.length; i += 3) C0[i] = NaN; // beta 0 ignores NaN
      const args = (C: Float32Array): GemmArgs => ({ batch: 1, M, N, K, transA, transB, A, lda, strideA: 0, B, bDtype: dtype, ldb, strideB: 0, C, ldc, strideC: 0, alpha, beta });
      const cRef = C0.slice(),
        cNat = C0.slice();
      ref.gemm(args(cRef));
      native.gemm(args(cNat));
      close(cNat, cRef, `gemm M=${M} N=${N} K=${K} tA=${transA} tB=${transB} ${dtype} alpha=${alpha} beta=${beta}`);
      // Padding columns (j ≥ N) are never written.
      for (let m = 0; m < M; m++) for (let j = N; j < ldc; j++) assert.ok(Object.is(cNat[m * ldc + j], C0[m * ldc + j]), `M=${M} N=${N}: padding C[${m},${j}] written`);
    }
});

test(`gemm: shared output (strideC 0) accumulates over the batch; K = 0 ${tag}`, () => {
  const M = 100,
    N = 120,
    K = 150,
    batch = 4; // large enough to be split across threads
  const A = randn(batch * M * K),
    B = randn(batch * K * N);
  const C0 = randn(M * N);
  const mk = (C: Float32Array): GemmArgs => ({ batch, M, N, K, transA: true, transB: false, A, lda: M, strideA: M * K, B, bDtype: "f32", ldb: N, strideB: K * N, C, ldc: N, strideC: 0, alpha: 1, beta: 1 });
  const r = C0.slice(),
    n = C0.slice();
  ref.gemm(mk(r));
  native.gemm(mk(n));
  close(n, r, "gemm strideC=0");
  for (const beta of [0, 2]) {
    const z = (C: Float32Array): GemmArgs => ({ batch: 1, M: 3, N: 4, K: 0, transA: false, transB: false, A: new Float32Array(0), lda: 1, strideA: 0, B: new Float32Array(0), bDtype: "f32", ldb: 4, strideB: 0, C, ldc: 4, strideC: 0, alpha: 1, beta });
    const c = randn(12);
    c[0] = NaN;
    const r2 = c.slice(),
      n2 = c.slice();
    ref.gemm(z(r2));
    native.gemm(z(n2));
    if (beta === 0) assert.deepEqual(Array.from(n2), new Array(12).fill(0));
    close(n2, r2, `gemm K=0 beta=${beta}`);
  }
});

test(`gemm: larger products split across threads ${tag}`, () => {
  const M = 128,
    N = 96,
    K = 400; // 9.8 MFLOP: above the threading threshold
  for (const [transA, transB] of [
    [false, false],
    [true, false],
    [false, true],
  ] as const) {
    const A = randn(M * K),
      B = randn(K * N);
    const mk = (C: Float32Array): GemmArgs => ({ batch: 1, M, N, K, transA, transB, A, lda: transA ? M : K, strideA: 0, B, bDtype: "f32", ldb: transB ? K : N, strideB: 0, C, ldc: N, strideC: 0, alpha: 1, beta: 0 });
    const r = new Float32Array(M * N),
      n = new Float32Array(M * N);
    ref.gemm(mk(r));
    native.gemm(mk(n));
    close(n, r, `gemm big tA=${transA} tB=${transB}`);
  }
  // Threaded with ragged edges everywhere, N past one NC panel, K past one KC block, 16-bit B,
  // and a batch of 2 (split inside each product rather than across the batch).
  for (const [M, N, K, dtype, batch] of [
    [9, 4200, 300, "f16", 1],
    [131, 77, 517, "bf16", 2],
    [3, 2100, 700, "bf16", 2], // few rows: the unpacked path, split over N
  ] as const) {
    const A = randn(batch * M * K),
      B = storageOf(randn(batch * K * N), dtype);
    const mk = (C: Float32Array): GemmArgs => ({ batch, M, N, K, transA: false, transB: true, A, lda: K, strideA: M * K, B, bDtype: dtype, ldb: K, strideB: K * N, C, ldc: N, strideC: M * N, alpha: 0.5, beta: 1 });
    const c0 = randn(batch * M * N);
    const r = c0.slice(),
      n = c0.slice();
    ref.gemm(mk(r));
    native.gemm(mk(n));
    close(n, r, `gemm threaded ragged M=${M} N=${N} K=${K} ${dtype}`);
  }
});

test(`gemm: small outputs over a long K (split into K slices) ${tag}`, () => {
  // LoRA weight gradients: a 16×64 output summed over 8192 token rows, both operands transposed
  // the way the backward passes them; odd K past a slice edge; 16-bit B; a shared output.
  for (const [M, N, K, transA, transB, dtype, batch, strideC0] of [
    [16, 64, 8192, true, false, "f32", 1, false],
    [5, 7, 4097, false, true, "bf16", 1, false],
    [3, 9, 6001, true, true, "f16", 2, false],
    [4, 6, 4500, true, false, "f32", 3, true],
  ] as const) {
    const lda = transA ? M : K,
      ldb = transB ? K : N;
    const A = randn(batch * M * K),
      B = storageOf(randn(batch * K * N), dtype);
    for (const [alpha, beta] of [
      [1, 0],
      [0.5, 1],
    ] as const) {
      const cSize = M * N;
      const C0 = randn(strideC0 ? cSize : batch * cSize);
      if (beta === 0) C0[1] = NaN;
      const mk = (C: Float32Array): GemmArgs => ({ batch, M, N, K, transA, transB, A, lda, strideA: M * K, B, bDtype: dtype, ldb, strideB: K * N, C, ldc: N, strideC: strideC0 ? 0 : cSize, alpha, beta });
      const r = C0.slice(),
        n = C0.slice();
      ref.gemm(mk(r));
      native.gemm(mk(n));
      close(n, r, `gemm split-K M=${M} N=${N} K=${K} tA=${transA} tB=${transB} ${dtype} batch=${batch} strideC0=${strideC0} beta=${beta}`);
    }
  }
});
