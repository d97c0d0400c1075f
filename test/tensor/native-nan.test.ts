/**
 * NaN propagation in every native kernel: a NaN in any input an output depends on must make that
 * output NaN, exactly where the TypeScript reference (plain IEEE arithmetic) gives NaN. The vector
 * exp once turned exp(NaN) into 0 and the vector max skipped NaN, so attention read a NaN score
 * as a masked key and returned finite, wrong embeddings. Also imported by native-avx2.test.ts and
 * native-generic.test.ts, so every ISA path this machine has is covered (vector bodies and
 * scalar tails: the NaN is placed in both).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { referenceBackend as ref } from "../../src/tensor/backend/reference.js";
import { loadNativeBackend, nativeInfo } from "../../src/tensor/backend/native.js";
import type { AttentionShape, Backend, GemmArgs } from "../../src/tensor/backend/types.js";
import { fromFloat32, type DType } from "../../src/tensor/dtype.js";
import { randn } from "../helpers/rng.js";
import { expectedKernels, isaSkipReason } from "../helpers/isa.js";

const native = loadNativeBackend().backend as Backend;
const info = nativeInfo();
const skip = isaSkipReason(info);
const tag = info ? `[${info.isa}]` : "[native missing]";

/** Same NaN positions as the reference (and at least one), finite values close. */
function sameNaNs(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let nans = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!,
      a = actual[i]!;
    if (Number.isNaN(e)) nans++;
    assert.equal(Number.isNaN(a), Number.isNaN(e), `${what}[${i}]: native ${a}, reference ${e}`);
    if (Number.isFinite(e)) assert.ok(Math.abs(a - e) <= 1e-3 * (1 + Math.abs(e)), `${what}[${i}]: native ${a}, reference ${e}`);
  }
  assert.ok(nans > 0, `${what}: the reference has no NaN, so the case tests nothing`);
}

/**
 * Looser check for the causal backward, where the two sides disagree about pairs a causal mask
 * hides: the native kernels multiply whole 64-key tiles (0·NaN = NaN for the hidden pairs inside
 * a tile, none beyond it), the reference skips some hidden pairs (dq, dk) and not others (dv).
 * So: the NaN reaches the outputs listed in `mustBeNaN`, and values finite on both sides agree.
 */
function propagates(actual: Float32Array, expected: Float32Array, what: string, mustBeNaN: number[]): void {
  for (const i of mustBeNaN) assert.ok(Number.isNaN(actual[i]!), `${what}[${i}]: native ${actual[i]}, expected NaN`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!,
      a = actual[i]!;
    if (Number.isFinite(e) && Number.isFinite(a)) assert.ok(Math.abs(a - e) <= 1e-3 * (1 + Math.abs(e)), `${what}[${i}]: native ${a}, reference ${e}`);
  }
}

function withNaN(a: Float32Array, ...at: number[]): Float32Array {
  const b = a.slice();
  for (const i of at) b[i] = NaN;
  return b;
}

test(`native kernels run the ISA asked for ${tag}`, { skip }, () => {
  const want = expectedKernels(info!);
  assert.equal(info!.gemm, want.gemm);
  assert.equal(info!.kernels, want.kernels);
});

test(`gemm: NaN in A or B reaches its row/column (small-M, packed, threaded; f32/bf16/f16) ${tag}`, { skip }, () => {
  for (const [M, N, K] of [
    [3, 37, 29], // few rows: the unpacked path
    [11, 37, 29], // the unpacked path, several row chunks
    [37, 45, 300], // packed, K over one block
    [128, 96, 400], // threaded
  ] as const)
    for (const dtype of ["f32", "bf16", "f16"] as DType[])
      for (const transB of [false, true]) {
        const A = withNaN(randn(M * K, 1), 1 * K + 5); // row 1
        const Bf = randn(K * N, 2);
        // One NaN in B's column 33 (a vector tail for N = 37), at k = 7.
        Bf[transB ? 33 * K + 7 : 7 * N + 33] = NaN;
        const B = fromFloat32(Bf, dtype);
        const mk = (C: Float32Array): GemmArgs => ({ batch: 1, M, N, K, transA: false, transB, A, lda: K, strideA: 0, B, bDtype: dtype, ldb: transB ? K : N, strideB: 0, C, ldc: N, strideC: 0, alpha: 1, beta: 0 });
        const r = new Float32Array(M * N),
          n = new Float32Array(M * N);
        ref.gemm(mk(r));
        native.gemm(mk(n));
        sameNaNs(n, r, `gemm M=${M} N=${N} K=${K} ${dtype} tB=${transB}`);
      }
});

