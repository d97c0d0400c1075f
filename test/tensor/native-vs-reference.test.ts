/**
 * Every native kernel against the TypeScript reference on random (often odd) shapes.
 * Also imported by native-generic.test.ts, which runs the same cases on the portable kernels.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { referenceBackend } from "../../src/tensor/backend/reference.js";
import { loadNativeBackend, nativeInfo } from "../../src/tensor/backend/native.js";
import type { AttentionShape, Backend, GemmArgs } from "../../src/tensor/backend/types.js";
import { fromFloat32, type DType } from "../../src/tensor/dtype.js";
import { rng } from "../helpers/rng.js";
import { expectedKernels, isaSkipReason } from "../helpers/isa.js";

const loaded = loadNativeBackend();
const native = loaded.backend as Backend;
const info = nativeInfo();
const tag = info ? `[${info.isa}, ${info.threads} threads]` : "[native missing]";
const ref = referenceBackend;

const rand = rng(12345);
function randn(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}
function randInt(lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo));
}

/**
 * |a − e| ≤ rtol·(|e| + rms(e)) + atol elementwise; NaN/±inf must match exactly. The inputs are
 * O(1), so the small absolute term only matters where the exact result is 0 and the float64
 * reference is left with rounding noise (e.g. the gradient through a one-key softmax).
 */
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let ss = 0,
    cnt = 0;
  for (let i = 0; i < expected.length; i++)
    if (Number.isFinite(expected[i]!)) {
      ss += expected[i]! ** 2;
      cnt++;
    }
  const rms = cnt ? Math.sqrt(ss / cnt) : 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!,
      e = expected[i]!;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      assert.ok(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const tol = rtol * (Math.abs(e) + rms) + atol;
    if (Math.abs(a - e) > tol) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
  }
}

function storageOf(data: Float32Array, dtype: DType) {
  return fromFloat32(data, dtype);
}

test(`native backend loads ${tag}`, () => {
  assert.ok(loaded.backend, `native backend failed to load: ${loaded.error}`);
  assert.equal(native.name, "native");
});

test(`the kernels picked are the ones the ISA cap and the CPU allow ${tag}`, { skip: isaSkipReason(info) }, () => {
  const want = expectedKernels(info!);
  assert.equal(info!.gemm, want.gemm, `GEMM kernel under LLM2VEC_NATIVE_ISA=${process.env.LLM2VEC_NATIVE_ISA ?? "(unset)"}`);
  assert.ok(want.gemmBf16.includes(info!.gemmBf16), `bf16-compute GEMM kernel ${info!.gemmBf16} (${info!.gemmBf16Why}) under LLM2VEC_NATIVE_ISA=${process.env.LLM2VEC_NATIVE_ISA ?? "(unset)"}: expected one of ${want.gemmBf16.join(", ")}`);
  if (want.gemmBf16.length > 1) assert.match(info!.gemmBf16Why, /^timed: avx512bf16 micro-kernel \d+ GFLOP\/s vs \w+ \d+ GFLOP\/s$/);
  assert.equal(info!.kernels, want.kernels, `non-GEMM kernels under LLM2VEC_NATIVE_ISA=${process.env.LLM2VEC_NATIVE_ISA ?? "(unset)"}`);
  // On an AVX2 machine the AVX2 file must really run AVX2 (and the generic file the portable code).
  if (process.env.LLM2VEC_NATIVE_ISA === "avx2") assert.equal(info!.gemm, "avx2");
  if (process.env.LLM2VEC_NATIVE_ISA === "generic") assert.equal(info!.gemm, "generic");
});

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

function attnCase(s: AttentionShape, label: string): void {
  const { B, T, S, H, KVH, D } = s;
  const q = randn(B * T * H * D),
    k = randn(B * S * KVH * D),
    v = randn(B * S * KVH * D),
    dOut = randn(B * T * H * D);
  const oR = new Float32Array(q.length),
    oN = new Float32Array(q.length).fill(NaN);
  const lR = new Float32Array(B * H * T),
    lN = new Float32Array(B * H * T).fill(NaN);
  ref.attentionForward(s, q, k, v, oR, lR);
  native.attentionForward(s, q, k, v, oN, lN);
  close(oN, oR, `${label} out`);
  close(lN, lR, `${label} lse`);
  const mk = () => [new Float32Array(q.length).fill(NaN), new Float32Array(k.length).fill(NaN), new Float32Array(k.length).fill(NaN)] as const;
  const [dqR, dkR, dvR] = mk();
  const [dqN, dkN, dvN] = mk();
  ref.attentionBackward(s, q, k, v, oR, lR, dOut, dqR, dkR, dvR);
  native.attentionBackward(s, q, k, v, oR, lR, dOut, dqN, dkN, dvN);
  close(dqN, dqR, `${label} dq`, 2e-4);
  close(dkN, dkR, `${label} dk`, 2e-4);
  close(dvN, dvR, `${label} dv`, 2e-4);
}

