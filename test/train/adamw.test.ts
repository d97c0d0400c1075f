/**
 * One AdamW step (and six in a row) with warmup, linear decay and global-norm clipping equals
 * torch.optim.AdamW + clip_grad_norm_ + LambdaLR on the same gradients
 * (scripts/reference/make_training_fixtures.py). Updates are ~1e-3 on O(1) parameters, so the
 * update itself (p_k − p_{k−1}) is compared too, not only the parameters.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { AdamW } from "../../src/train/optim/adamw.js";
import { clipGradNorm } from "../../src/train/optim/clip.js";
import { learningRate } from "../../src/train/optim/schedule.js";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/training");
const meta = JSON.parse(fs.readFileSync(path.join(dir, "adamw.json"), "utf8"));

describe("AdamW, schedule and clipping equal PyTorch", () => {
  for (const scenario of ["default", "nowd"] as const) {
    it(scenario, () => {
      const sc = meta[scenario];
      const hp = meta.hyperparameters;
      const st = SafetensorsFile.open(path.join(dir, "adamw.safetensors"));
      const read = (n: string) => Float32Array.from(st.read(sc.prefix + n).data as Float32Array);
      const p0 = new Tensor(read("p0.init"), [3, 5], { requiresGrad: true });
      const p1 = new Tensor(read("p1.init"), [7], { requiresGrad: true });
      const opt = new AdamW(new Map([["p0", p0], ["p1", p1]]), { beta1: hp.betas[0], beta2: hp.betas[1], eps: hp.eps, weightDecay: sc.weight_decay });
      const sched = { kind: "linear" as const, peakLr: hp.lr, warmupSteps: hp.warmup_steps, totalSteps: hp.total_steps };
      let prev = [p0.f32.slice(), p1.f32.slice()];
      for (let k = 1; k <= meta.steps; k++) {
        p0.grad = new Tensor(read(`step${k}.grad.p0`), [3, 5]);
        p1.grad = new Tensor(read(`step${k}.grad.p1`), [7]);
        const lr = learningRate(sched, k - 1);
        assert.ok(Math.abs(lr - sc.lr[k - 1]) < 1e-12, `step ${k} lr ${lr} vs ${sc.lr[k - 1]}`);
        if (sc.clip_grad_norm !== null) {
          const norm = clipGradNorm([p0, p1], sc.clip_grad_norm);
          assert.ok(Math.abs(norm - sc.grad_norm[k - 1]) < 1e-6 * sc.grad_norm[k - 1], `step ${k} grad norm ${norm} vs ${sc.grad_norm[k - 1]}`);
        }
        opt.step(lr);
        [p0, p1].forEach((p, i) => {
          const ref = st.read(`${sc.prefix}step${k}.p${i}`).data as Float32Array;
          for (let j = 0; j < ref.length; j++) {
            assert.ok(Math.abs(p.f32[j]! - ref[j]!) <= 1e-6, `step ${k} p${i}[${j}]: ${p.f32[j]} vs ${ref[j]}`);
            const dRef = ref[j]! - (k === 1 ? read(`p${i}.init`)[j]! : (st.read(`${sc.prefix}step${k - 1}.p${i}`).data as Float32Array)[j]!);
            const dOurs = p.f32[j]! - prev[i]![j]!;
            assert.ok(Math.abs(dOurs - dRef) <= 1e-6 * Math.max(1e-3, Math.abs(dRef)) + 2e-7, `step ${k} update p${i}[${j}]: ${dOurs} vs ${dRef}`);
          }
        });
        prev = [p0.f32.slice(), p1.f32.slice()];
      }
      st.close();
    });
  }
});
