/**
 * What a model family is: how its config.json reads (defaults, refusals naming the field) and how
 * one of its layers is built from a weight builder scoped to `model.layers.<i>`. Everything else
 * (embeddings, the layer stack, final norm, LM head, loading, LoRA, saving) is shared, so a family
 * is one file in families/ plus a line in registry.ts.
 */
import type { ConfigReader } from "./config-fields.js";
import type { DecoderLayer } from "./blocks/layer.js";
import type { DecoderSpec } from "./spec.js";
import type { WeightBuilder } from "./weight-builder.js";

export interface Family {
  spec(cfg: ConfigReader): DecoderSpec;
  layer(vb: WeightBuilder, spec: DecoderSpec): DecoderLayer;
}
