/**
 * A parity fixture (test/fixtures/parity/<case>, from scripts/reference/make_parity_fixtures.py
 * with pooled=True) against the decoder: the relative errors of the last hidden states on the real
 * positions and of the mean-pooled embeddings, per attention mode.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { poolingWeights } from "../../src/encoder/pooling.js";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { loadModelFolder } from "../../src/models/load.js";
import { noGrad } from "../../src/tensor/autograd.js";
import { FIXTURES } from "./stories.js";

/** max |ours − ref| / max |ref| over the given rows of width `width`. */
function rowsRelErr(ours: Float32Array, ref: Float32Array, rows: number[], width: number): number {
  let diff = 0, scale = 0;
  for (const r of rows)
    for (let c = 0; c < width; c++) {
      diff = Math.max(diff, Math.abs(ours[r * width + c]! - ref[r * width + c]!));
      scale = Math.max(scale, Math.abs(ref[r * width + c]!));
    }
  return diff / scale;
}

export function pooledParityErrors(name: string): Record<"causal" | "bidirectional", { hidden: number; mean: number }> {
  const dir = path.join(FIXTURES, "parity", name);
  const model = loadModelFolder(dir);
  const inputs = JSON.parse(fs.readFileSync(path.join(dir, "inputs.json"), "utf8")) as { input_ids: number[][]; attention_mask: number[][] };
  const B = inputs.input_ids.length, T = inputs.input_ids[0]!.length, C = model.spec.hiddenSize;
  const mask = inputs.attention_mask.flat();
  const real = mask.flatMap((m, i) => (m ? [i] : []));
  const rows = inputs.input_ids.map((ids, b) => ({ length: inputs.attention_mask[b]!.reduce((a, m) => a + m, 0), textTokens: 0, ids: Int32Array.from(ids) }));
  const w = poolingWeights("mean", rows, T, false, null);
  const expected = SafetensorsFile.open(path.join(dir, "expected.safetensors"));
  try {
    const out = {} as Record<"causal" | "bidirectional", { hidden: number; mean: number }>;
    for (const mode of ["causal", "bidirectional"] as const) {
      const h = noGrad(() => model.forward(Int32Array.from(inputs.input_ids.flat()), B, T, { mode, attentionMask: Uint8Array.from(mask) })).f32;
      const pooled = new Float32Array(B * C);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) pooled[b * C + c]! += w[b * T + t]! * h[(b * T + t) * C + c]!;
      out[mode] = {
        hidden: rowsRelErr(h, expected.read(`${mode}.hidden`).data as Float32Array, real, C),
        mean: rowsRelErr(pooled, expected.read(`${mode}.mean`).data as Float32Array, [...Array(B).keys()], C),
      };
    }
    return out;
  } finally {
    expected.close();
  }
}
