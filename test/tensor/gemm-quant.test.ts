/**
 * Products with block-quantized weights (Backend.gemmQ) on the kernel the ISA cap picks (imported
 * again by the capped native-*.test.ts files, so every path this CPU has runs), against the
 * reference backend: the integer part exactly (unit scales and integer activations make the
 * whole product an integer), and with real scales against the reference's integer form and its
 * dequantize-then-f32 product within f32 tolerance. Odd shapes (rows 1, 15, 17, 33; K not a
 * multiple of the block, which is zero-padded), alpha/beta, NaN, bad arrays; quantization refuses
 * non-finite weights naming the tensor; a quantized weight is read only as x·Wᵀ.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadNativeBackend, nativeInfo } from "../../src/tensor/backend/native.js";
import { referenceBackend } from "../../src/tensor/backend/reference.js";
import type { Backend, QuantKind, QuantWeight } from "../../src/tensor/backend/types.js";
import { f32ToF16, fromFloat32 } from "../../src/tensor/dtype.js";
import { dequantizeWeight, QBLOCK, quantizeRows, quantizeWeight } from "../../src/tensor/quant.js";
import { linear, matmul } from "../../src/tensor/ops/index.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { backward } from "../../src/tensor/autograd.js";
import { rng, randn } from "../helpers/rng.js";

const native = loadNativeBackend().backend as Backend | null;
const info = nativeInfo();
const tag = info ? `[quant on ${info.quant ?? "?"}]` : "[native missing]";
const skip = native && info?.quant ? undefined : "native addon not built (or without gemmQ)";
const ROWS = [1, 15, 17, 33];
const KINDS: QuantKind[] = ["q8_0", "q4_0", "q4_1"];

test(`the quantized dot kernel is the one the ISA cap and the CPU allow ${tag}`, { skip }, () => {
  const cap = process.env.LLM2VEC_NATIVE_ISA;
  assert.equal(info!.quant, cap !== "generic" && info!.cpu.avx2 ? "avx2" : "generic");
});

/**
 * A weight with unit scales and random integers in the kind's range (q4_1: the same values as
 * q4_0, stored as q+8 with a block minimum of −8).
 */
function unitWeight(kind: QuantKind, N: number, K: number, seed: number): QuantWeight {
  const Kp = Math.ceil(K / QBLOCK) * QBLOCK;
  const r = rng(seed);
  const vals = Array.from({ length: N * Kp }, (_, i) => (i % Kp >= K ? 0 : kind === "q8_0" ? Math.floor(r() * 255) - 127 : Math.floor(r() * 16) - 8));
  const d = new Uint16Array((N * Kp) / QBLOCK).fill(f32ToF16(1));
  if (kind === "q8_0") return { kind, N, K, Kp, qs: Int8Array.from(vals), d };
  const qs = new Uint8Array((N * Kp) / 2);
  for (let i = 0; i < N * Kp; i += QBLOCK)
    for (let j = 0; j < 16; j++) qs[i / 2 + j] = (vals[i + j]! + 8) | ((vals[i + j + 16]! + 8) << 4);
  return { kind, N, K, Kp, qs, d, ...(kind === "q4_1" ? { m: new Uint16Array(d.length).fill(f32ToF16(-8)) } : {}) };
}

for (const kind of KINDS)
  test(`${kind}: the integer part is exact on odd shapes ${tag}`, { skip }, () => {
    // Rows 1, 15, 17, 33 and columns 1, 7, 33, 5 leave every remainder of the kernel's 4×2 register
    // tile; [67, 67] crosses the driver's 64-row tiles and [3, 37] its 16-row few-row tiles.
    for (const [M, N, K] of [...ROWS.flatMap((M) => [[M, 1, 32], [M, 7, 40], [M, 33, 100], [M, 5, 64]]), [67, 67, 100], [3, 37, 64], [66, 130, 32]] as const) {
        const W = unitWeight(kind, N, K, M * 1000 + N + K);
        // Integer activations with 127 in every block: the activation scale is exactly 1.
        const r = rng(M + K);
        const A = Float32Array.from({ length: M * K }, (_, i) => (i % K) % QBLOCK === 0 ? 127 : Math.floor(r() * 255) - 127);
        const want = new Float32Array(M * N);
        const Wd = dequantizeWeight(W); // integers: unit scales, q4_1's minimum −8
        for (let m = 0; m < M; m++)
          for (let n = 0; n < N; n++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += A[m * K + k]! * Wd[n * K + k]!;
            want[m * N + n] = s;
          }
        for (const be of [referenceBackend, native!]) {
          const C = new Float32Array(M * N).fill(NaN);
          be.gemmQ({ M, A, W, C, alpha: 1, beta: 0 });
          assert.deepEqual(C, want, `${be.name} ${kind} M=${M} N=${N} K=${K}`);
        }
      }
  });

