/**
 * The training loop every objective shares: AdamW with a warmup schedule, gradient accumulation,
 * global-norm clipping, evaluation and checkpoints every N steps, resume, a JSONL log of every
 * step, clean stop on an abort signal (a checkpoint, then return), and a refusal to go on from a
 * non-finite loss (the last good checkpoint stays). The objective supplies micro-batches; the
 * loop owns the optimizer, the schedule and the files.
 *
 * Reproducibility: everything random is drawn from the objective's seeded generators, whose
 * state is saved in each checkpoint, so a resumed run continues the very same sequence of
 * batches, masks and dropout draws and ends bit-identical to an unbroken run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LoraToWrite } from "../formats/peft.js";
import { zeroGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import { configDifferences, readCheckpoint, refuseEarlierCheckpoints, removeStaleCheckpointTemps, resolveCheckpoint, TRAINER_STATE, writeCheckpoint, type TrainerState } from "./checkpoint.js";
import { AdamW } from "./optim/adamw.js";
import { validateOptions } from "./option-schema.js";
import { clipGradNorm } from "./optim/clip.js";
import { learningRate } from "./optim/schedule.js";
import { LoopSchema, type LoopOptions } from "./loop-options.js";

export interface MicroResult {
  /** The micro-batch's loss (its mean, before accumulation scaling). */
  loss: number;
  tokens: number;
  /** Extra per-step values for the log (e.g. masked tokens). */
  extra?: Record<string, number>;
}

export interface Objective {
  readonly name: string;
  /** Forward and backward of micro-batch `micro` of optimizer step `step`, its loss scaled by `lossScale` (1/accumulation). */
  microBatch(step: number, micro: number, lossScale: number): MicroResult;
  /** Metrics on held-out data (no gradients, no dropout). */
  evaluate?(): Record<string, number>;
  /** Random state and data position after `microBatches` micro-batches (the loop counts them), saved in checkpoints. */
  exportState(microBatches: number): { rng: Record<string, unknown>; dataPosition: Record<string, unknown> };
  importState(s: { rng: Record<string, unknown>; dataPosition: Record<string, unknown> }): void;
}

export interface StepRecord {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens: number;
  tokens_per_s: number;
  elapsed_s: number;
  [k: string]: number;
}

export interface EvalRecord {
  step: number;
  eval: Record<string, number>;
}

export interface LoopHooks {
  signal?: AbortSignal;
  onStep?(r: StepRecord, maxSteps: number): void;
  onEval?(r: EvalRecord): void;
  onCheckpoint?(dir: string, step: number): void;
  onMessage?(msg: string): void;
}

export interface RunSetup {
  output: string;
  /** Every option of the run (recorded; compared on resume). */
  config: Record<string, unknown>;
  modelFingerprint: string;
  params: ReadonlyMap<string, Tensor>;
  /** The current adapter, for checkpoints. */
  adapter: () => LoraToWrite;
  /** Puts a checkpoint's adapter into the live trainable tensors. */
  loadAdapter: (ckpt: ReturnType<typeof readCheckpoint>) => void;
  resume?: string;
}

export interface LoopOutcome {
  steps: number;
  stopped: boolean;
  history: StepRecord[];
  evals: EvalRecord[];
  lastCheckpoint: string | null;
  resumedFrom: string | null;
}

export const LOG_FILE = "train_log.jsonl";

export class NonFiniteLossError extends Error {}

