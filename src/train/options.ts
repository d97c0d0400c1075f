/**
 * Options every LoRA training run shares (the loop, the optimizer, LoRA, checkpoints), with the
 * HF Trainer's defaults; each objective (MNTP, SimCSE, supervised) adds its own and overrides the
 * defaults its reference config sets. One schema per option set (./option-schema.ts) gives the
 * type, the validation (naming the CLI flag), the defaults, the flags' help and training_config.json.
 */
import { Type, type Static } from "@sinclair/typebox";
import { COMPUTE_DTYPE_OPTIONS } from "../encoder/options.js";
import { LINEAR_MODULES } from "../models/spec.js";
import { PROJECTION_NAMES } from "../models/names.js";
import { LOOP_PROPERTIES } from "./loop-options.js";
import { defaultsOf, oneOf } from "./option-schema.js";

/** The options every trainer shares; batchSize, maxLength, learningRate and maxSteps take each objective's defaults. */
export const COMMON_PROPERTIES = {
  model: Type.String({ description: "base model folder (Hugging Face layout)", arg: "dir" }),
  data: Type.Array(Type.String(), { minItems: 1, description: "training data files", arg: "file...", item: "data file" }),
  output: Type.String({ description: "output folder: adapter, checkpoints/, train_log.jsonl, report.html", arg: "dir" }),
  adapter: Type.Array(Type.String(), { default: [], description: "adapters merged into the base before training (SimCSE: the MNTP adapter)", arg: "dir...", item: "adapter folder" }),
  base: Type.Optional(Type.String({ description: "the base when --model is a PEFT adapter folder without weights (default: its base_model_name_or_path)", arg: "dir" })),
  maxLength: Type.Integer({ minimum: 2, description: "tokens per sequence" }),
  batchSize: Type.Integer({ minimum: 1, description: "sequences per micro-batch" }),
  bidirectional: Type.Boolean({ default: true, flag: "--causal", negate: true, description: "causal attention (the ablation); default bidirectional" }),
  computeDtype: oneOf(COMPUTE_DTYPE_OPTIONS, { default: "f32", flag: "--dtype", description: "compute dtype of the matrix products (forward and backward): f32, bf16 as PyTorch's bf16 autocast, or auto (bf16 where the weights are 16-bit and this CPU's bf16 kernel is the faster)" }),
  loraR: Type.Integer({ minimum: 1, default: 16, description: "LoRA rank" }),
  loraAlpha: Type.Number({ exclusiveMinimum: 0, default: 32, description: "LoRA alpha" }),
  loraDropout: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.05, description: "LoRA dropout", arg: "p" }),
  loraTargets: Type.Array(oneOf(PROJECTION_NAMES), { default: [...LINEAR_MODULES], description: "comma-separated projections (Phi-3's fused qkv_proj, gate_up_proj too)", arg: "list", item: "projection" }),
  ...LOOP_PROPERTIES,
  seed: Type.Integer({ default: 42, description: "seed of data order, masking, LoRA init and dropout" }),
  quantize: Type.Optional(oneOf(["int8", "int4"] as const, { description: "quantize the frozen base's projections at load (QLoRA-style: the LoRA adapters train in f32 over them)" })),
  gradientCheckpointing: Type.Boolean({ default: false, description: "recompute each layer in the backward (less memory, ~1.3× time)" }),
  resume: Type.Optional(Type.String({ description: "continue from a checkpoint folder or an output folder's latest checkpoint", arg: "dir" })),
  overwrite: Type.Optional(Type.Boolean({ description: "start over in an --output holding an earlier run (removes its checkpoints and adapter)" })),
};

export const CommonTrainSchema = Type.Object(COMMON_PROPERTIES);
export type CommonTrainOptions = Static<typeof CommonTrainSchema>;

/** What a caller gives a trainer: model, data and output, and any option to override. */
export type TrainInput<T extends CommonTrainOptions> = Partial<T> & Pick<T, "model" | "data" | "output">;

/** LoRA as the reference's initialize_peft (r 16, alpha 32, dropout 0.05, all seven projections) and the HF Trainer's optimizer. */
export const COMMON_DEFAULTS = defaultsOf<Omit<CommonTrainOptions, "model" | "data" | "output" | "batchSize" | "maxLength" | "learningRate" | "maxSteps" | "base" | "resume" | "overwrite" | "quantize">>(CommonTrainSchema);
