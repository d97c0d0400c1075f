/**
 * setComputeDtype's bad-input paths: an unknown dtype is refused naming the option; bf16 on the
 * reference backend (no bf16 units) and on f16 weights each say so once per process, and still
 * compute in bf16 (rounded operands), which changes the output. "auto" picks bf16 only for 16-bit
 * weights where the addon's timing chose the bf16 kernel (injected here), and says which.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomDecoder } from "../../src/models/build.js";
import { chooseAutoDtype, setComputeDtype, type Bf16Path } from "../../src/models/compute-mode.js";
import { quantizeFrozenWeights } from "../../src/models/pack-weights.js";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { storiesFolder } from "../helpers/stories.js";
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
    assert.throws(() => setComputeDtype(m, "f16" as "bf16", "--dtype"), /--dtype: must be one of f32, bf16, auto, got "f16"/);
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

describe("--dtype auto", () => {
  const spec = (): DecoderSpec => ({
    family: "llama", hiddenSize: 32, intermediateSize: 48, numLayers: 1, numHeads: 2, numKvHeads: 2, headDim: 16,
    vocabSize: 20, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: { type: "none" }, maxPositions: 16, tieWordEmbeddings: true,
    qkvBias: false, oBias: false, mlpBias: false, activation: "silu", normAddOne: false, embedScale: 1, trainedAttention: "causal", slidingWindow: null,
    bosTokenId: null, eosTokenIds: [], padTokenId: null, nameOrPath: null, dtype: "bfloat16",
  });
  const faster: Bf16Path = { kernel: "avx512bf16", units: true, why: "timed: avx512bf16 micro-kernel 520 GFLOP/s vs avx512 160 GFLOP/s" };
  const slower: Bf16Path = { kernel: "avx2-rounded", units: false, why: "this CPU has no bf16 matrix units (AVX-512-BF16)" };

  it("picks bf16 only for 16-bit weights on a CPU whose bf16 kernel the addon timed faster", () => {
    assert.deepEqual(chooseAutoDtype(randomDecoder(spec(), 1, "bf16"), faster).dtype, "bf16");
    assert.deepEqual(chooseAutoDtype(randomDecoder(spec(), 1, "f16"), faster).dtype, "bf16");
    const noUnits = chooseAutoDtype(randomDecoder(spec(), 1, "bf16"), slower);
    assert.equal(noUnits.dtype, "f32");
    assert.match(noUnits.reason, /no bf16 matrix units/);
    const f32 = chooseAutoDtype(randomDecoder(spec(), 1, "f32"), faster);
    assert.deepEqual(f32, { dtype: "f32", reason: "7 of 7 projection weights are stored in f32" });
    const q = randomDecoder(spec(), 1, "bf16");
    quantizeFrozenWeights(q, "int8");
    assert.match(chooseAutoDtype(q, faster).reason, /quantized/);
    assert.equal(chooseAutoDtype(q, faster).dtype, "f32");
  });

  it("sets the chosen dtype on the model and says which, naming the option", () => {
    const notes: string[] = [];
    const m = randomDecoder(spec(), 1, "bf16");
    assert.equal(setComputeDtype(m, "auto", "--dtype", (l) => notes.push(l), faster), "bf16");
    assert.equal(m.computeDtype, "bf16");
    assert.match(notes[0]!, /^--dtype auto: bf16 \(the weights are 16-bit and the bf16 kernel avx512bf16 is the faster \(timed: .*520 GFLOP\/s/);
    assert.equal(setComputeDtype(m, "auto", "--dtype", (l) => notes.push(l), slower), "f32");
    assert.equal(m.computeDtype, "f32");
    assert.match(notes[1]!, /^--dtype auto: f32 \(the weights are 16-bit, but this CPU has no bf16 matrix units/);
  });

  it("LLM2Vec.fromPretrained({ computeDtype: 'auto' }) reports its choice in options and through onNote", async () => {
    const notes: string[] = [];
    const enc = await LLM2Vec.fromPretrained(storiesFolder(), { computeDtype: "auto", onNote: (l) => notes.push(l) });
    // stories260K is stored in f32, so auto keeps f32 on any CPU.
    assert.equal(enc.options.computeDtype, "f32");
    assert.equal(enc.model.computeDtype, "f32");
    assert.ok(notes.some((l) => /^computeDtype auto: f32 \(\d+ of \d+ projection weights are stored in f32\)$/.test(l)), notes.join("\n"));
  });
});
