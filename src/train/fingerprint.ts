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
    // A quantized weight's values are its integers and scales (its `data` is empty).
    for (const values of t.quant ? [t.quant.qs, t.quant.d] : [t.data]) h.update(strided(values));
  }
  return h.digest("hex");
}

type Values = Float32Array | Uint16Array | Int8Array | Uint8Array;

/** About 64 evenly spaced values, as bytes. */
function strided(v: Values): Uint8Array {
  const n = v.length;
  const stride = Math.max(1, Math.floor(n / 64));
  const sample = new (v.constructor as new (n: number) => Values)(Math.ceil(n / stride));
  for (let i = 0, j = 0; i < n; i += stride, j++) sample[j] = v[i]!;
  return new Uint8Array(sample.buffer);
}
