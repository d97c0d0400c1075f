/**
 * The training loop's options (steps, schedule, AdamW, clipping, checkpoints, evaluation) as one
 * TypeBox schema: options.ts spreads it into every objective's schema (flags, help, defaults,
 * training_config.json) and runLoop takes and checks the same type, so a loop option is written
 * here and read where the loop uses it.
 */
import { Type, type Static } from "@sinclair/typebox";
import { ADAMW_DEFAULTS } from "./optim/adamw.js";
import { defaultsOf, oneOf } from "./option-schema.js";

export const LOOP_PROPERTIES = {
  gradientAccumulation: Type.Integer({ minimum: 1, default: 1, description: "micro-batches per optimizer step" }),
  learningRate: Type.Number({ exclusiveMinimum: 0, description: "peak learning rate", stageFlag: "lr" }),
  warmupSteps: Type.Integer({ minimum: 0, default: 0, description: "linear warmup steps", stageFlag: "warmup" }),
  scheduler: oneOf(["linear", "constant"] as const, { default: "linear", description: "learning-rate schedule after warmup" }),
  weightDecay: Type.Number({ minimum: 0, default: ADAMW_DEFAULTS.weightDecay, description: "AdamW decoupled weight decay" }),
  adamBeta1: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: ADAMW_DEFAULTS.beta1, description: "AdamW beta1" }),
  adamBeta2: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: ADAMW_DEFAULTS.beta2, description: "AdamW beta2" }),
  adamEpsilon: Type.Number({ exclusiveMinimum: 0, default: ADAMW_DEFAULTS.eps, description: "AdamW epsilon" }),
  /** The HF Trainer clips at 1.0 by default. */
  maxGradNorm: Type.Number({ minimum: 0, default: 1.0, description: "global gradient-norm clip (0 = off)" }),
  maxSteps: Type.Integer({ minimum: 1, description: "optimizer steps", stageFlag: "steps" }),
  saveSteps: Type.Integer({ minimum: 0, default: 200, description: "checkpoint every N steps (0 = only at the end)" }),
  saveTotalLimit: Type.Integer({ minimum: 0, default: 2, description: "checkpoints kept (0 = all)" }),
  evalSteps: Type.Integer({ minimum: 0, default: 100, description: "held-out evaluation every N steps (0 = before and after only)" }),
};

export const LoopSchema = Type.Object(LOOP_PROPERTIES);
export type LoopOptions = Static<typeof LoopSchema>;

/** Every loop option that has a default (all but maxSteps and learningRate, which each objective sets). */
export const LOOP_DEFAULTS = defaultsOf<Omit<LoopOptions, "maxSteps" | "learningRate">>(LoopSchema);