test(`attention forward/backward: causal, bidirectional, GQA, masks, dropout ${tag}`, () => {
  const base = { keyMask: null, dropoutP: 0, seed: 0 };
  const cases: [string, Omit<AttentionShape, "scale">][] = [
    ["causal GQA", { ...base, B: 2, T: 7, S: 7, H: 4, KVH: 2, D: 8, causal: true }],
    ["causal S>T", { ...base, B: 1, T: 5, S: 9, H: 2, KVH: 1, D: 16, causal: true }],
    ["causal S<T (empty rows)", { ...base, B: 2, T: 9, S: 5, H: 2, KVH: 2, D: 3, causal: true }],
    ["bidirectional 1×1", { ...base, B: 1, T: 1, S: 1, H: 1, KVH: 1, D: 1, causal: false }],
    ["bidirectional multi-block", { ...base, B: 2, T: 33, S: 70, H: 3, KVH: 1, D: 33, causal: false }],
    ["causal long", { ...base, B: 1, T: 129, S: 129, H: 2, KVH: 1, D: 64, causal: true }],
    // B·KVH ≥ 4·threads: the one-pass backward (P and dS shared by dK, dV and dQ).
    ["one-pass causal GQA multi-block", { ...base, B: 8, T: 70, S: 70, H: 8, KVH: 4, D: 8, causal: true }],
    ["one-pass bidirectional S>T", { ...base, B: 16, T: 33, S: 70, H: 2, KVH: 2, D: 5, causal: false }],
    ["one-pass causal S<T dropout", { ...base, B: 16, T: 9, S: 5, H: 4, KVH: 2, D: 3, causal: true, dropoutP: 0.25, seed: 9 }],
  ];
  for (const [label, c] of cases) attnCase({ ...c, scale: 1 / Math.sqrt(c.D) }, label);

  // Key padding masks, including a fully masked batch row and a masked first key.
  for (const causal of [false, true]) {
    const B = 3,
      T = 6,
      S = 11;
    const keyMask = new Uint8Array(B * S).fill(1);
    for (let j = 0; j < S; j++) keyMask[1 * S + j] = 0; // batch 1: no real key at all
    keyMask[2 * S + 0] = 0; // batch 2: first key is padding (causal row 0 sees nothing)
    for (let j = 8; j < S; j++) keyMask[0 * S + j] = 0; // batch 0: right padding
    attnCase({ B, T, S, H: 4, KVH: 2, D: 12, causal, keyMask, scale: 0.3, dropoutP: 0, seed: 0 }, `mask causal=${causal}`);
    const wide = new Uint8Array(8 * B * S);
    for (let r = 0; r < 8; r++) wide.set(keyMask, r * B * S);
    attnCase({ B: 8 * B, T, S, H: 4, KVH: 2, D: 12, causal, keyMask: wide, scale: 0.3, dropoutP: 0, seed: 0 }, `one-pass mask causal=${causal}`);
  }
  // Dropout: the native mask must equal dropoutKeep's bit for bit (any flip shows in out/dq).
  for (const seed of [1, 42, 0xdeadbeef, 2 ** 31 + 7])
    for (const causal of [false, true])
      attnCase({ B: 2, T: 17, S: 23, H: 2, KVH: 1, D: 8, causal, keyMask: null, scale: 0.35, dropoutP: 0.3, seed }, `dropout seed=${seed} causal=${causal}`);
  // p = 0.5 sits exactly on a hash bucket boundary; a long row exercises the vectorised hash.
  attnCase({ B: 1, T: 9, S: 150, H: 2, KVH: 2, D: 16, causal: false, keyMask: null, scale: 0.25, dropoutP: 0.5, seed: 7 }, "dropout p=0.5");
  attnCase({ B: 2, T: 70, S: 70, H: 4, KVH: 2, D: 32, causal: true, keyMask: null, scale: 0.2, dropoutP: 0.1, seed: 99 }, "dropout threaded");
  // The panel forward's edges (attention_panel.h, up to 512 keys): two query blocks with a head
  // dim that leaves a vector tail, the longest panel row and one past it (the flash path), causal
  // over S > T with padding, dropout on a panel row.
  const pm = new Uint8Array(2 * 300).fill(1);
  for (let j = 0; j < 300; j += 7) pm[j] = 0;
  for (let j = 250; j < 300; j++) pm[300 + j] = 0;
  const panel: [string, AttentionShape][] = [
    ["panel two query blocks D=80", { B: 1, T: 130, S: 130, H: 2, KVH: 1, D: 80, causal: true, keyMask: null, scale: 0.1, dropoutP: 0, seed: 0 }],
    ["panel S=512", { B: 1, T: 3, S: 512, H: 2, KVH: 2, D: 16, causal: false, keyMask: null, scale: 0.25, dropoutP: 0, seed: 0 }],
    ["flash S=513", { B: 1, T: 3, S: 513, H: 2, KVH: 2, D: 16, causal: false, keyMask: null, scale: 0.25, dropoutP: 0, seed: 0 }],
    ["panel causal S>T masked", { B: 2, T: 5, S: 300, H: 4, KVH: 2, D: 24, causal: true, keyMask: pm, scale: 0.2, dropoutP: 0, seed: 0 }],
    ["panel dropout D=64", { B: 2, T: 40, S: 40, H: 2, KVH: 2, D: 64, causal: false, keyMask: null, scale: 0.125, dropoutP: 0.2, seed: 5 }],
  ];
  for (const [label, c] of panel) attnCase(c, label);
});