// One-hot weight rows with unit scales read back each quantized activation (C[m,n] = s·q of
// element n), so the kernel's activation quantization must round exactly as quantizeRows does:
// ties (k + ½ against a scale of exactly 1) go away from zero, 0.49999997 goes to 0. (q4_1
// shares this quantization; its minimum term rounds in f32, so it is checked with tolerance below.)
test(`activation quantization rounds exactly as the reference (ties away from zero) ${tag}`, { skip }, () => {
  const [M, K] = [5, 100];
  const r = rng(11);
  const A = Float32Array.from({ length: M * K }, () => (r() * 2 - 1) * 3);
  for (let k = 0; k < QBLOCK; k++) A[k] = k === 0 ? 127 : k % 2 ? k + 0.5 : -(k + 0.5);
  A[K + 1] = 127;
  A[K + 2] = 0.49999997;
  A[K + 3] = -0.49999997;
  A.fill(0, 2 * K, 2 * K + QBLOCK); // an all-zero block
  const Kp = Math.ceil(K / QBLOCK) * QBLOCK;
  for (const kind of ["q8_0", "q4_0"] as const) {
    const N = K;
    const W = unitWeight(kind, N, K, 1);
    if (kind === "q8_0") (W.qs as Int8Array).fill(0).forEach((_, i) => i % Kp === Math.floor(i / Kp) && (W.qs[i] = 1));
    else {
      (W.qs as Uint8Array).fill(0x88);
      for (let n = 0; n < N; n++) {
        const j = n % QBLOCK,
          at = (n * Kp + n - j) / 2 + (j % 16);
        W.qs[at] = j < 16 ? 0x89 : 0x98;
      }
    }
    const x = quantizeRows(A, M, K);
    const want = new Float32Array(M * N);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) want[m * N + n] = x.q[m * Kp + n]! * x.s[m * (Kp / QBLOCK) + ((n / QBLOCK) | 0)]!;
    assert.equal(x.q[1], 2);
    assert.equal(x.q[2], -3);
    const C = new Float32Array(M * N);
    native!.gemmQ({ M, A, W, C, alpha: 1, beta: 0 });
    assert.deepEqual(C, want, kind);
  }
});

function maxRelErr(got: Float32Array, want: Float32Array): number {
  let scale = 0,
    err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
  }
  return err / Math.max(scale, 1e-30);
}

for (const kind of KINDS)
  test(`${kind}: real scales match the reference's integer form and its dequantize-then-f32 product ${tag}`, { skip }, () => {
    for (const M of ROWS)
      for (const [N, K] of [[17, 72], [64, 256], [3, 31]] as const) {
        const Wf = randn(N * K, M + N + K, 0.05);
        const W = quantizeWeight(Wf, "f32", N, K, kind, "w");
        const A = randn(M * K, 7 * M + K);
        const C0 = randn(M * N, 3);
        for (const [alpha, beta] of [[1, 0], [0.5, 2]] as const) {
          const got = C0.slice(),
            ref = C0.slice();
          native!.gemmQ({ M, A, W, C: got, alpha, beta });
          referenceBackend.gemmQ({ M, A, W, C: ref, alpha, beta });
          assert.ok(maxRelErr(got, ref) < 1e-5, `vs integer form: ${kind} M=${M} N=${N} K=${K} α=${alpha} β=${beta}: ${maxRelErr(got, ref)}`);
          // Dequantize both operands, multiply in f32.
          const xq = quantizeRows(A, M, K);
          const Ad = new Float32Array(M * K);
          for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) Ad[m * K + k] = xq.q[m * xq.Kp + k]! * xq.s[m * (xq.Kp / QBLOCK) + ((k / QBLOCK) | 0)]!;
          const deq = C0.slice();
          referenceBackend.gemm({ batch: 1, M, N, K, transA: false, transB: true, A: Ad, lda: K, strideA: 0, B: dequantizeWeight(W), bDtype: "f32", ldb: K, strideB: 0, C: deq, ldc: N, strideC: 0, alpha, beta });
          assert.ok(maxRelErr(got, deq) < 1e-5, `vs dequantize-then-f32: ${kind} M=${M} N=${N} K=${K}: ${maxRelErr(got, deq)}`);
        }
      }
  });