type Grads = { dq?: number[]; dk?: number[]; dv?: number[] };
function attnNaN(s: AttentionShape, label: string, inject: { q?: number[]; k?: number[]; v?: number[]; dOut?: number[] }, causalNaN: Grads = {}): void {
  const { B, T, S, H, KVH, D } = s;
  const q = withNaN(randn(B * T * H * D, 3), ...(inject.q ?? []));
  const k = withNaN(randn(B * S * KVH * D, 4), ...(inject.k ?? []));
  const v = withNaN(randn(B * S * KVH * D, 5), ...(inject.v ?? []));
  const dOut = withNaN(randn(B * T * H * D, 6), ...(inject.dOut ?? []));
  const oR = new Float32Array(q.length),
    oN = new Float32Array(q.length);
  const lR = new Float32Array(B * H * T),
    lN = new Float32Array(B * H * T);
  ref.attentionForward(s, q, k, v, oR, lR);
  native.attentionForward(s, q, k, v, oN, lN);
  if (!inject.dOut) {
    sameNaNs(oN, oR, `${label} out`);
    if (!inject.v) sameNaNs(lN, lR, `${label} lse`);
  }
  const dq = () => new Float32Array(q.length),
    dkv = () => new Float32Array(k.length);
  const [dqR, dkR, dvR, dqN, dkN, dvN] = [dq(), dkv(), dkv(), dq(), dkv(), dkv()];
  ref.attentionBackward(s, q, k, v, oR, lR, dOut, dqR, dkR, dvR);
  native.attentionBackward(s, q, k, v, oR, lR, dOut, dqN, dkN, dvN);
  if (s.causal) {
    propagates(dqN, dqR, `${label} dq`, causalNaN.dq ?? []);
    propagates(dkN, dkR, `${label} dk`, causalNaN.dk ?? []);
    propagates(dvN, dvR, `${label} dv`, causalNaN.dv ?? []);
    return;
  }
  sameNaNs(dqN, dqR, `${label} dq`);
  sameNaNs(dkN, dkR, `${label} dk`);
  // dV = Pᵀ·dO does not read v, and for a NaN score row it is 0·… on one side, skipped on the other.
  if (!inject.q && !inject.k && !inject.v) sameNaNs(dvN, dvR, `${label} dv`);
}

test(`attention: a NaN score is not a masked key (forward and backward) ${tag}`, { skip }, () => {
  const base = { B: 2, H: 2, KVH: 1, D: 8, scale: 0.35, dropoutP: 0, seed: 1 };
  for (const causal of [false, true]) {
    const s: AttentionShape = { ...base, T: 70, S: 70, causal, keyMask: null };
    const D = 8;
    const range = (n: number, at: (j: number) => number) => Array.from({ length: n }, (_, j) => at(j));
    // q: batch 0, row 5, head 1: its gradient and the keys it sees (0..5) are NaN.
    attnNaN(s, `causal=${causal} NaN in q`, { q: [((0 * 70 + 5) * 2 + 1) * D + 3] }, {
      dq: [((0 * 70 + 5) * 2 + 1) * D],
      dk: range(6, (j) => (0 * 70 + j) * D),
    });
    // k: batch 1, key 66 (second key tile): every query row that sees it (66..69) gets NaN.
    attnNaN(s, `causal=${causal} NaN in k`, { k: [(1 * 70 + 66) * D + 2] }, {
      dq: range(4, (r) => ((1 * 70 + 66 + r) * 2 + 0) * D),
      dk: [(1 * 70 + 66) * D],
    });
    // dOut: batch 1, row 40, head 0: the keys that row sees (0..40) get NaN dv and dk.
    attnNaN(s, `causal=${causal} NaN in dOut`, { dOut: [((1 * 70 + 40) * 2 + 0) * D + 7] }, {
      dq: [((1 * 70 + 40) * 2 + 0) * D],
      dk: range(41, (j) => (1 * 70 + j) * D),
      dv: range(41, (j) => (1 * 70 + j) * D + 7), // dV = Pᵀ·dO: only the NaN column
    });
  }
  // v: non-causal and unmasked (with a causal mask the tile GEMM also multiplies the zero
  // probabilities of the rows that cannot see the key, which the reference skips).
  attnNaN({ ...base, T: 70, S: 70, causal: false, keyMask: null }, "NaN in v", { v: [(0 * 70 + 9) * 8 + 1] });
  // A key mask hides a NaN key: both sides stay finite there, and a visible NaN key still counts.
  const keyMask = new Uint8Array(2 * 20).fill(1);
  keyMask[3] = 0;
  const masked: AttentionShape = { ...base, T: 20, S: 20, causal: false, keyMask };
  attnNaN(masked, "NaN in a visible key next to a masked one", { k: [3 * 8, 4 * 8 + 1] });
});

test(`rmsnorm: NaN in x or w (forward and backward; f32 and bf16 weights) ${tag}`, { skip }, () => {
  const N = 5,
    C = 37;
  for (const wDtype of ["f32", "bf16"] as DType[])
    for (const addOne of [false, true]) {
      const x = withNaN(randn(N * C, 7), 1 * C + 3, 3 * C + 35);
      const wf = withNaN(randn(C, 8), 20);
      const w = fromFloat32(wf, wDtype);
      const run = (be: Backend) => {
        const out = new Float32Array(N * C),
          rstd = new Float32Array(N);
        be.rmsnormForward(x, w, wDtype, addOne, 1e-5, N, C, out, rstd);
        return { out, rstd };
      };
      const r = run(ref),
        n = run(native);
      sameNaNs(n.out, r.out, `rmsnorm out ${wDtype} addOne=${addOne}`);
      sameNaNs(n.rstd, r.rstd, `rmsnorm rstd ${wDtype}`);
      const dOut = withNaN(randn(N * C, 9), 4 * C + 1);
      const xFin = randn(N * C, 7);
      const bw = (be: Backend) => {
        const dx = new Float32Array(N * C),
          dw = new Float32Array(C);
        be.rmsnormBackward(xFin, w, wDtype, addOne, r.rstd.map((v) => (Number.isNaN(v) ? 1 : v)), dOut, N, C, dx, dw);
        return { dx, dw };
      };
      const rb = bw(ref),
        nb = bw(native);
      sameNaNs(nb.dx, rb.dx, `rmsnorm dx ${wDtype}`);
      sameNaNs(nb.dw, rb.dw, `rmsnorm dw ${wDtype}`);
    }
});