export async function runLoop(setup: RunSetup, objective: Objective, o: LoopOptions, hooks: LoopHooks = {}): Promise<LoopOutcome> {
  validateOptions(LoopSchema, o);
  fs.mkdirSync(setup.output, { recursive: true });
  const stale = removeStaleCheckpointTemps(setup.output);
  if (stale.length) hooks.onMessage?.(`removed ${stale.length} unfinished checkpoint write(s) of an earlier run`);
  const optimizer = new AdamW(setup.params, { beta1: o.adamBeta1, beta2: o.adamBeta2, eps: o.adamEpsilon, weightDecay: o.weightDecay });
  const logFile = path.join(setup.output, LOG_FILE);
  let step = 0;
  let logLines = 0;
  let resumedFrom: string | null = null;
  const history: StepRecord[] = [];
  const evals: EvalRecord[] = [];

  if (setup.resume) {
    const dir = resolveCheckpoint(setup.resume);
    const ck = readCheckpoint(dir);
    if (ck.state.objective !== objective.name) throw new Error(`--resume ${dir}: a ${ck.state.objective} checkpoint, this run trains ${objective.name}`);
    if (ck.state.modelFingerprint !== setup.modelFingerprint) throw new Error(`--resume ${dir}: the checkpoint was trained on another base model (fingerprint ${ck.state.modelFingerprint.slice(0, 12)}…, this model ${setup.modelFingerprint.slice(0, 12)}…)`);
    const diffs = configDifferences(ck.state.config, setup.config);
    if (diffs.length) throw new Error(`--resume ${dir}: the run's options differ from the checkpoint's, so it would not continue the same run: ${diffs.join("; ")}`);
    setup.loadAdapter(ck);
    optimizer.importState(ck.optimizer, `${dir}/optimizer.safetensors`);
    try {
      objective.importState({ rng: ck.state.rng, dataPosition: ck.state.dataPosition });
    } catch (e) {
      throw new Error(`${dir}/${TRAINER_STATE}: fields "rng"/"dataPosition": ${(e as Error).message}`);
    }
    if (ck.state.step > o.maxSteps) throw new Error(`${dir}/${TRAINER_STATE}: field "step" is ${ck.state.step}, beyond this run's ${o.maxSteps} steps`);
    step = ck.state.step;
    logLines = ck.state.logLines;
    resumedFrom = dir;
    // The log keeps exactly the lines of the steps the checkpoint covers.
    if (fs.existsSync(logFile)) {
      const lines = fs.readFileSync(logFile, "utf8").split("\n").filter((l) => l.length > 0).slice(0, logLines);
      fs.writeFileSync(logFile, lines.map((l) => l + "\n").join(""));
      lines.forEach((l, i) => {
        const r = parseLogLine(l, `${logFile}: line ${i + 1}`);
        if (r.eval) evals.push(r as unknown as EvalRecord);
        else history.push(r as unknown as StepRecord);
      });
    }
    hooks.onMessage?.(`resuming from ${dir} at step ${step}`);
  } else {
    refuseEarlierCheckpoints(setup.output);
    fs.writeFileSync(logFile, "");
  }

  const appendLog = (rec: unknown) => {
    fs.appendFileSync(logFile, JSON.stringify(rec) + "\n");
    logLines++;
  };
  let lastCheckpoint: string | null = null;
  let lastLoss: number | null = history.length ? history[history.length - 1]!.loss : null;
  const save = () => {
    const s = objective.exportState(step * o.gradientAccumulation);
    const state: TrainerState = {
      format: 1,
      objective: objective.name,
      step,
      config: setup.config,
      modelFingerprint: setup.modelFingerprint,
      rng: s.rng,
      dataPosition: s.dataPosition,
      logLines,
      lastLoss,
      savedAt: new Date().toISOString(),
    };
    lastCheckpoint = writeCheckpoint(setup.output, setup.adapter(), optimizer.exportState(), state, o.saveTotalLimit);
    hooks.onCheckpoint?.(lastCheckpoint, step);
  };
  const runEval = () => {
    if (!objective.evaluate) return;
    const rec: EvalRecord = { step, eval: objective.evaluate() };
    evals.push(rec);
    appendLog(rec);
    hooks.onEval?.(rec);
  };

  if (step === 0) runEval();
  const t0 = Date.now();
  let tokensSinceStart = 0;
  let stopped = false;
  while (step < o.maxSteps) {
    if (hooks.signal?.aborted) {
      stopped = true;
      break;
    }
    const ts = Date.now();
    zeroGrad(setup.params.values());
    let loss = 0;
    let tokens = 0;
    const extra: Record<string, number> = {};
    for (let micro = 0; micro < o.gradientAccumulation; micro++) {
      let r: MicroResult;
      try {
        r = objective.microBatch(step, micro, 1 / o.gradientAccumulation);
      } catch (e) {
        const msg = (e as Error).message;
        if (/non-finite|NaN|Infinity/.test(msg))
          throw new NonFiniteLossError(`training stopped at step ${step + 1}: ${msg}; ${lastCheckpoint ?? "the last checkpoint"} is the last good state`);
        throw e;
      }
      if (!Number.isFinite(r.loss))
        throw new NonFiniteLossError(`training stopped: the loss is ${r.loss} at step ${step + 1} (micro-batch ${micro + 1}); ${lastCheckpoint ?? "the last checkpoint"} is the last good state (lower the learning rate or check the data)`);
      loss += r.loss / o.gradientAccumulation;
      tokens += r.tokens;
      for (const [k, v] of Object.entries(r.extra ?? {})) extra[k] = (extra[k] ?? 0) + v;
    }
    const gradNorm = clipGradNorm(setup.params.values(), o.maxGradNorm);
    if (!Number.isFinite(gradNorm)) throw new NonFiniteLossError(`training stopped: the gradient norm is ${gradNorm} at step ${step + 1}; the last good state is ${lastCheckpoint ?? "the last checkpoint"}`);
    const lr = learningRate({ kind: o.scheduler, peakLr: o.learningRate, warmupSteps: o.warmupSteps, totalSteps: o.maxSteps }, step);
    optimizer.step(lr);
    step++;
    lastLoss = loss;
    tokensSinceStart += tokens;
    const elapsed = (Date.now() - t0) / 1000;
    const rec: StepRecord = { step, loss, lr, grad_norm: gradNorm, tokens, tokens_per_s: tokens / Math.max(1e-9, (Date.now() - ts) / 1000), elapsed_s: elapsed, ...extra };
    history.push(rec);
    appendLog(rec);
    hooks.onStep?.(rec, o.maxSteps);
    if (o.evalSteps > 0 && step % o.evalSteps === 0 && step < o.maxSteps) runEval();
    if (o.saveSteps > 0 && step % o.saveSteps === 0 && step < o.maxSteps) save();
    // Let signals (Ctrl-C) and progress output through between steps.
    await new Promise((r) => setImmediate(r));
  }
  if (!stopped) runEval();
  save();
  return { steps: step, stopped, history, evals, lastCheckpoint, resumedFrom };
}

/** One record of train_log.jsonl: a step ({step, loss, …}) or an evaluation ({step, eval}). */
function parseLogLine(line: string, where: string): Record<string, unknown> {
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch (e) {
    throw new Error(`${where}: not JSON (${(e as Error).message}); the log does not match the checkpoint`);
  }
  const o = r as Record<string, unknown>;
  const ok = typeof r === "object" && r !== null && Number.isInteger(o.step) && (o.eval !== undefined ? typeof o.eval === "object" && o.eval !== null : typeof o.loss === "number");
  if (!ok) throw new Error(`${where}: not a step or evaluation record (expected {"step", "loss", …} or {"step", "eval"})`);
  return o;
}
