/** Every op's backward against central finite differences, on each available backend. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as ops from "../../src/tensor/ops/index.js";
import { backend, referenceBackend, setBackend } from "../../src/tensor/backend/index.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { fromFloat32 } from "../../src/tensor/dtype.js";
import { gradCheck, param } from "../helpers/gradcheck.js";
import { randn } from "../helpers/rng.js";

const active = backend();
const backends = active.name === referenceBackend.name ? [referenceBackend] : [referenceBackend, active];

function ropeTables(maxPos: number, D: number): ops.RopeTables {
  const half = D / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++)
    for (let i = 0; i < half; i++) {
      const a = p / 10000 ** ((2 * i) / D);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  return { cos, sin, maxPositions: maxPos, headDim: D };
}

for (const be of backends) {
  describe(`gradients (${be.name} backend)`, () => {
    const use = () => setBackend(be);

    it("matmul: every transpose combination, batched and shared weights", () => {
      use();
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          const [M, K, N] = [3, 5, 4];
          const a = param(randn(2 * M * K, 1), transA ? [2, K, M] : [2, M, K]);
          const bShared = param(randn(K * N, 2), transB ? [N, K] : [K, N]);
          const bBatch = param(randn(2 * K * N, 3), transB ? [2, N, K] : [2, K, N]);
          gradCheck(`matmul shared tA=${transA} tB=${transB}`, ([x, y]) => ops.matmul(x!, y!, { transA, transB }), [a, bShared]);
          gradCheck(`matmul batched tA=${transA} tB=${transB}`, ([x, y]) => ops.matmul(x!, y!, { transA, transB }), [a, bBatch]);
        }
    });

    it("linear with bias, and frozen bf16 weight gives input grads only", () => {
      use();
      const x = param(randn(2 * 3 * 6, 4), [2, 3, 6]);
      const w = param(randn(5 * 6, 5), [5, 6]);
      const b = param(randn(5, 6), [5]);
      gradCheck("linear", ([x_, w_, b_]) => ops.linear(x_!, w_!, b_!), [x, w, b]);
      const frozen = new Tensor(fromFloat32(randn(5 * 6, 7), "bf16"), [5, 6], { dtype: "bf16" });
      gradCheck("linear frozen bf16", ([x_]) => ops.linear(x_!, frozen), [x]);
      assert.equal(frozen.grad, null);
    });

    it("add / mul / scale with suffix broadcasting", () => {
      use();
      const a = param(randn(24, 8), [2, 3, 4]);
      const b = param(randn(12, 9), [3, 4]);
      const c = param(randn(4, 10), [4]);
      gradCheck("add", ([x, y]) => ops.add(x!, y!), [a, b]);
      gradCheck("mul", ([x, y]) => ops.mul(x!, y!), [a, c]);
      gradCheck("scale", ([x]) => ops.scale(x!, -1.5), [a]);
    });

    it("rmsnorm, Llama and Gemma (1+w)", () => {
      use();
      const x = param(randn(3 * 7, 11), [3, 7]);
      const w = param(randn(7, 12, 0.5), [7]);
      gradCheck("rmsnorm", ([x_, w_]) => ops.rmsnorm(x_!, w_!, 1e-5), [x, w]);
      gradCheck("rmsnorm (1+w)", ([x_, w_]) => ops.rmsnorm(x_!, w_!, 1e-6, true), [x, w]);
    });

    it("rope with per-row positions", () => {
      use();
      const x = param(randn(2 * 3 * 2 * 8, 13), [2, 3, 2, 8]);
      const pos = Int32Array.from([0, 1, 2, 5, 6, 7]);
      gradCheck("rope", ([x_]) => ops.rope(x_!, pos, ropeTables(16, 8)), [x]);
    });

    it("attention: causal/bidirectional, key mask, GQA, dropout", () => {
      use();
      const [B, T, H, KVH, D] = [2, 5, 4, 2, 3];
      const q = param(randn(B * T * H * D, 14), [B, T, H, D]);
      const k = param(randn(B * T * KVH * D, 15), [B, T, KVH, D]);
      const v = param(randn(B * T * KVH * D, 16), [B, T, KVH, D]);
      const keyMask = Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
      for (const causal of [false, true])
        gradCheck(`attention causal=${causal}`, ([a, b, c]) => ops.attention(a!, b!, c!, { causal, keyMask }), [q, k, v], { samples: 16 });
      gradCheck("attention dropout", ([a, b, c]) => ops.attention(a!, b!, c!, { causal: false, keyMask, dropoutP: 0.3, seed: 42 }), [q, k, v], { samples: 16 });
    });

    it("attention logit soft-cap and sliding window: forward is softmax(c·tanh(score / c))·v over the window, backward through the cap", () => {
      use();
      const [B, T, H, KVH, D, scale, cap] = [2, 5, 4, 2, 3, 1.5, 0.8];
      const q = param(randn(B * T * H * D, 24, 2), [B, T, H, D]);
      const k = param(randn(B * T * KVH * D, 25, 2), [B, T, KVH, D]);
      const v = param(randn(B * T * KVH * D, 26), [B, T, KVH, D]);
      const keyMask = Uint8Array.from([0, 1, 1, 1, 1, 1, 1, 1, 0, 1]);
      const [qs, ks, vs] = [q.f32, k.f32, v.f32];
      for (const window of [0, 2]) {
        const out = ops.attention(q, k, v, { causal: true, keyMask, scale, softcap: cap, window }).f32;
        let worst = 0;
        for (let b = 0; b < B; b++)
          for (let h = 0; h < H; h++)
            for (let i = 0; i < T; i++) {
              const g = Math.floor(h / (H / KVH));
              const w: number[] = [];
              for (let j = window ? Math.max(0, i - window + 1) : 0; j <= i; j++) {
                if (!keyMask[b * T + j]) continue;
                let dot = 0;
                for (let d = 0; d < D; d++) dot += qs[((b * T + i) * H + h) * D + d]! * ks[((b * T + j) * KVH + g) * D + d]!;
                w[j] = Math.exp(cap * Math.tanh((scale * dot) / cap));
              }
              const z = w.reduce((a, x) => a + (x ?? 0), 0);
              for (let d = 0; d < D; d++) {
                let want = 0;
                w.forEach((x, j) => (want += (x / z) * vs[((b * T + j) * KVH + g) * D + d]!));
                worst = Math.max(worst, Math.abs(out[((b * T + i) * H + h) * D + d]! - want));
              }
            }
        assert.ok(worst < 1e-5, `soft-capped attention (window ${window}) vs the formula: max abs error ${worst}`);
      }
      for (const causal of [false, true])
        gradCheck(`attention softcap causal=${causal}`, ([a, b, c]) => ops.attention(a!, b!, c!, { causal, keyMask, scale, softcap: cap }), [q, k, v], { samples: 16 });
      gradCheck("attention softcap window 2", ([a, b, c]) => ops.attention(a!, b!, c!, { causal: true, keyMask, scale, softcap: cap, window: 2 }), [q, k, v], { samples: 16 });
    });

    it("gated activations", () => {
      use();
      const g = param(randn(20, 17, 2), [4, 5]);
      const u = param(randn(20, 18), [4, 5]);
      gradCheck("silu gate", ([a, b]) => ops.gatedActivation("silu", a!, b!), [g, u]);
      gradCheck("gelu_tanh gate", ([a, b]) => ops.gatedActivation("gelu_tanh", a!, b!), [g, u]);
      gradCheck("silu", ([a]) => ops.activation("silu", a!), [g]);
      gradCheck("gelu_tanh", ([a]) => ops.activation("gelu_tanh", a!), [g]);
    });

    it("cross-entropy with ignore index", () => {
      use();
      const logits = param(randn(4 * 6, 19, 2), [4, 6]);
      const targets = Int32Array.from([2, -100, 5, 0]);
      gradCheck("crossEntropy", ([x]) => ops.crossEntropy(x!, targets), [logits]);
    });

    it("embedding gather into a trainable table", () => {
      use();
      const table = param(randn(5 * 3, 20), [5, 3]);
      gradCheck("embedding", ([t]) => ops.embedding(t!, Int32Array.from([4, 0, 4, 2])), [table]);
    });
  });
}

describe("gradients of TypeScript-only ops", () => {
  it("softmax, logSoftmax, l2Normalize, cosineSimilarity, weightedPool, reductions, shapes, dropout", () => {
    const x = param(randn(3 * 5, 21), [3, 5]);
    const y = param(randn(4 * 5, 22), [4, 5]);
    gradCheck("softmax", ([a]) => ops.softmax(a!), [x]);
    gradCheck("logSoftmax", ([a]) => ops.logSoftmax(a!), [x]);
    gradCheck("l2Normalize", ([a]) => ops.l2Normalize(a!), [x]);
    gradCheck("cosineSimilarity", ([a, b]) => ops.cosineSimilarity(a!, b!), [x, y]);
    const h = param(randn(2 * 3 * 4, 23), [2, 3, 4]);
    gradCheck("weightedPool", ([a]) => ops.weightedPool(a!, Float32Array.from([0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3])), [h]);
    gradCheck("sum", ([a]) => ops.sum(a!), [x]);
    gradCheck("mean", ([a]) => ops.mean(a!), [x]);
    gradCheck("meanSquare", ([a]) => ops.meanSquare(a!), [x]);
    gradCheck("narrow", ([a]) => ops.narrow(a!, 1, 1, 2), [h]);
    gradCheck("concat", ([a, b]) => ops.concat([a!, b!], 0), [x, y]);
    gradCheck("transposeLast2", ([a]) => ops.transposeLast2(a!), [h]);
    gradCheck("reshape", ([a]) => ops.reshape(a!, [6, -1]), [h]);
    gradCheck("dropout", ([a]) => ops.dropout(a!, 0.4, 3), [x]);
  });

  it("accumulates gradients across backward calls and leaves frozen tensors alone", async () => {
    const { backward } = await import("../../src/tensor/autograd.js");
    const w = param(Float32Array.from([1, 2]), [2]);
    const frozen = Tensor.from([3, 4], [2]);
    backward(ops.sum(ops.mul(w, frozen)));
    backward(ops.sum(ops.mul(w, frozen)));
    assert.deepEqual(Array.from(w.grad!.f32), [6, 8]);
    assert.equal(frozen.grad, null);
  });
});

describe("bad input", () => {
  it("names the op and the shapes", () => {
    assert.throws(() => ops.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])), /matmul: inner dimensions differ: a \[2,3\] · b \[4,5\]/);
    assert.throws(() => ops.add(Tensor.zeros([2, 3]), Tensor.zeros([2])), /add: cannot broadcast/);
    assert.throws(() => ops.embedding(Tensor.zeros([4, 2]), Int32Array.from([1, 9])), /token id 9 at position 1 is outside the vocabulary \[0, 4\)/);
    assert.throws(() => ops.crossEntropy(Tensor.from([NaN, 1], [1, 2]), Int32Array.from([0])), /crossEntropy: loss is NaN/);
    assert.throws(() => ops.attention(Tensor.zeros([1, 2, 3, 4]), Tensor.zeros([1, 2, 2, 4]), Tensor.zeros([1, 2, 2, 4]), { causal: false }), /attention: incompatible/);
    assert.throws(() => new Tensor(new Float32Array(5), [2, 3]), /needs 6 elements/);
  });
});

describe("finite checks", () => {
  it("debug mode names the op that produced NaN, in forward and in backward", async () => {
    const { setCheckFinite } = await import("../../src/tensor/autograd.js");
    const prev = setCheckFinite(true);
    try {
      assert.throws(() => ops.rmsnorm(Tensor.from([Infinity, 1], [1, 2]), Tensor.from([1, 1], [2]), 1e-5), /rmsnorm: output holds NaN at element 0 of \[1,2\] \(inputs: tensor\[1,2\], tensor\[2\]\)/);
      const x = param(Float32Array.from([0, 0]), [2]);
      assert.throws(() => ops.l2Normalize(ops.scale(x, Infinity)), /scale: output holds NaN/);
    } finally {
      setCheckFinite(prev);
    }
  });
});

describe("fused LoRA linear", () => {
  it("matches the composed x·Wᵀ + b + s·(drop(x)·Aᵀ)·Bᵀ, values and gradients", () => {
    const x = param(randn(2 * 3 * 6, 31), [2, 3, 6]);
    const W = param(randn(5 * 6, 32), [5, 6]);
    const b = param(randn(5, 33), [5]);
    const A = param(randn(2 * 6, 34), [2, 6]);
    const B = param(randn(5 * 2, 35), [5, 2]);
    for (const dropoutP of [0, 0.3]) {
      const fused = ([x_, W_, A_, B_, b_]: Tensor[]) => ops.loraLinear(x_!, W_!, b_!, { A: A_!, B: B_!, scaling: 1.5, dropoutP, seed: 9 });
      gradCheck(`loraLinear p=${dropoutP}`, fused, [x, W, A, B, b]);
      const composed = ops.add(ops.linear(x, W, b), ops.scale(ops.linear(ops.linear(ops.dropout(x, dropoutP, 9), A), B), 1.5));
      const f = fused([x, W, A, B, b]);
      for (let i = 0; i < f.size; i++) assert.ok(Math.abs(f.f32[i]! - composed.f32[i]!) < 1e-5);
    }
    // A frozen bf16 base: only x, A and B get gradients.
    const frozen = new Tensor(fromFloat32(randn(5 * 6, 36), "bf16"), [5, 6], { dtype: "bf16" });
    gradCheck("loraLinear frozen bf16 base", ([x_, A_, B_]) => ops.loraLinear(x_!, frozen, null, { A: A_!, B: B_!, scaling: 2, dropoutP: 0, seed: 0 }), [x, A, B]);
  });
});
