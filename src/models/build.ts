/**
 * Builds a DecoderModel from named tensors: a checkpoint reader (checked name by name against the
 * spec's shapes, errors naming the tensor) or seeded random weights (tests, benchmarks).
 */
import { fromFloat32, type DType, type Storage } from "../tensor/dtype.js";
import { Rng } from "../tensor/random.js";
import { shapeStr, Tensor } from "../tensor/tensor.js";
import { DecoderModel, modulePath, type DecoderLayer } from "./decoder.js";
import type { LinearLayer } from "./linear.js";
import { LINEAR_MODULES, weightShapes, type DecoderSpec, type LinearModule } from "./spec.js";

/** The subset of a checkpoint reader that model building needs (formats/ implements it). */
export interface WeightReader {
  has(name: string): boolean;
  read(name: string): { dtype: DType; shape: readonly number[]; data: Storage };
}

export function buildDecoder(spec: DecoderSpec, get: (name: string, shape: number[]) => Tensor): DecoderModel {
  const layers: DecoderLayer[] = [];
  const shapes = weightShapes(spec);
  const t = (name: string) => get(name, shapes.get(name)!);
  const maybe = (name: string) => (shapes.has(name) ? t(name) : null);
  for (let i = 0; i < spec.numLayers; i++) {
    const linears = {} as Record<LinearModule, LinearLayer>;
    for (const m of LINEAR_MODULES) {
      const p = modulePath(i, m);
      const bias = maybe(`${p}.bias`);
      linears[m] = { weight: t(`${p}.weight`), bias: bias ? bias.toF32() : null, lora: null };
    }
    layers.push({
      inputNorm: t(`model.layers.${i}.input_layernorm.weight`),
      postAttentionNorm: t(`model.layers.${i}.post_attention_layernorm.weight`),
      linears,
    });
  }
  const embed = t("model.embed_tokens.weight");
  const lmHead = spec.tieWordEmbeddings ? embed : t("lm_head.weight");
  return new DecoderModel(spec, embed, layers, t("model.norm.weight"), lmHead);
}

export class MissingWeightError extends Error {}

/** Loads every tensor the spec needs from a checkpoint, in its storage dtype. */
export function loadDecoder(spec: DecoderSpec, reader: WeightReader, source = "checkpoint"): DecoderModel {
  return buildDecoder(spec, (name, shape) => {
    if (!reader.has(name)) {
      // Some tied checkpoints still carry lm_head; some untied ones omit it and expect tying.
      throw new MissingWeightError(`${source}: tensor "${name}" is missing (expected shape ${shapeStr(shape)})`);
    }
    const w = reader.read(name);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))
      throw new Error(`${source}: tensor "${name}" has shape ${shapeStr(w.shape)}, the config implies ${shapeStr(shape)}`);
    return new Tensor(w.data, shape, { dtype: w.dtype, name });
  });
}

/** Seeded random weights (normal, std 0.02; norms near 1), optionally stored as bf16/f16. */
export function randomDecoder(spec: DecoderSpec, seed = 0, dtype: DType = "f32", std = 0.02): DecoderModel {
  const rng = new Rng(seed);
  return buildDecoder(spec, (name, shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    const isNorm = name.endsWith("norm.weight");
    for (let i = 0; i < n; i++) {
      const g = rng.normal();
      v[i] = isNorm ? (spec.normAddOne ? 0 : 1) + 0.1 * g : std * g;
    }
    return new Tensor(fromFloat32(v, dtype), shape, { dtype, name });
  });
}
