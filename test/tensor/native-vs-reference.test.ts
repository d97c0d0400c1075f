/**
 * Every native kernel but GEMM (native-gemm-vs-reference.test.ts) against the TypeScript reference
 * on random (often odd) shapes. Both files are also imported by the ISA-capped ones
 * (native-generic, native-avx2, ...), which run the same cases on the other kernels.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AttentionShape, GemmArgs } from "../../src/tensor/backend/types.js";
import { expectedKernels, isaSkipReason } from "../helpers/isa.js";
import { close, info, loaded, native, randInt, randn, ref, storageOf, tag } from "../helpers/native-cases.js";

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

/** The attention forward on both backends, compared; returns the reference's output and lse. */
function forwardBoth(s: AttentionShape, q: Float32Array, k: Float32Array, v: Float32Array, label: string): { oR: Float32Array; lR: Float32Array } {
  const oR = new Float32Array(q.length),
    oN = new Float32Array(q.length).fill(NaN);
  const lR = new Float32Array(s.B * s.H * s.T),
    lN = new Float32Array(s.B * s.H * s.T).fill(NaN);
  ref.attentionForward(s, q, k, v, oR, lR);
  native.attentionForward(s, q, k, v, oN, lN);
  close(oN, oR, `${label} out`);
  close(lN, lR, `${label} lse`);
  return { oR, lR };
}

