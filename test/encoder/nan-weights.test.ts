/**
 * A NaN in the weights must never give a finite embedding. The issue's reproduction: one NaN in
 * layer 2's k_proj of the real stories260K. The native exp once turned it into a masked key and
 * encode returned vectors off by up to 0.54 with no error; now the NaN reaches the output and
 * encode refuses the non-finite embedding.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { writeSafetensors, type TensorToWrite } from "../../src/formats/safetensors-write.js";
import { storiesFolder } from "../helpers/stories.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-nan-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function withNaNIn(tensor: string, index: number): string {
  const src = storiesFolder();
  const dst = path.join(tmp, `${tensor}-${index}`);
  fs.cpSync(src, dst, { recursive: true });
  const file = path.join(dst, "model.safetensors");
  const st = SafetensorsFile.open(file);
  const tensors: Record<string, TensorToWrite> = {};
  for (const name of st.names()) tensors[name] = st.read(name);
  st.close();
  const t = tensors[tensor]!;
  assert.equal(t.dtype, "f32");
  (t.data as Float32Array)[index] = NaN;
  writeSafetensors(file, tensors);
  return dst;
}

for (const [tensor, index] of [
  ["model.layers.2.self_attn.k_proj.weight", 17],
  ["model.layers.0.self_attn.q_proj.weight", 3],
  ["model.layers.4.mlp.gate_proj.weight", 100],
] as const) {
  for (const bidirectional of [true, false]) {
    test(`a NaN in ${tensor} is refused, not encoded (bidirectional=${bidirectional})`, async () => {
      const enc = await LLM2Vec.fromPretrained(withNaNIn(tensor, index), { bidirectional });
      await assert.rejects(enc.encode(["Lily saw a big dog.", "The sun was warm and the sky was blue."]), /non-finite embedding/);
    });
  }
}