test(`a NaN activation gives NaN in its row only ${tag}`, { skip }, () => {
  const [M, N, K] = [3, 5, 40];
  const W = quantizeWeight(randn(N * K, 1), "f32", N, K, "q8_0", "w");
  const A = randn(M * K, 2);
  A[K + 35] = NaN;
  const C = new Float32Array(M * N);
  native!.gemmQ({ M, A, W, C, alpha: 1, beta: 0 });
  for (let i = 0; i < M * N; i++) assert.equal(Number.isNaN(C[i]), i >= N && i < 2 * N, `element ${i}`);
});

test(`gemmQ refuses arrays that do not match the weight's shape ${tag}`, { skip }, () => {
  const W = quantizeWeight(randn(4 * 32, 1), "f32", 4, 32, "q4_0", "w");
  const C = new Float32Array(8);
  assert.throws(() => native!.gemmQ({ M: 2, A: new Float32Array(64), W: { ...W, qs: new Uint8Array(10) }, C, alpha: 1, beta: 0 }), /gemmQ: W.qs/);
  assert.throws(() => native!.gemmQ({ M: 2, A: new Float32Array(64), W: { ...W, qs: new Int8Array(64) }, C, alpha: 1, beta: 0 }), /gemmQ: W.qs/);
  assert.throws(() => native!.gemmQ({ M: 2, A: new Float32Array(63), W, C, alpha: 1, beta: 0 }), /gemmQ.*A/);
  assert.throws(() => native!.gemmQ({ M: 2, A: new Float32Array(64), W: { ...W, Kp: 64 }, C, alpha: 1, beta: 0 }), /Kp must be/);
  const W1 = quantizeWeight(randn(4 * 32, 1), "f32", 4, 32, "q4_1", "w");
  assert.throws(() => native!.gemmQ({ M: 2, A: new Float32Array(64), W: { ...W1, m: undefined }, C, alpha: 1, beta: 0 }), /gemmQ: W.m must be a Uint16Array of 4 minimums/);
  assert.throws(() => native!.gemmQ({ M: 2, A: new Float32Array(64), W: { ...W, m: W1.m }, C, alpha: 1, beta: 0 }), /gemmQ: W.m is for q4_1 only, not q4_0/);
});

test("quantization refuses NaN/Inf weights, naming the tensor and the element", () => {
  const w = randn(3 * 40, 1);
  w[40 + 33] = Infinity;
  assert.throws(() => quantizeWeight(w, "f32", 3, 40, "q8_0", "model.layers.0.mlp.up_proj.weight"), /model\.layers\.0\.mlp\.up_proj\.weight: non-finite value Infinity at \[1,33\]/);
  w[40 + 33] = NaN;
  assert.throws(() => quantizeWeight(w, "f32", 3, 40, "q4_0", "q_proj"), /q_proj: non-finite value NaN at \[1,33\]/);
});

// Half a step (d/2) per value; q4_0's positive extreme clamps from +8 to +7, a whole step (amax/8).
test("quantization error is within a block's step (q8_0: amax/254, q4_0: amax/8 per value)", () => {
  const [N, K] = [8, 96];
  const w = randn(N * K, 5);
  for (const [kind, div] of [["q8_0", 254], ["q4_0", 8]] as const) {
    const d = dequantizeWeight(quantizeWeight(w, "f32", N, K, kind, "w"));
    for (let n = 0; n < N; n++)
      for (let b = 0; b < K / QBLOCK; b++) {
        let amax = 0;
        for (let j = 0; j < QBLOCK; j++) amax = Math.max(amax, Math.abs(w[n * K + b * QBLOCK + j]!));
        for (let j = 0; j < QBLOCK; j++) {
          const i = n * K + b * QBLOCK + j;
          assert.ok(Math.abs(d[i]! - w[i]!) <= (amax / div) * 1.01 + 1e-6, `${kind} [${n},${b * QBLOCK + j}]: ${d[i]} vs ${w[i]}`);
        }
      }
  }
});

