/**
 * bf16-compute GEMM (operands rounded to bf16, f32 accumulation, f32 out) on the kernel the ISA
 * cap picks for it: vdpbf16ps (avx512bf16) or an f32 kernel on rounded operands. Imported again
 * by the capped files (native-avx512/avx2/generic.test.ts), so every path this CPU has runs.
 *
 * Two checks per case:
 *  - against the reference backend doing the same rounding (float64 sums): only the summation
 *    order differs, so the f32 tolerance applies;
 *  - against the plain f32 product, within the bf16 bound |C − C₃₂| ≤ 2⁻⁷·|α|·Σₖ|aₖ||bₖ| (+1e-6):
 *    each operand is off by at most 2⁻⁸ relatively (bf16 has 8 significant bits), so each product
 *    by at most 2·2⁻⁸. The same case must differ from f32 by more than f32 noise somewhere
 *    (a kernel that skipped the rounding would pass the bound but not this).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { referenceBackend as ref } from "../../src/tensor/backend/reference.js";
import { loadNativeBackend, nativeInfo } from "../../src/tensor/backend/native.js";
import type { Backend, GemmArgs } from "../../src/tensor/backend/types.js";
import { fromFloat32, toFloat32, type DType } from "../../src/tensor/dtype.js";
import { rng } from "../helpers/rng.js";

const native = loadNativeBackend().backend as Backend;
const info = nativeInfo();
const tag = info ? `[bf16 on ${info.gemmBf16}, ${info.threads} threads]` : "[native missing]";
const skip = info ? undefined : "native addon not built";

const rand = rng(777);
function randn(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return a;
}

interface Case {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  dtype: DType;
  batch: number;
  alpha: number;
  beta: number;
}

function run(c: Case, label: string): void {
  const { M, N, K, transA, transB, dtype, batch, alpha, beta } = c;
  const lda = (transA ? M : K) + 1,
    ldb = (transB ? K : N) + 3,
    ldc = N + 2;
  const aSize = (transA ? K : M) * lda,
    bSize = (transB ? N : K) * ldb,
    cSize = M * ldc;
  const A = randn(batch * aSize);
  const B = fromFloat32(randn(batch * bSize), dtype);
  const C0 = randn(batch * cSize);
  if (beta === 0) for (let i = 0; i < C0.length; i += 5) C0[i] = NaN; // beta 0 ignores C
  const mk = (C: Float32Array, compute: "f32" | "bf16", a = A, b: GemmArgs["B"] = B, bDtype: DType = dtype): GemmArgs => ({
    batch, M, N, K, transA, transB, A: a, lda, strideA: aSize, B: b, bDtype, ldb, strideB: bSize, C, ldc, strideC: cSize, alpha, beta, compute,
  });
  const nat = C0.slice(),
    rb = C0.slice(),
    r32 = C0.slice();
  native.gemm(mk(nat, "bf16"));
  ref.gemm(mk(rb, "bf16"));
  ref.gemm(mk(r32, "f32"));
  // Σ|a||b| per output, from the reference on absolute values (beta 0: only the product).
  const absA = A.map(Math.abs),
    absB = toFloat32(B, dtype).map(Math.abs);
  const bound = new Float32Array(C0.length);
  ref.gemm({ ...mk(bound, "f32", absA, absB, "f32"), alpha: 1, beta: 0 });
  let rms = 0;
  for (let i = 0; i < rb.length; i++) if (Number.isFinite(rb[i]!)) rms += rb[i]! ** 2;
  rms = Math.sqrt(rms / rb.length);
  let maxVsF32 = 0;
  for (let bI = 0; bI < batch; bI++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        const i = bI * cSize + m * ldc + n;
        const a = nat[i]!,
          e = rb[i]!,
          f = r32[i]!;
        const tol = 1e-4 * (Math.abs(e) + rms) + 1e-6;
        if (!(Math.abs(a - e) <= tol)) assert.fail(`${label}: C[${i}] = ${a}, bf16 reference ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
        const b16 = 2 ** -7 * Math.abs(alpha) * bound[i]! * 1.001 + 1e-6;
        if (!(Math.abs(a - f) <= b16)) assert.fail(`${label}: C[${i}] = ${a}, f32 ${f}: |diff| ${Math.abs(a - f)} over the bf16 bound ${b16}`);
        maxVsF32 = Math.max(maxVsF32, Math.abs(a - f) / (Math.abs(alpha) * bound[i]! + 1e-30));
      }
  // Padding columns are never written.
  for (let bI = 0; bI < batch; bI++)
    for (let m = 0; m < M; m++)
      for (let n = N; n < ldc && bI * cSize + m * ldc + n < nat.length; n++) {
        const i = bI * cSize + m * ldc + n;
        assert.ok(Object.is(nat[i], C0[i]), `${label}: padding C[${i}] was written`);
      }
  // f32 rounding noise is ~1e-7 of Σ|a||b|; bf16 rounding leaves ~1e-3 somewhere once K·M·N is not tiny.
  if (M * N * K >= 64) assert.ok(maxVsF32 > 1e-5, `${label}: result equals the f32 product (max rel diff ${maxVsF32}); operands were not rounded`);
}

test(`bf16 gemm: odd rows, K not a multiple of 32, transposes, dtypes ${tag}`, { skip }, () => {
  let n = 0;
  for (const M of [1, 15, 17, 33])
    for (const [N, K] of [
      [17, 31],
      [33, 95],
      [70, 33],
      [5, 1],
      [9, 49],
      [12, 16],
    ] as const)
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          n++;
          const dtype = (["bf16", "f32", "f16"] as const)[n % 3]!;
          const [alpha, beta] = ([[1, 0], [0.5, 1], [-1.25, 0.75]] as const)[n % 3]!;
          const c: Case = { M, N, K, transA, transB, dtype, batch: n % 5 === 0 ? 2 : 1, alpha, beta };
          run(c, `M=${M} N=${N} K=${K} tA=${transA} tB=${transB} B ${dtype} batch ${c.batch} α=${alpha} β=${beta}`);
        }
});

test(`bf16 gemm: threaded, past one KC block and one NC panel ${tag}`, { skip }, () => {
  for (const c of [
    { M: 200, N: 300, K: 101, transA: false, transB: true, dtype: "bf16", batch: 1, alpha: 1, beta: 0 },
    { M: 131, N: 77, K: 801, transA: false, transB: false, dtype: "f32", batch: 2, alpha: 0.5, beta: 1 },
    { M: 33, N: 2100, K: 67, transA: true, transB: true, dtype: "f16", batch: 1, alpha: 1, beta: 0 },
    { M: 3, N: 1500, K: 900, transA: false, transB: true, dtype: "bf16", batch: 1, alpha: 1, beta: 0 }, // few rows, bf16 B: unpacked path
    { M: 4, N: 700, K: 300, transA: false, transB: true, dtype: "f32", batch: 2, alpha: 1, beta: 1 }, // few rows, f32 B: packed path
  ] as Case[])
    run(c, `M=${c.M} N=${c.N} K=${c.K} tA=${c.transA} tB=${c.transB} B ${c.dtype} batch ${c.batch}`);
});

test(`bf16 gemm: NaN and ±Inf propagate; compute "f32" is unchanged ${tag}`, { skip }, () => {
  const M = 13, N = 40, K = 37;
  const A = randn(M * K), B = randn(N * K);
  A[3 * K + 5] = NaN; // row 3 → NaN
  B[7 * K + 2] = Infinity; // column 7 → ±Inf (or NaN where row 3 meets it)
  const mk = (C: Float32Array, compute: "f32" | "bf16"): GemmArgs => ({ batch: 1, M, N, K, transA: false, transB: true, A, lda: K, strideA: 0, B, bDtype: "f32", ldb: K, strideB: 0, C, ldc: N, strideC: 0, alpha: 1, beta: 0, compute });
  const nat = new Float32Array(M * N), rb = new Float32Array(M * N);
  native.gemm(mk(nat, "bf16"));
  ref.gemm(mk(rb, "bf16"));
  for (let i = 0; i < nat.length; i++) {
    if (!Number.isFinite(rb[i]!)) assert.ok(Object.is(nat[i], rb[i]) || (Number.isNaN(nat[i]!) && Number.isNaN(rb[i]!)), `C[${i}] = ${nat[i]}, expected ${rb[i]}`);
    else assert.ok(Number.isFinite(nat[i]!), `C[${i}] = ${nat[i]}, expected finite ${rb[i]}`);
  }
  const a32 = new Float32Array(M * N), b32 = new Float32Array(M * N);
  native.gemm({ ...mk(a32, "f32"), compute: undefined });
  native.gemm(mk(b32, "f32"));
  assert.deepEqual(a32, b32);
});

test("bf16 gemm: an unknown compute dtype is refused", { skip }, () => {
  const C = new Float32Array(1);
  assert.throws(
    () => native.gemm({ batch: 1, M: 1, N: 1, K: 1, transA: false, transB: false, A: new Float32Array(1), lda: 1, strideA: 0, B: new Float32Array(1), bDtype: "f32", ldb: 1, strideB: 0, C, ldc: 1, strideC: 0, alpha: 1, beta: 0, compute: "f16" as "bf16" }),
    /native gemm: unknown compute dtype f16/,
  );
});