test(`rope: NaN in x stays in its pair ${tag}`, { skip }, () => {
  const N = 3,
    H = 2,
    D = 16,
    P = 4;
  const x = withNaN(randn(N * H * D, 10), 1 * H * D + D + 2);
  const cos = randn(P * (D / 2), 11),
    sin = randn(P * (D / 2), 12);
  const pos = new Int32Array([0, 3, 1]);
  for (const inverse of [false, true]) {
    const r = new Float32Array(x.length),
      n = new Float32Array(x.length);
    ref.rope(x, pos, cos, sin, N, H, D, inverse, r);
    native.rope(x, pos, cos, sin, N, H, D, inverse, n);
    sameNaNs(n, r, `rope inverse=${inverse}`);
  }
});

test(`gated activations: NaN in gate, up or dOut (SiLU, GELU-tanh) ${tag}`, { skip }, () => {
  const n = 37; // 4 vectors and a tail of 5
  for (const kind of ["silu", "gelu_tanh"] as const) {
    const gate = withNaN(randn(n, 13), 2, 34);
    const up = withNaN(randn(n, 14), 9);
    const dOut = withNaN(randn(n, 15), 17, 36);
    const fR = new Float32Array(n),
      fN = new Float32Array(n);
    ref.gatedActForward(kind, gate, up, fR);
    native.gatedActForward(kind, gate, up, fN);
    sameNaNs(fN, fR, `${kind} forward`);
    const [gR, uR, gN, uN] = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    ref.gatedActBackward(kind, gate, up, dOut, gR, uR);
    native.gatedActBackward(kind, gate, up, dOut, gN, uN);
    sameNaNs(gN, gR, `${kind} dGate`);
    sameNaNs(uN, uR, `${kind} dUp`);
  }
});

test(`cross-entropy: a NaN logit makes its row's loss, lse and gradient NaN ${tag}`, { skip }, () => {
  const N = 4,
    V = 45;
  // Row 0: NaN in the vector body; row 2: NaN in the scalar tail; row 3 ignored.
  const logits = withNaN(randn(N * V, 16), 0 * V + 3, 2 * V + 44);
  const targets = new Int32Array([1, 2, 40, -100]);
  const run = (be: Backend) => {
    const loss = new Float32Array(N),
      lse = new Float32Array(N),
      d = new Float32Array(N * V);
    be.crossEntropyForward(logits, targets, -100, N, V, loss, lse);
    be.crossEntropyBackward(logits, targets, -100, lse, new Float32Array(N).fill(0.5), N, V, d);
    return { loss, lse, d };
  };
  const r = run(ref),
    n = run(native);
  sameNaNs(n.loss, r.loss, "ce loss");
  sameNaNs(n.lse, r.lse, "ce lse");
  sameNaNs(n.d, r.d, "ce dLogits");
  assert.ok(Number.isNaN(n.loss[0]!) && Number.isNaN(n.loss[2]!) && Number.isFinite(n.loss[1]!));
});

test(`embedding and elementwise ops carry NaN ${tag}`, { skip }, () => {
  const C = 13;
  for (const dtype of ["f32", "bf16", "f16"] as DType[]) {
    const table = fromFloat32(withNaN(randn(4 * C, 17), 2 * C + 12), dtype);
    const ids = new Int32Array([2, 0, 2]);
    const r = new Float32Array(3 * C),
      n = new Float32Array(3 * C);
    ref.embeddingForward(table, dtype, ids, C, r);
    native.embeddingForward(table, dtype, ids, C, n);
    sameNaNs(n, r, `embedding ${dtype}`);
  }
  const len = 37;
  const a = withNaN(randn(len, 18), 3),
    b = withNaN(randn(len, 19), 30);
  for (const op of ["add", "mul"] as const) {
    const r = new Float32Array(len),
      n = new Float32Array(len);
    ref[op](a, b, r);
    native[op](a, b, n);
    sameNaNs(n, r, op);
  }
  const yR = randn(len, 20),
    yN = yR.slice();
  ref.axpy(0.5, a, yR);
  native.axpy(0.5, a, yN);
  sameNaNs(yN, yR, "axpy");
  const sR = new Float32Array(len),
    sN = new Float32Array(len);
  ref.scale(a, 2, sR);
  native.scale(a, 2, sN);
  sameNaNs(sN, sR, "scale");
});
