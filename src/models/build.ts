/**
 * Builds a DecoderModel through a weight builder (weight-builder.ts) from one of three sources: a
 * checkpoint reader (checked name by name, errors naming the tensor and both shapes), seeded
 * random weights (tests, benchmarks), or shapes only (weightShapes, parameter counts). The
 * family's layer declares the layer's tensors; this file declares the embeddings, final norm and
 * LM head around them.
 */
import type { QuantWeight } from "../tensor/backend/types.js";
import { fromFloat32, type DType, type Storage } from "../tensor/dtype.js";
import { Rng } from "../tensor/random.js";
import { shapeStr, Tensor } from "../tensor/tensor.js";
import { DecoderModel } from "./decoder.js";
import { layerPrefix } from "./names.js";
import { familyOf } from "./registry.js";
import type { DecoderSpec } from "./spec.js";
import { SHAPES_ONLY, WeightBuilder, type Init, type WeightSource } from "./weight-builder.js";

/** The subset of a checkpoint reader that model building needs (formats/ implements it). */
export interface WeightReader {
  has(name: string): boolean;
  /** The tensor `name`, which the config says has `shape`; `quant` when it is stored quantized (then `data` is unused). */
  read(name: string, shape: readonly number[]): { dtype: DType; shape: readonly number[]; data: Storage; quant?: QuantWeight | null };
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

/** The model a spec describes, with its tensors from `source`. */
export function buildFrom(spec: DecoderSpec, source: WeightSource): DecoderModel {
  const family = familyOf(spec.family);
  const vb = new WeightBuilder(source);
  const model = vb.pp("model");
  const { hiddenSize: C, vocabSize: V } = spec;
  const embedTokens = model.get([V, C], "embed_tokens.weight");
  const layers = Array.from({ length: spec.numLayers }, (_, i) => family.layer(vb.pp(layerPrefix(i)), spec));
  const norm = model.get([C], "norm.weight", { kind: "norm", center: spec.normAddOne ? 0 : 1 });
  const lmHead = spec.tieWordEmbeddings ? embedTokens : vb.get([V, C], "lm_head.weight");
  return new DecoderModel(spec, { embedTokens, layers, norm, lmHead, declared: vb.declared });
}

/** Builds a model from tensors by name (`get` returns the tensor of that name and shape). */
export function buildDecoder(spec: DecoderSpec, get: (name: string, shape: number[]) => Tensor): DecoderModel {
  return buildFrom(spec, { tensor: (path, shape) => get(path, [...shape]) });
}

/** Every tensor a checkpoint of this spec holds, with its shape, in the model's declaration order. */
export function declaredShapes(spec: DecoderSpec): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  buildFrom(spec, { tensor: (path, shape, init) => (shapes.set(path, [...shape]), SHAPES_ONLY.tensor(path, shape, init)) });
  return shapes;
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
    const w = reader.read(name, shape);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))
      throw new Error(`${source}: tensor "${name}" has shape ${shapeStr(w.shape)}, the config implies ${shapeStr(shape)}`);
    return w.quant ? Tensor.quantized(w.quant, name) : new Tensor(w.data, shape, { dtype: w.dtype, name });
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

/** Seeded random weights (normal, std 0.02; norms near 1, or near 0 for (1 + w) norms), optionally stored as bf16/f16. */
export function randomDecoder(spec: DecoderSpec, seed = 0, dtype: DType = "f32", std = 0.02): DecoderModel {
  const rng = new Rng(seed);
  return buildFrom(spec, {
    tensor(path: string, shape: readonly number[], init: Init) {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const g = rng.normal();
        v[i] = init.kind === "norm" ? init.center + 0.1 * g : std * g;
      }
      return new Tensor(fromFloat32(v, dtype), shape, { dtype, name: path });
    },
  });
}