test(`attention forward over strided K/V (a KV cache; padding never read) ${tag}`, () => {
  for (const [S, stride, D, T] of [
    [7, 16, 8, 3],
    [200, 256, 64, 1],
    [600, 640, 32, 2],
  ] as const) {
    const [B, H, KVH] = [2, 4, 2];
    const s: AttentionShape = { B, T, S, H, KVH, D, causal: true, keyMask: null, scale: 0.2, dropoutP: 0, seed: 0, kvStride: stride };
    const q = randn(B * T * H * D);
    const k = randn(B * stride * KVH * D),
      v = randn(B * stride * KVH * D);
    for (let b = 0; b < B; b++)
      for (let j = S; j < stride; j++)
        for (let x = 0; x < KVH * D; x++) k[(b * stride + j) * KVH * D + x] = v[(b * stride + j) * KVH * D + x] = NaN;
    const oR = new Float32Array(q.length),
      oN = new Float32Array(q.length).fill(NaN);
    const lR = new Float32Array(B * H * T),
      lN = new Float32Array(B * H * T).fill(NaN);
    ref.attentionForward(s, q, k, v, oR, lR);
    native.attentionForward(s, q, k, v, oN, lN);
    close(oN, oR, `strided S=${S} stride=${stride} out`);
    close(lN, lR, `strided S=${S} stride=${stride} lse`);
  }
});

test(`rmsnorm forward/backward: f32/bf16/f16 weights, (1+w) ${tag}`, () => {
  for (const [N, C] of [
    [1, 1],
    [7, 33],
    [64, 520],
  ] as const)
    for (const dtype of ["f32", "bf16", "f16"] as const)
      for (const addOne of [false, true]) {
        const x = randn(N * C, 2),
          w = storageOf(randn(C), dtype),
          dOut = randn(N * C);
        const oR = new Float32Array(N * C),
          oN = new Float32Array(N * C),
          rR = new Float32Array(N),
          rN = new Float32Array(N);
        ref.rmsnormForward(x, w, dtype, addOne, 1e-6, N, C, oR, rR);
        native.rmsnormForward(x, w, dtype, addOne, 1e-6, N, C, oN, rN);
        const label = `rmsnorm N=${N} C=${C} ${dtype} addOne=${addOne}`;
        close(oN, oR, `${label} out`);
        close(rN, rR, `${label} rstd`);
        const dw0 = randn(C);
        const dxR = new Float32Array(N * C),
          dxN = new Float32Array(N * C).fill(NaN),
          dwR = dw0.slice(),
          dwN = dw0.slice();
        ref.rmsnormBackward(x, w, dtype, addOne, rR, dOut, N, C, dxR, dwR);
        native.rmsnormBackward(x, w, dtype, addOne, rR, dOut, N, C, dxN, dwN);
        close(dxN, dxR, `${label} dx`, 2e-4);
        close(dwN, dwR, `${label} dw`, 2e-4);
        const dx2 = new Float32Array(N * C);
        native.rmsnormBackward(x, w, dtype, addOne, rR, dOut, N, C, dx2, null);
        close(dx2, dxR, `${label} dx (no dw)`, 2e-4);
      }
});

