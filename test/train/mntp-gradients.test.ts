/**
 * MNTP gradients against the independent PyTorch reference (scripts/reference/
 * make_training_fixtures.py, computed in float64): the shifted masked cross-entropy on a
 * left-padded batch, through LoRA on all seven projections (base frozen) and, separately,
 * with respect to every base weight (no LoRA), causal and bidirectional, four families.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { relErr } from "../helpers/compare.js";
import { loadModelFolder } from "../../src/models/load.js";
import { injectLora } from "../../src/models/lora.js";
import { LINEAR_MODULES } from "../../src/models/spec.js";
import { backward } from "../../src/tensor/autograd.js";
import { mntpLoss } from "../../src/train/mntp/objective.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const fixtures = path.join(repo, "test/fixtures/training");
const CASES = ["llama", "llama-bf16", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3"];

interface Fixture {
  input_ids: number[][];
  attention_mask: number[][];
  labels: number[][];
  lora: { r: number; alpha: number };
  model: string;
}

describe("MNTP gradients equal the PyTorch reference", () => {
  for (const name of CASES)
    for (const mode of ["causal", "bidirectional"] as const) {
      const fx = JSON.parse(fs.readFileSync(path.join(fixtures, `mntp-${name}.json`), "utf8")) as Fixture;
      const B = fx.input_ids.length;
      const T = fx.input_ids[0]!.length;
      const batch = {
        inputIds: Int32Array.from(fx.input_ids.flat()),
        labels: Int32Array.from(fx.labels.flat()),
        attentionMask: Uint8Array.from(fx.attention_mask.flat()),
        B,
        T,
      };
      const pass = { mode, padTokenId: 0 };

      it(`${name} ${mode}: LoRA factors`, () => {
        const st = SafetensorsFile.open(path.join(fixtures, `mntp-${name}.safetensors`));
        const model = loadModelFolder(path.join(repo, fx.model));
        const params = injectLora(model, { r: fx.lora.r, alpha: fx.lora.alpha, dropout: 0, targets: LINEAR_MODULES });
        for (const [pname, p] of params) p.f32.set(st.read(`lora.${pname}`).data as Float32Array);
        const out = mntpLoss(model, batch, pass);
        const refLoss = (st.read(`${mode}.lora.loss`).data as Float32Array)[0]!;
        assert.ok(Math.abs(out.loss.f32[0]! - refLoss) <= 1e-5 * Math.abs(refLoss), `loss ${out.loss.f32[0]} vs ${refLoss}`);
        backward(out.loss);
        assert.equal(params.size, 2 * [...model.linearModules()].length, "LoRA on every projection");
        for (const [pname, p] of params) {
          const e = relErr(p.grad!.f32, st.read(`${mode}.lora.grad.${pname}`).data as Float32Array);
          assert.ok(e < 1e-4, `${pname}: relative error ${e.toExponential(2)}`);
        }
        st.close();
      });

      if (name === "llama-bf16") continue; // bf16 base weights are frozen storage: LoRA only
      it(`${name} ${mode}: every base weight`, () => {
        const st = SafetensorsFile.open(path.join(fixtures, `mntp-${name}.safetensors`));
        const model = loadModelFolder(path.join(repo, fx.model));
        const weights = [...model.namedWeights()];
        for (const [, t] of weights) t.requiresGrad = true;
        const out = mntpLoss(model, batch, pass);
        const refLoss = (st.read(`${mode}.base.loss`).data as Float32Array)[0]!;
        assert.ok(Math.abs(out.loss.f32[0]! - refLoss) <= 1e-5 * Math.abs(refLoss), `loss ${out.loss.f32[0]} vs ${refLoss}`);
        backward(out.loss);
        let checked = 0;
        for (const [wname, t] of weights) {
          const ref = st.read(`${mode}.base.grad.${wname}`).data as Float32Array;
          assert.ok(t.grad, `${wname}: no gradient`);
          const e = relErr(t.grad.f32, ref);
          assert.ok(e < 1e-4, `${wname}: relative error ${e.toExponential(2)}`);
          checked++;
        }
        assert.equal(checked, st.names().filter((n) => n.startsWith(`${mode}.base.grad.`)).length);
        st.close();
      });
    }
});

describe("activation checkpointing in the decoder", () => {
  it("gives the plain graph's LoRA gradients bit for bit, with LoRA and attention dropout on", async () => {
    const { storiesFolder } = await import("../helpers/stories.js");
    const model = loadModelFolder(storiesFolder());
    const params = injectLora(model, { r: 4, alpha: 8, dropout: 0.1, targets: LINEAR_MODULES, seed: 1 });
    for (const p of params.values()) if (p.name!.endsWith("lora_B.weight")) p.f32.fill(0.01);
    const [B, T] = [2, 24];
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 37) % 500 + 3);
    const labels = new Int32Array(B * T).fill(-100);
    for (let i = 2; i < B * T; i += 5) labels[i] = ids[i]!;
    const run = (checkpointLayers: boolean) => {
      for (const p of params.values()) p.grad = null;
      const out = mntpLoss(model, { inputIds: ids, labels, B, T }, { mode: "bidirectional", padTokenId: 0, training: true, attentionDropout: 0.3, seed: 99, checkpointLayers });
      backward(out.loss);
      return [...params.values()].map((p) => Array.from(p.grad!.f32));
    };
    assert.deepEqual(run(true), run(false));
  });
});
