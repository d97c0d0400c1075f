/**
 * A base model's identity for resume checks: a hash of its config and of every weight's name,
 * dtype, shape and a strided sample of its values. Cheap (no full pass over gigabytes), and two
 * different checkpoints of one architecture still differ in their sampled values.
 */
import { createHash } from "node:crypto";
import type { DecoderModel } from "../models/decoder.js";

export function modelFingerprint(model: DecoderModel, rawConfig: unknown): string {
  const h = createHash("sha256");
  h.update(JSON.stringify(rawConfig));
  for (const [name, t] of model.namedWeights()) {
    h.update(`${name}|${t.quant?.kind ?? t.dtype}|${t.shape.join("x")}|`);
    const n = t.data.length;
    const stride = Math.max(1, Math.floor(n / 64));
    const sample = new (t.data.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(Math.ceil(n / stride));
    for (let i = 0, j = 0; i < n; i += stride, j++) sample[j] = t.data[i]!;
    h.update(new Uint8Array(sample.buffer));
  }
  return h.digest("hex");
}