test(`rope forward/inverse, in place ${tag}`, () => {
  for (const [N, H, D] of [
    [5, 3, 8],
    [300, 2, 64],
    [3, 1, 2],
  ] as const) {
    const P = 40,
      half = D / 2;
    const cos = new Float32Array(P * half),
      sin = new Float32Array(P * half);
    for (let p = 0; p < P; p++)
      for (let i = 0; i < half; i++) {
        const th = p / 10000 ** ((2 * i) / D);
        cos[p * half + i] = Math.cos(th);
        sin[p * half + i] = Math.sin(th);
      }
    const positions = new Int32Array(N).map(() => randInt(0, P));
    const x = randn(N * H * D);
    for (const inverse of [false, true]) {
      const r = new Float32Array(x.length),
        n = new Float32Array(x.length);
      ref.rope(x, positions, cos, sin, N, H, D, inverse, r);
      native.rope(x, positions, cos, sin, N, H, D, inverse, n);
      close(n, r, `rope N=${N} H=${H} D=${D} inverse=${inverse}`);
      const inplace = x.slice();
      native.rope(inplace, positions, cos, sin, N, H, D, inverse, inplace);
      close(inplace, r, `rope in place N=${N}`);
    }
  }
});

test(`gated activations silu / gelu_tanh forward/backward ${tag}`, () => {
  for (const n of [1, 7, 1000, 100003])
    for (const kind of ["silu", "gelu_tanh"] as const) {
      const gate = randn(n, 6),
        up = randn(n),
        dOut = randn(n);
      if (n > 10) {
        gate[0] = 30;
        gate[1] = -30;
        gate[2] = 0;
        gate[3] = -100;
      }
      const oR = new Float32Array(n),
        oN = new Float32Array(n);
      ref.gatedActForward(kind, gate, up, oR);
      native.gatedActForward(kind, gate, up, oN);
      close(oN, oR, `${kind} fwd n=${n}`);
      const gR = new Float32Array(n),
        uR = new Float32Array(n),
        gN = new Float32Array(n),
        uN = new Float32Array(n);
      ref.gatedActBackward(kind, gate, up, dOut, gR, uR);
      native.gatedActBackward(kind, gate, up, dOut, gN, uN);
      close(gN, gR, `${kind} dGate n=${n}`);
      close(uN, uR, `${kind} dUp n=${n}`);
    }
});

test(`cross-entropy forward/backward with ignore index ${tag}`, () => {
  for (const [N, V] of [
    [1, 1],
    [7, 33],
    [64, 1000],
    [3, 5003],
  ] as const) {
    const ignore = -100;
    const logits = randn(N * V, 8);
    const targets = new Int32Array(N).map((_, r) => (r % 3 === 1 ? ignore : randInt(0, V)));
    const rowScale = randn(N).map((x) => Math.abs(x) + 0.1);
    const lR = new Float32Array(N),
      lN = new Float32Array(N),
      sR = new Float32Array(N),
      sN = new Float32Array(N);
    ref.crossEntropyForward(logits, targets, ignore, N, V, lR, sR);
    native.crossEntropyForward(logits, targets, ignore, N, V, lN, sN);
    close(lN, lR, `ce loss N=${N} V=${V}`);
    close(sN, sR, `ce lse N=${N} V=${V}`);
    const dR = new Float32Array(N * V),
      dN = new Float32Array(N * V).fill(NaN);
    ref.crossEntropyBackward(logits, targets, ignore, sR, rowScale, N, V, dR);
    native.crossEntropyBackward(logits, targets, ignore, sR, rowScale, N, V, dN);
    close(dN, dR, `ce dLogits N=${N} V=${V}`);
  }
});

test(`embedding gather from f32/bf16/f16 tables (exact) ${tag}`, () => {
  const rows = 50,
    C = 33;
  const base = randn(rows * C, 3);
  base[0] = 1e-6; // f16 subnormal
  base[1] = 70000; // f16 overflow → inf
  base[2] = -0;
  for (const dtype of ["f32", "bf16", "f16"] as const) {
    const table = storageOf(base, dtype);
    const ids = new Int32Array(77).map(() => randInt(0, rows));
    ids[0] = 0;
    const r = new Float32Array(ids.length * C),
      n = new Float32Array(ids.length * C);
    ref.embeddingForward(table, dtype, ids, C, r);
    native.embeddingForward(table, dtype, ids, C, n);
    assert.deepEqual(n, r, `embedding ${dtype}`);
  }
});

