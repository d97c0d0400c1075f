/**
 * The decoder against an independent PyTorch reference (scripts/reference/hf_model.py): tiny
 * random checkpoints of each family, a ragged left-padded batch, causal and bidirectional.
 * Only real (unpadded) positions are compared, as the fixtures' README says.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { loadModelFolder } from "../../src/models/load.js";
import { noGrad } from "../../src/tensor/autograd.js";
import { backend, referenceBackend, setBackend } from "../../src/tensor/backend/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/parity");
const CASES = ["llama", "llama-bf16", "mistral", "qwen2", "qwen3", "qwen3-bias", "gemma", "gemma2", "phi3", "phi3-long"];

function maxRelErr(ours: Float32Array, ref: Float32Array, mask: number[], width: number): number {
  let maxDiff = 0;
  let maxRef = 0;
  mask.forEach((m, pos) => {
    if (!m) return;
    for (let c = 0; c < width; c++) {
      maxDiff = Math.max(maxDiff, Math.abs(ours[pos * width + c]! - ref[pos * width + c]!));
      maxRef = Math.max(maxRef, Math.abs(ref[pos * width + c]!));
    }
  });
  return maxDiff / maxRef;
}

const active = backend();
const RUNS: [string, string][] = CASES.map((c) => [c, active.name]);
// The TypeScript reference kernels must reproduce the reference model too (the fallback path; gemma2 for the soft-caps and window).
if (active.name !== referenceBackend.name) RUNS.push(["llama", referenceBackend.name], ["gemma", referenceBackend.name], ["gemma2", referenceBackend.name]);

describe("decoder parity with the PyTorch reference", () => {
  for (const [name, backendName] of RUNS) {
    it(`${name} (${backendName} kernels)`, () => {
      setBackend(backendName === referenceBackend.name ? referenceBackend : active);
      const dir = path.join(root, name);
      const model = loadModelFolder(dir);
      const inputs = JSON.parse(fs.readFileSync(path.join(dir, "inputs.json"), "utf8")) as { input_ids: number[][]; attention_mask: number[][] };
      const B = inputs.input_ids.length;
      const T = inputs.input_ids[0]!.length;
      const ids = Int32Array.from(inputs.input_ids.flat());
      const mask = inputs.attention_mask.flat();
      const expected = SafetensorsFile.open(path.join(dir, "expected.safetensors"));
      for (const mode of ["causal", "bidirectional"] as const) {
        const { hidden, logits } = noGrad(() => {
          const h = model.forward(ids, B, T, { mode, attentionMask: Uint8Array.from(mask) });
          return { hidden: h, logits: model.logits(h) };
        });
        const refH = expected.read(`${mode}.hidden`).data as Float32Array;
        const refL = expected.read(`${mode}.logits`).data as Float32Array;
        const eh = maxRelErr(hidden.f32, refH, mask, model.spec.hiddenSize);
        const el = maxRelErr(logits.f32, refL, mask, model.spec.vocabSize);
        assert.ok(eh < 1e-4, `${name} ${mode} hidden: max relative error ${eh.toExponential(2)}`);
        assert.ok(el < 1e-4, `${name} ${mode} logits: max relative error ${el.toExponential(2)}`);
      }
      expected.close();
      setBackend(active);
    });
  }

  it("bidirectional really differs from causal (the mask is not silently causal)", () => {
    const dir = path.join(root, "qwen2");
    const model = loadModelFolder(dir);
    const ids = Int32Array.from([5, 6, 7, 8]);
    const [c, b] = noGrad(() => [model.forward(ids, 1, 4, { mode: "causal" }), model.forward(ids, 1, 4, { mode: "bidirectional" })]);
    // The first token sees only itself when causal, everything when bidirectional.
    const C = model.spec.hiddenSize;
    let diff = 0;
    for (let i = 0; i < C; i++) diff = Math.max(diff, Math.abs(c!.f32[i]! - b!.f32[i]!));
    assert.ok(diff > 1e-3, `position 0 should differ, max diff ${diff}`);
  });
});
