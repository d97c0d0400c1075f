/**
 * The inference forward hands its intermediates back to the float32 pool (decoder.ts): that must
 * never change a result, clobber an output a caller still holds, recycle a caller's input, or
 * touch a forward that records a graph. Sizes are above the pool's threshold (4096 floats), with
 * C = F so that a wrongly recycled buffer of one op fits another's output and shows.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { randomDecoder } from "../../src/models/build.js";
import { backward, noGrad } from "../../src/tensor/autograd.js";
import { clearF32Pool, setF32Pooling } from "../../src/tensor/pool.js";
import * as ops from "../../src/tensor/ops/index.js";
import { Tensor } from "../../src/tensor/tensor.js";
import type { DecoderSpec } from "../../src/models/spec.js";

const spec: DecoderSpec = {
  family: "llama", hiddenSize: 64, intermediateSize: 64, numLayers: 3, numHeads: 4, numKvHeads: 2, headDim: 16,
  vocabSize: 50, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: { type: "none" }, maxPositions: 128, tieWordEmbeddings: true,
  qkvBias: false, oBias: false, mlpBias: false, activation: "silu", normAddOne: false, embedScale: 1, trainedAttention: "causal", slidingWindow: null,
  bosTokenId: null, eosTokenIds: [], padTokenId: null, nameOrPath: null, dtype: "float32",
};
const [B, T] = [2, 48];
const ids = (seed: number) => Int32Array.from({ length: B * T }, (_, i) => (i * 7 + seed * 13) % spec.vocabSize);

it("inference forwards recycle buffers without changing results or live tensors", () => {
  const m = randomDecoder(spec, 11, "f32", 0.3);
  const prev = setF32Pooling(false);
  try {
    const truth = [1, 2].map((s) => Float32Array.from(noGrad(() => m.forward(ids(s), B, T, { mode: "bidirectional" })).f32));
    setF32Pooling(true);
    clearF32Pool();
    const outs = [1, 2, 1, 2].map((s) => m.forward(ids(s), B, T, { mode: "bidirectional" }));
    outs.forEach((o, i) => assert.deepEqual(o.f32, truth[i % 2], `forward ${i + 1} differs from the unpooled one (or was overwritten later)`));
    // A caller's hidden states given to runLayers stay theirs: unchanged, and reusable.
    const x = new Tensor(Float32Array.from(outs[0]!.f32), [B, T, spec.hiddenSize]);
    const snap = Float32Array.from(x.f32);
    const y1 = Float32Array.from(m.runLayers(x, { mode: "causal" }).f32);
    const y2 = m.runLayers(x, { mode: "causal" }).f32;
    assert.deepEqual(x.f32, snap, "runLayers recycled its caller's input");
    assert.deepEqual(y2, y1);
  } finally {
    setF32Pooling(prev);
    clearF32Pool();
  }
});

it("a forward that records a graph keeps every intermediate its backward reads", () => {
  // Frozen base, input without a gradient, one trainable LoRA on q_proj: the normed input h needs
  // no gradient itself but the LoRA node keeps it, so it must not be recycled.
  const m = randomDecoder(spec, 12, "f32", 0.3);
  const C = spec.hiddenSize, r = 64;
  const A = new Tensor(new Float32Array(r * C).map((_, i) => 0.05 * Math.cos(i)), [r, C], { requiresGrad: true });
  const Bl = new Tensor(new Float32Array(C * r).map((_, i) => 0.05 * Math.sin(i)), [C, r], { requiresGrad: true });
  m.layers[1]!.linears.q_proj!.lora = { A, B: Bl, scaling: 2, dropoutP: 0 };
  const step = () => {
    const x = new Tensor(new Float32Array(B * T * C).map((_, i) => Math.sin(i)), [B, T, C]);
    const y = m.runLayers(x, { mode: "bidirectional" });
    // Inference forwards in between reuse whatever the pool holds.
    noGrad(() => m.forward(ids(3), B, T, { mode: "bidirectional" }));
    noGrad(() => m.forward(ids(4), B, T, { mode: "bidirectional" }));
    backward(ops.meanSquare(y));
    const g = [Float32Array.from(A.grad!.f32), Float32Array.from(Bl.grad!.f32)];
    A.grad = null;
    Bl.grad = null;
    return g;
  };
  const prev = setF32Pooling(false);
  try {
    const truth = step();
    setF32Pooling(true);
    clearF32Pool();
    for (let i = 0; i < 3; i++) assert.deepEqual(step(), truth, `LoRA gradients of step ${i + 1} differ with the pool on`);
  } finally {
    setF32Pooling(prev);
    clearF32Pool();
  }
});
