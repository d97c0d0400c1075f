/**
 * setComputeDtype's bad-input paths: an unknown dtype is refused naming the option; bf16 on the
 * reference backend (no bf16 units) and on f16 weights each say so once per process, and still
 * compute in bf16 (rounded operands), which changes the output.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { randomDecoder } from "../../src/models/build.js";
import { setComputeDtype } from "../../src/models/compute-mode.js";
import { noGrad } from "../../src/tensor/autograd.js";
import { referenceBackend, setBackend } from "../../src/tensor/backend/index.js";
import type { DecoderSpec } from "../../src/models/spec.js";

it("bf16 compute: refuses unknown dtypes, warns once for the fallback and for f16 weights", async () => {
  const spec: DecoderSpec = {
    family: "llama", hiddenSize: 32, intermediateSize: 48, numLayers: 1, numHeads: 2, numKvHeads: 2, headDim: 16,
    vocabSize: 20, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: { type: "none" }, maxPositions: 16, tieWordEmbeddings: true,
    qkvBias: false, oBias: false, mlpBias: false, activation: "silu", normAddOne: false, embedScale: 1, trainedAttention: "causal", slidingWindow: null,
    bosTokenId: null, eosTokenIds: [], padTokenId: null, nameOrPath: null, dtype: "float16",
  };
  const warnings: string[] = [];
  const onWarn = (w: Error & { code?: string }) => warnings.push(w.code ?? "");
  process.on("warning", onWarn);
  const prev = setBackend(referenceBackend);
  try {
    const m = randomDecoder(spec, 3, "f16", 0.2);
    assert.throws(() => setComputeDtype(m, "f16" as "bf16", "--dtype"), /--dtype: must be one of f32, bf16, got "f16"/);
    const ids = Int32Array.from([1, 5, 7, 3]);
    const h32 = noGrad(() => m.forward(ids, 1, 4, { mode: "bidirectional" })).f32;
    setComputeDtype(m, "bf16");
    setComputeDtype(m, "bf16");
    const h16 = noGrad(() => m.forward(ids, 1, 4, { mode: "bidirectional" })).f32;
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    assert.deepEqual(warnings.filter((c) => c.startsWith("LLM2VEC_BF16")).sort(), ["LLM2VEC_BF16_FALLBACK", "LLM2VEC_BF16_FROM_F16"]);
    let d = 0;
    for (let i = 0; i < h32.length; i++) d = Math.max(d, Math.abs(h32[i]! - h16[i]!));
    assert.ok(d > 1e-4, `bf16 compute on f16 weights should change the output (max diff ${d})`);
  } finally {
    setBackend(prev);
    process.off("warning", onWarn);
  }
});
