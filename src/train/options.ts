/**
 * Options every LoRA training run shares (the loop, the optimizer, LoRA, checkpoints), with the
 * HF Trainer's defaults; each objective (MNTP, SimCSE, supervised) adds its own and overrides the
 * defaults its reference config sets. Validation names the CLI flag.
 */
import type { QuantizeOption } from "../tensor/quant.js";
import type { ComputeDtype } from "../tensor/compute.js";
import { LINEAR_MODULES } from "../models/spec.js";
import { PROJECTION_NAMES } from "../models/names.js";
import { ADAMW_DEFAULTS } from "./optim/adamw.js";
import type { ScheduleKind } from "./optim/schedule.js";
import type { LoopOptions } from "./loop.js";

export interface CommonTrainOptions {
  /** Base model folder (Hugging Face layout). */
  model: string;
  /** Adapters merged into the base before training (SimCSE: the MNTP adapter). */
  adapter?: string[];
  /** The base when `model` is a PEFT adapter folder without weights (default: its base_model_name_or_path). */
  base?: string;
  data: string[];
  output: string;
  batchSize: number;
  gradientAccumulation: number;
  maxLength: number;
  bidirectional: boolean;
  loraR: number;
  loraAlpha: number;
  loraDropout: number;
  loraTargets: string[];
  learningRate: number;
  warmupSteps: number;
  scheduler: ScheduleKind;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  maxGradNorm: number;
  maxSteps: number;
  saveSteps: number;
  saveTotalLimit: number;
  evalSteps: number;
  seed: number;
  gradientCheckpointing: boolean;
  /** The compute dtype of the matrix products (forward and backward): f32, or bf16 as PyTorch's bf16 autocast. */
  computeDtype: ComputeDtype;
  /** Quantize the frozen base's projections at load (QLoRA-style: the LoRA adapters train in f32 over them). */
  quantize?: QuantizeOption;
  /** Continue from a checkpoint folder or a run's output folder. */
  resume?: string;
  /** A fresh run into a folder holding an earlier run: remove that run's checkpoints and files first. */
  overwrite?: boolean;
}

/** LoRA as the reference's initialize_peft (r 16, alpha 32, dropout 0.05, all seven projections) and the HF Trainer's optimizer. */
export const COMMON_DEFAULTS: Omit<CommonTrainOptions, "model" | "data" | "output" | "batchSize" | "maxLength" | "learningRate" | "maxSteps"> = {
  gradientAccumulation: 1,
  bidirectional: true,
  loraR: 16,
  loraAlpha: 32,
  loraDropout: 0.05,
  loraTargets: [...LINEAR_MODULES],
  warmupSteps: 0,
  scheduler: "linear",
  weightDecay: ADAMW_DEFAULTS.weightDecay,
  adamBeta1: ADAMW_DEFAULTS.beta1,
  adamBeta2: ADAMW_DEFAULTS.beta2,
  adamEpsilon: ADAMW_DEFAULTS.eps,
  maxGradNorm: 1.0,
  saveSteps: 200,
  saveTotalLimit: 2,
  evalSteps: 100,
  seed: 42,
  gradientCheckpointing: false,
  computeDtype: "f32",
};

export function loopOptions(o: CommonTrainOptions): LoopOptions {
  return {
    maxSteps: o.maxSteps,
    learningRate: o.learningRate,
    warmupSteps: o.warmupSteps,
    scheduler: o.scheduler,
    gradientAccumulation: o.gradientAccumulation,
    maxGradNorm: o.maxGradNorm,
    adam: { beta1: o.adamBeta1, beta2: o.adamBeta2, eps: o.adamEpsilon, weightDecay: o.weightDecay },
    saveSteps: o.saveSteps,
    saveTotalLimit: o.saveTotalLimit,
    evalSteps: o.evalSteps,
  };
}

export function validateCommon(o: CommonTrainOptions): void {
  const int = (k: keyof CommonTrainOptions, min = 1) => {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < min) throw new Error(`--${kebab(k)} must be an integer ≥ ${min}, got ${v}`);
  };
  int("maxLength", 2);
  int("batchSize");
  int("loraR");
  if (!Array.isArray(o.data) || o.data.length === 0) throw new Error("--data: give at least one data file");
  if (!(o.loraAlpha > 0)) throw new Error(`--lora-alpha must be positive, got ${o.loraAlpha}`);
  if (!(o.loraDropout >= 0 && o.loraDropout < 1)) throw new Error(`--lora-dropout must be in [0, 1), got ${o.loraDropout}`);
  for (const t of o.loraTargets) if (!(PROJECTION_NAMES as readonly string[]).includes(t)) throw new Error(`--lora-targets: unknown projection "${t}" (choose from ${PROJECTION_NAMES.join(", ")})`);
  if (!Number.isInteger(o.seed)) throw new Error(`--seed must be an integer, got ${o.seed}`);
  if (o.scheduler !== "linear" && o.scheduler !== "constant") throw new Error(`--scheduler must be linear or constant, got ${o.scheduler}`);
}

export function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