// Q4_1 spends its extra f16 per block on a minimum: 16 levels fitted to the block instead of a
// grid symmetric about 0, and a least-squares refit onto them; on Gaussian weights (K not a
// multiple of the block, so the padded last block is fitted to its real values only).
test("q4_1's squared error is well under q4_0's, and its last partial block ignores the padding", () => {
  const [N, K] = [16, 200];
  const w = randn(N * K, 6);
  const sq = (kind: QuantKind) => dequantizeWeight(quantizeWeight(w, "f32", N, K, kind, "w")).reduce((s, v, i) => s + (v - w[i]!) ** 2, 0);
  const [e0, e1] = [sq("q4_0"), sq("q4_1")];
  assert.ok(e1 < 0.8 * e0, `q4_1 ${e1} vs q4_0 ${e0}`);
  // A last block of 8 real values in [10, 11): its grid (step ≈ 0.06) spans them; one spanning the
  // zero padding too would have a step of 0.73.
  const v = Float32Array.from({ length: 40 }, (_, k) => 10 + (k % 8) / 8);
  const q = quantizeWeight(v, "f32", 1, 40, "q4_1", "w");
  const back = dequantizeWeight(q);
  for (let k = 32; k < 40; k++) assert.ok(Math.abs(back[k]! - v[k]!) < 0.05, `[${k}] ${back[k]} vs ${v[k]}`);
});

test("a quantized weight Tensor is read only as x·Wᵀ; its product and backward follow the dequantized weight", () => {
  const [N, K, M] = [6, 40, 5];
  const q = quantizeWeight(randn(N * K, 9, 0.1), "f32", N, K, "q8_0", "w");
  const W = Tensor.quantized(q, "w");
  assert.deepEqual(W.shape, [N, K]);
  assert.equal(W.size, N * K);
  assert.throws(() => W.f32, /w\[6,40\]: is quantized \(q8_0\)/);
  const x = new Tensor(randn(M * K, 4), [M, K], { requiresGrad: true });
  assert.throws(() => matmul(new Tensor(randn(M * N, 1), [M, N]), W), /is quantized: only products x·Wᵀ read it/);
  const y = linear(x, W);
  const yd = linear(new Tensor(x.f32, [M, K]), W.toF32());
  for (let i = 0; i < y.size; i++) assert.ok(Math.abs(y.f32[i]! - yd.f32[i]!) < 0.02, `y[${i}] ${y.f32[i]} vs ${yd.f32[i]}`);
  // dX = dY·Ŵ with Ŵ the dequantized weight, exactly as the f32 product with Ŵ gives it.
  const g = randn(M * N, 8);
  backward(y, g);
  const xd = new Tensor(x.f32, [M, K], { requiresGrad: true });
  backward(linear(xd, W.toF32()), g);
  assert.deepEqual(x.grad!.f32, xd.grad!.f32);
});

test(`the addon's quantizeWeight gives quantizeWeight's bits and refusals (f32, bf16, f16; ties, tiny and huge blocks) ${tag}`, { skip }, () => {
  assert.ok(native!.quantizeWeight, "the addon has quantizeWeight");
  const q = native!.quantizeWeight!.bind(native);
  for (const [N, K] of [[37, 100], [1, 31], [16, 64]] as const) {
    const w = randn(N * K, N + K);
    // A block whose scale is exactly 1 (127 → q8; −8 → q4) with values at k + ½: ties go away from zero.
    for (let j = 0; j < Math.min(K, QBLOCK); j++) w[j] = j === 0 ? 127 : j % 2 ? (j % 8) + 0.5 : -((j % 8) + 0.5);
    if (N > 1) for (let j = 0; j < Math.min(K, QBLOCK); j++) w[K + j] *= 1e-7; // f16-subnormal scales
    for (const dtype of ["f32", "bf16", "f16"] as const) {
      const data = fromFloat32(w, dtype);
      for (const kind of KINDS) assert.deepEqual(q(data, dtype, N, K, kind, "w"), quantizeWeight(data, dtype, N, K, kind, "w"), `${kind} ${dtype} [${N},${K}]`);
    }
  }
  const w = randn(3 * 40, 1);
  w[40 + 33] = -Infinity;
  for (const kind of KINDS) assert.throws(() => q(w, "f32", 3, 40, kind, "model.layers.0.mlp.up_proj.weight"), /model\.layers\.0\.mlp\.up_proj\.weight: non-finite value -Infinity at \[1,33\]/);
  w[40 + 33] = 1e7;
  for (const kind of KINDS) {
    const want = (() => {
      try {
        quantizeWeight(w, "f32", 3, 40, kind, "q_proj");
      } catch (e) {
        return (e as Error).message;
      }
    })();
    assert.match(want!, /q_proj: \|value\| 10000000 at row 1 is beyond the f16 block scale's range/);
    assert.throws(() => q(w, "f32", 3, 40, kind, "q_proj"), { message: want });
  }
  assert.throws(() => q(w, "f32", 3, 41, "q8_0", "q_proj"), /quantize q_proj: 120 values for shape \[3,41\]/);
});