test(`elementwise add/mul/axpy/scale ${tag}`, () => {
  for (const n of [0, 1, 1000, 300001]) {
    const a = randn(n),
      b = randn(n);
    for (const op of ["add", "mul"] as const) {
      const r = new Float32Array(n),
        o = new Float32Array(n);
      ref[op](a, b, r);
      native[op](a, b, o);
      close(o, r, `${op} n=${n}`, 1e-6);
    }
    const yR = b.slice(),
      yN = b.slice();
    ref.axpy(-0.75, a, yR);
    native.axpy(-0.75, a, yN);
    close(yN, yR, `axpy n=${n}`, 1e-6);
    const sR = new Float32Array(n),
      sN = new Float32Array(n);
    ref.scale(a, 1.5, sR);
    native.scale(a, 1.5, sN);
    close(sN, sR, `scale n=${n}`, 1e-6);
  }
});

test(`dropout: the same mask as the TypeScript hash, in place too ${tag}`, () => {
  for (const n of [0, 1, 1000, 300001])
    for (const [p, seed] of [[0.05, 1], [0.3, 0xdeadbeef], [0.9, 7]] as const) {
      const x = randn(n);
      const r = new Float32Array(n),
        o = new Float32Array(n);
      ref.dropout(x, r, p, seed);
      native.dropout(x, o, p, seed);
      assert.deepEqual(Array.from(o), Array.from(r), `dropout n=${n} p=${p}`);
      const inPlace = x.slice();
      native.dropout(inPlace, inPlace, p, seed);
      assert.deepEqual(Array.from(inPlace), Array.from(r), `dropout in place n=${n} p=${p}`);
      if (n > 1000) {
        const kept = r.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0) / n;
        assert.ok(Math.abs(kept - (1 - p)) < 0.01, `kept ${kept} for p ${p}`);
      }
    }
  assert.throws(() => native.dropout(new Float32Array(4), new Float32Array(4), 1, 0), /dropout: probability 1/);
});

test(`bad arguments throw an Error naming the kernel, never crash ${tag}`, () => {
  const g: GemmArgs = { batch: 1, M: 4, N: 4, K: 4, transA: false, transB: false, A: new Float32Array(15), lda: 4, strideA: 0, B: new Float32Array(16), bDtype: "f32", ldb: 4, strideB: 0, C: new Float32Array(16), ldc: 4, strideC: 0, alpha: 1, beta: 0 };
  assert.throws(() => native.gemm(g), /gemm.*A has 15 elements, needs 16/);
  assert.throws(() => native.gemm({ ...g, A: new Float32Array(16), B: new Float32Array(16), bDtype: "bf16" }), /gemm.*Uint16Array/);
  assert.throws(() => native.gemm({ ...g, A: new Float32Array(16), lda: 3 }), /gemm.*lda/);
  assert.throws(() => native.gemm({ ...g, A: new Float32Array(16), batch: 2, strideC: 16 }), /gemm/);
  const s: AttentionShape = { B: 1, T: 2, S: 2, H: 3, KVH: 2, D: 4, causal: true, keyMask: null, scale: 1, dropoutP: 0, seed: 0 };
  assert.throws(() => native.attentionForward(s, new Float32Array(24), new Float32Array(16), new Float32Array(16), new Float32Array(24), new Float32Array(6)), /attentionForward.*KVH/);
  assert.throws(
    () => native.attentionForward({ ...s, H: 2 }, new Float32Array(16), new Float32Array(15), new Float32Array(16), new Float32Array(16), new Float32Array(4)),
    /attentionForward: k has 15/,
  );
  assert.throws(() => native.crossEntropyForward(new Float32Array(6), new Int32Array([0, 3]), -100, 2, 3, new Float32Array(2), new Float32Array(2)), /crossEntropyForward.*targets\[1\] = 3/);
  assert.throws(() => native.embeddingForward(new Float32Array(6), "f32", new Int32Array([2]), 3, new Float32Array(3)), /embeddingForward.*ids\[0\] = 2/);
  assert.throws(() => native.rope(new Float32Array(4), new Int32Array([5]), new Float32Array(4), new Float32Array(4), 1, 1, 4, false, new Float32Array(4)), /rope.*positions\[0\] = 5/);
  assert.throws(() => native.rmsnormForward(new Float32Array(6), new Float32Array(2), "f32", false, 1e-6, 2, 3, new Float32Array(6), new Float32Array(2)), /rmsnormForward.*w has 2/);
  assert.throws(() => native.add(new Float32Array(3), new Float32Array(4), new Float32Array(4)), /add.*a has 3/);
});