function attnCase(s: AttentionShape, label: string): void {
  const { B, T, S, H, KVH, D } = s;
  const q = randn(B * T * H * D),
    k = randn(B * S * KVH * D),
    v = randn(B * S * KVH * D),
    dOut = randn(B * T * H * D);
  const { oR, lR } = forwardBoth(s, q, k, v, label);
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

test(`attention logit soft-cap and sliding window forward/backward: flash and panel paths, one- and two-pass backward, masks, dropout, strided K/V, packed ${tag}`, () => {
  const base = { keyMask: null, dropoutP: 0, seed: 0 };
  const mask = new Uint8Array(2 * 37).fill(1);
  for (let j = 0; j < 37; j += 5) mask[37 + j] = 0;
  const cases: [string, AttentionShape][] = [
    ["causal GQA odd", { ...base, B: 2, T: 7, S: 7, H: 4, KVH: 2, D: 9, causal: true, scale: 0.9, softcap: 0.7 }],
    ["bidirectional masked", { ...base, B: 2, T: 37, S: 37, H: 3, KVH: 1, D: 13, causal: false, keyMask: mask, scale: 0.5, softcap: 1.3 }],
    ["causal S>T two blocks", { ...base, B: 1, T: 70, S: 75, H: 2, KVH: 1, D: 24, causal: true, scale: 0.4, softcap: 2 }],
    ["flash S=515", { ...base, B: 1, T: 3, S: 515, H: 2, KVH: 2, D: 16, causal: false, scale: 0.6, softcap: 1.1 }],
    ["one-pass dropout", { ...base, B: 16, T: 9, S: 9, H: 4, KVH: 2, D: 5, causal: true, dropoutP: 0.25, seed: 3, scale: 1.2, softcap: 0.9 }],
    // Sliding windows: within a tile, across tiles (whole tiles before the window), with S > T and a key mask.
    ["window 3 masked", { ...base, B: 2, T: 37, S: 37, H: 3, KVH: 1, D: 13, causal: true, keyMask: mask, scale: 0.5, softcap: 1.3, window: 3 }],
    ["window 70 over 150 keys, S>T", { ...base, B: 1, T: 140, S: 150, H: 2, KVH: 1, D: 24, causal: true, scale: 0.4, window: 70 }],
    ["flash window 100 of 600", { ...base, B: 1, T: 9, S: 600, H: 2, KVH: 2, D: 16, causal: true, scale: 0.6, softcap: 1.1, window: 100 }],
    ["one-pass window 2", { ...base, B: 16, T: 9, S: 9, H: 4, KVH: 2, D: 5, causal: true, scale: 1.2, window: 2 }],
    ["window ignored when bidirectional", { ...base, B: 1, T: 6, S: 6, H: 2, KVH: 1, D: 4, causal: false, scale: 0.5, window: 2 }],
  ];
  for (const [label, c] of cases) attnCase(c, `softcap ${label}`);
  // Strided K/V (a KV cache's generation step) and the packed forward, capped.
  const [B, T, S, stride, H, KVH, D] = [2, 1, 11, 16, 4, 2, 7];
  const s: AttentionShape = { ...base, B, T, S, H, KVH, D, causal: true, scale: 0.8, softcap: 0.6, kvStride: stride };
  forwardBoth(s, randn(B * T * H * D), randn(B * stride * KVH * D), randn(B * stride * KVH * D), "softcap strided");
  forwardBoth({ ...s, window: 5 }, randn(B * T * H * D), randn(B * stride * KVH * D), randn(B * stride * KVH * D), "softcap strided window 5");
  const lengths = [5, 0, 13];
  const N = 18;
  const [q, k, v] = [randn(N * H * D), randn(N * KVH * D), randn(N * KVH * D)];
  const out = new Float32Array(N * H * D).fill(NaN);
  native.attentionForwardPacked!({ starts: Int32Array.of(0, 5, 5, 18), H, KVH, D, causal: true, scale: 0.8, softcap: 0.6, window: 4 }, q, k, v, out, new Float32Array(N * H));
  let at = 0;
  for (const L of lengths) {
    if (L === 0) continue;
    const r = new Float32Array(L * H * D);
    const span = (x: Float32Array, heads: number) => x.slice(at * heads * D, (at + L) * heads * D);
    ref.attentionForward({ ...base, B: 1, T: L, S: L, H, KVH, D, causal: true, scale: 0.8, softcap: 0.6, window: 4 }, span(q, H), span(k, KVH), span(v, KVH), r, new Float32Array(H * L));
    close(out.subarray(at * H * D, (at + L) * H * D), r, `softcap packed row of ${L}`);
    at += L;
  }
  for (const softcap of [-1, NaN, Infinity])
    assert.throws(() => native.attentionForward({ ...s, softcap }, q, k, v, out, new Float32Array(B * H * T)), /attentionForward: softcap must be 0 \(none\) or a positive finite number/);
  for (const window of [-1, 2.5])
    assert.throws(() => native.attentionForward({ ...s, window }, q, k, v, out, new Float32Array(B * H * T)), /attentionForward: window must be 0 \(none\) or a positive integer/);
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
    forwardBoth(s, q, k, v, `strided S=${S} stride=${stride}`);
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

test(`packed attention: each row is the B = 1 forward on its span (native bit for bit, reference within rounding) ${tag}`, () => {
  assert.ok(native.attentionForwardPacked, "the native backend has attentionForwardPacked");
  // A row long enough to dominate (it runs first, parallel over heads), an empty row, odd lengths.
  for (const [H, KVH, D, lengths] of [
    [4, 2, 8, [300, 40, 0, 64, 7, 1]],
    [6, 6, 16, [5, 129, 33]],
    [2, 1, 64, [17]],
  ] as [number, number, number, number[]][])
    for (const causal of [false, true]) {
      const N = lengths.reduce((a, b) => a + b, 0);
      const q = randn(N * H * D),
        k = randn(N * KVH * D),
        v = randn(N * KVH * D);
      const starts = new Int32Array(lengths.length + 1);
      lengths.forEach((L, b) => (starts[b + 1] = starts[b]! + L));
      const out = new Float32Array(N * H * D).fill(NaN);
      native.attentionForwardPacked!({ starts, H, KVH, D, causal, scale: 1 / Math.sqrt(D) }, q, k, v, out, new Float32Array(N * H));
      lengths.forEach((L, b) => {
        if (L === 0) return;
        const at = starts[b]!;
        const s: AttentionShape = { B: 1, T: L, S: L, H, KVH, D, causal, keyMask: null, scale: 1 / Math.sqrt(D), dropoutP: 0, seed: 0 };
        const span = (x: Float32Array, heads: number) => x.slice(at * heads * D, (at + L) * heads * D);
        const alone = new Float32Array(L * H * D);
        native.attentionForward(s, span(q, H), span(k, KVH), span(v, KVH), alone, new Float32Array(H * L));
        const label = `H${H}/${KVH} D${D} row ${b} (L ${L}) causal ${causal}`;
        assert.deepEqual(out.subarray(at * H * D, (at + L) * H * D), alone, label);
        const r = new Float32Array(L * H * D);
        ref.attentionForward(s, span(q, H), span(k, KVH), span(v, KVH), r, new Float32Array(H * L));
        close(alone, r, label);
      });
    }
  const f = (n: number) => new Float32Array(n);
  const ps = { starts: Int32Array.of(0, 3, 2), H: 2, KVH: 1, D: 4, causal: false, scale: 0.5 };
  assert.throws(() => native.attentionForwardPacked!(ps, f(16), f(8), f(8), f(16), f(4)), /attentionForwardPacked: starts must be non-decreasing/);
  assert.throws(() => native.attentionForwardPacked!({ ...ps, starts: Int32Array.of(1, 3) }, f(24), f(12), f(12), f(24), f(6)), /attentionForwardPacked: starts\[0\] must be 0/);
  assert.throws(() => native.attentionForwardPacked!({ ...ps, starts: Int32Array.of(0, 3) }, f(24), f(11), f(12), f(24), f(6)), /attentionForwardPacked: k has 11/);
  assert.throws(() => native.attentionForwardPacked!({ ...ps, starts: Int32Array.of(0, 3), KVH: 3 }, f(24), f(36), f(36), f(24), f(6)), /attentionForwardPacked: H must be a multiple/);
});

test(`thread pool: thousands of back-to-back small parallel kernels each get their own answer ${tag}`, () => {
  // A job ends when its tasks do, without waiting for workers that never woke up for it
  // (native/src/thread_pool.cc). Two different jobs alternate, each small enough that the caller
  // often finishes alone: a worker that ran a task of a job its caller had left, or of the wrong
  // job, would corrupt one of the outputs (or crash on a dead stack frame).
  const jobs = [
    { H: 2, KVH: 1, D: 8, lengths: [3, 5, 2, 7] },
    { H: 4, KVH: 4, D: 4, lengths: [9, 1, 4] },
  ].map(({ H, KVH, D, lengths }) => {
    const N = lengths.reduce((a, b) => a + b, 0);
    const starts = new Int32Array(lengths.length + 1);
    lengths.forEach((L, b) => (starts[b + 1] = starts[b]! + L));
    const args = { starts, H, KVH, D, causal: false, scale: 1 / Math.sqrt(D) };
    const [q, k, v] = [randn(N * H * D), randn(N * KVH * D), randn(N * KVH * D)];
    const want = new Float32Array(N * H * D);
    native.attentionForwardPacked!(args, q, k, v, want, new Float32Array(N * H));
    return { args, q, k, v, want, out: new Float32Array(N * H * D), lse: new Float32Array(N * H) };
  });
  for (let i = 0; i < 4000; i++) {
    const j = jobs[i & 1]!;
    j.out.fill(NaN);
    native.attentionForwardPacked!(j.args, j.q, j.k, j.v, j.out, j.lse);
    if (!j.out.every((x, n) => x === j.want[n])) assert.fail(`call ${i}: job ${i & 1} gave a different answer`);
  }
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
