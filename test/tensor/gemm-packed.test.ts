/**
 * A right operand packed once (Backend.packB, for frozen weights) gives the same bits as packing
 * per call, on the kernel the ISA cap picks (imported again by the capped native-*.test.ts files,
 * so every path this CPU has runs): shapes over the kernels' KC and NC blocks, ragged edges, 16-bit
 * storage, bf16 compute, alpha/beta, a B shared by a batch. A pack that does not fit the call
 * (another kernel's, a batch of different Bs) is ignored, never misread; and a test that a pack is
 * really read, so the bit-equality above cannot pass by ignoring every pack.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadNativeBackend, nativeInfo } from "../../src/tensor/backend/native.js";
import type { Backend, ComputeDtype, GemmArgs, PackedB } from "../../src/tensor/backend/types.js";
import { fromFloat32, type DType } from "../../src/tensor/dtype.js";
import { randn } from "../helpers/rng.js";

const native = loadNativeBackend().backend as Backend | null;
const info = nativeInfo();
const tag = info ? `[${info.gemm} / bf16 on ${info.gemmBf16}]` : "[native missing]";
const skip = native?.packB ? undefined : "native addon not built (or without packB)";

interface Case {
  M: number;
  N: number;
  K: number;
  dtype: DType;
  compute: ComputeDtype;
  batch?: number;
  alpha?: number;
  beta?: number;
}

// x·Wᵀ with W [N, K] stored as dtype: the product a Linear layer runs.
function product(c: Case, W: Float32Array | Uint16Array, A: Float32Array, C0: Float32Array, packedB: PackedB | null, strideB = 0): Float32Array {
  const C = C0.slice();
  const batch = c.batch ?? 1;
  native!.gemm({
    batch, M: c.M, N: c.N, K: c.K, transA: false, transB: true,
    A, lda: c.K, strideA: c.M * c.K, B: W, bDtype: c.dtype, ldb: c.K, strideB,
    C, ldc: c.N, strideC: c.M * c.N, alpha: c.alpha ?? 1, beta: c.beta ?? 0, compute: c.compute, packedB,
  } satisfies GemmArgs);
  return C;
}

function weights(c: Case, seed: number, count = 1): Float32Array | Uint16Array {
  const w = randn(c.N * c.K * count, seed);
  return c.dtype === "f32" ? w : fromFloat32(w, c.dtype);
}

const cases: Case[] = [
  { M: 40, N: 17, K: 33, dtype: "f32", compute: "f32" },
  { M: 33, N: 2050, K: 800, dtype: "f32", compute: "f32", alpha: 0.5, beta: 1 },
  { M: 100, N: 130, K: 1601, dtype: "bf16", compute: "f32" },
  { M: 19, N: 257, K: 771, dtype: "f16", compute: "f32" },
  { M: 65, N: 2100, K: 390, dtype: "bf16", compute: "bf16" },
  { M: 24, N: 96, K: 1537, dtype: "f32", compute: "bf16", beta: 1 },
  { M: 17, N: 300, K: 129, dtype: "f32", compute: "f32", batch: 3 },
  { M: 3, N: 64, K: 40, dtype: "f32", compute: "f32" }, // few rows: read as stored, the pack unused
];

for (const c of cases) {
  test(`packed B ${tag}: ${c.M}×${c.N}×${c.K} ${c.dtype} storage, ${c.compute} compute${c.batch ? `, batch ${c.batch} sharing B` : ""} — same bits as per-call packing`, { skip }, () => {
    const W = weights(c, c.N + c.K);
    const A = randn((c.batch ?? 1) * c.M * c.K, c.M);
    const C0 = randn((c.batch ?? 1) * c.M * c.N, 5);
    const pk = native!.packB!({ B: W, bDtype: c.dtype, N: c.N, K: c.K, ldb: c.K, transB: true, compute: c.compute });
    assert.equal(pk.words.length > 0, true);
    assert.deepEqual(product(c, W, A, C0, pk), product(c, W, A, C0, null));
  });
}

test(`packed B ${tag}: the pack is what the product reads`, { skip }, () => {
  const c: Case = { M: 48, N: 200, K: 300, dtype: "f32", compute: "f32" };
  const W1 = weights(c, 1), W2 = weights(c, 2);
  const A = randn(c.M * c.K, 3), C0 = new Float32Array(c.M * c.N);
  const pk1 = native!.packB!({ B: W1, bDtype: "f32", N: c.N, K: c.K, ldb: c.K, transB: true, compute: "f32" });
  // Handing W2 with W1's pack must give W1's product: the contract says the pack holds this B.
  assert.deepEqual(product(c, W2, A, C0, pk1), product(c, W1, A, C0, null));
  assert.notDeepEqual(product(c, W2, A, C0, null), product(c, W1, A, C0, null));
});

test(`packed B ${tag}: a pack that does not fit the call is ignored`, { skip }, () => {
  const c: Case = { M: 48, N: 200, K: 300, dtype: "f32", compute: "f32" };
  const W1 = weights(c, 1), W2 = weights(c, 2);
  const A = randn(c.M * c.K, 3), C0 = new Float32Array(c.M * c.N);
  const pk1 = native!.packB!({ B: W1, bDtype: "f32", N: c.N, K: c.K, ldb: c.K, transB: true, compute: "f32" });
  const want = product(c, W2, A, C0, null);
  for (const wrong of [{ ...pk1, kernel: (pk1.kernel + 1) % 4 }, { ...pk1, compute: "bf16" as const }, { ...pk1, transB: false }, { ...pk1, words: pk1.words.subarray(1) }])
    assert.deepEqual(product(c, W2, A, C0, wrong), want);
  // A batch of different Bs (strideB ≠ 0) cannot use one pack.
  const Wb = weights(c, 9, 2), Ab = randn(2 * c.M * c.K, 4), Cb = new Float32Array(2 * c.M * c.N);
  const pkb = native!.packB!({ B: Wb, bDtype: "f32", N: c.N, K: c.K, ldb: c.K, transB: true, compute: "f32" });
  const cb = { ...c, batch: 2 };
  assert.deepEqual(product(cb, Wb, Ab, Cb, pkb, c.N * c.K), product(cb, Wb, Ab, Cb, null, c.N * c.K));
});

test(`packB ${tag}: bad arguments name the kernel`, { skip }, () => {
  assert.throws(() => native!.packB!({ B: new Float32Array(10), bDtype: "f32", N: 4, K: 4, ldb: 4, transB: true, compute: "f32" }), /native packB: B has 10 elements, needs 16/);
  assert.throws(() => native!.packB!({ B: new Float32Array(16), bDtype: "f32", N: 4, K: 4, ldb: 3, transB: true, compute: "f32" }), /native packB: ldb 3 < 4/);
  assert.throws(() => native!.packB!({ B: new Float32Array(16), bDtype: "bf16", N: 4, K: 4, ldb: 4, transB: true, compute: "f32" }), /Uint16Array for dtype bf16/);
});
