/**
 * Builds a DecoderModel from named tensors: a checkpoint reader (checked name by name against the
 * spec's shapes, errors naming the tensor) or seeded random weights (tests, benchmarks).
 */
import { fromFloat32, type DType, type Storage } from "../tensor/dtype.js";
import { Rng } from "../tensor/random.js";
import { shapeStr, Tensor } from "../tensor/tensor.js";
import { DecoderModel, type DecoderLayer } from "./decoder.js";
import type { LinearLayer } from "./linear.js";
import { EMBED_TOKENS, FINAL_NORM, linearTensorName, LM_HEAD, normName } from "./names.js";
import { LINEAR_MODULES, weightShapes, type DecoderSpec, type LinearModule } from "./spec.js";

/** The subset of a checkpoint reader that model building needs (formats/ implements it). */
export interface WeightReader {
  has(name: string): boolean;
  read(name: string): { dtype: DType; shape: readonly number[]; data: Storage };
  /** Every tensor name; when given, loading is strict (nothing unused, the layer count checked first). */
  names?(): string[];
}

export interface LoadOptions {
  /** Accept tensors the model does not use (listed through onUnused) instead of refusing them. */
  allowUnused?: boolean;
  onUnused?(names: string[]): void;
}

/** Tensors HF checkpoints carry that are buffers, not parameters: never an error. */
const KNOWN_BUFFERS = /(^|\.)rotary_emb\.inv_freq$|(^|\.)masked_bias$|(^|\.)attn\.bias$/;
const LAYER_INDEX = /^model\.layers\.(\d+)\./;

/**
 * Strictness before any allocation: the layer count of the config must match the checkpoint's
 * (a config saying 3 layers over a 5-layer checkpoint, or 1e9), and after loading every tensor
 * must have been used (a `q_norm.weight` or `gate_proj.bias` the family does not read would
 * otherwise be ignored silently).
 */
function checkLayerCount(spec: DecoderSpec, names: readonly string[], source: string): void {
  let present = 0;
  for (const n of names) {
    const m = LAYER_INDEX.exec(n);
    if (m) present = Math.max(present, Number(m[1]) + 1);
  }
  if (spec.numLayers !== present)
    throw new Error(`${source}: config.json field "num_hidden_layers" is ${spec.numLayers}, but the checkpoint holds ${present} layer(s) (model.layers.0…${Math.max(0, present - 1)})`);
}

export function buildDecoder(spec: DecoderSpec, get: (name: string, shape: number[]) => Tensor): DecoderModel {
  const layers: DecoderLayer[] = [];
  const shapes = weightShapes(spec);
  const t = (name: string) => get(name, shapes.get(name)!);
  const maybe = (name: string) => (shapes.has(name) ? t(name) : null);
  for (let i = 0; i < spec.numLayers; i++) {
    const linears = {} as Record<LinearModule, LinearLayer>;
    for (const m of LINEAR_MODULES) {
      const bias = maybe(linearTensorName(i, m, "bias"));
      linears[m] = { weight: t(linearTensorName(i, m, "weight")), bias: bias ? bias.toF32() : null, lora: null };
    }
    layers.push({
      inputNorm: t(normName(i, "input_layernorm")),
      postAttentionNorm: t(normName(i, "post_attention_layernorm")),
      linears,
    });
  }
  const embed = t(EMBED_TOKENS);
  const lmHead = spec.tieWordEmbeddings ? embed : t(LM_HEAD);
  return new DecoderModel(spec, embed, layers, t(FINAL_NORM), lmHead);
}

export class MissingWeightError extends Error {}

/** Loads every tensor the spec needs from a checkpoint, in its storage dtype. */
export function loadDecoder(spec: DecoderSpec, reader: WeightReader, source = "checkpoint", opts: LoadOptions = {}): DecoderModel {
  const names = reader.names?.();
  if (names) checkLayerCount(spec, names, source);
  const used = new Set<string>();
  const model = buildDecoder(spec, (name, shape) => {
    used.add(name);
    if (!reader.has(name)) {
      // Some tied checkpoints still carry lm_head; some untied ones omit it and expect tying.
      throw new MissingWeightError(`${source}: tensor "${name}" is missing (expected shape ${shapeStr(shape)})`);
    }
    const w = reader.read(name);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))
      throw new Error(`${source}: tensor "${name}" has shape ${shapeStr(w.shape)}, the config implies ${shapeStr(shape)}`);
    return new Tensor(w.data, shape, { dtype: w.dtype, name });
  });
  if (names) {
    // A tied model's checkpoint may still carry lm_head (a copy of the embeddings): not an error.
    const unused = names.filter((n) => !used.has(n) && !KNOWN_BUFFERS.test(n) && !(spec.tieWordEmbeddings && n === "lm_head.weight"));
    if (unused.length && !opts.allowUnused)
      throw new Error(`${source}: ${unused.length} tensor(s) that a ${spec.family} model with this config does not use: ${unused.slice(0, 6).map((n) => `"${n}"`).join(", ")}${unused.length > 6 ? ", …" : ""} (wrong model_type or config? allowUnused accepts them)`);
    if (unused.length) opts.onUnused?.(unused);
  }
  return model;
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
