/**
 * What every LoRA objective does around its loss: load the base (adapters merged), put a fresh
 * LoRA on it, run the shared loop with checkpoints and resume, and write the finished folder
 * (PEFT adapter at its root, tokenizer, llm2vec_config.json, training_config.json, metrics.json,
 * the loss curve and report.html). An interrupted run writes no adapter at the root, so a folder
 * holding one is always a finished run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { atomicWriteText } from "../formats/atomic.js";
import { hfConfigPath, readHfConfig } from "../formats/hf-folder.js";
import { lockFolder } from "../formats/folder-lock.js";
import { refuseOutputOverlap } from "../formats/real-path.js";
import { writeLoraAdapterFiles, type LoraToWrite } from "../formats/peft.js";
import { LLM2Vec, type FromPretrainedOptions } from "../encoder/llm2vec.js";
import { CONFIG_FILE, configFileJson } from "../encoder/options.js";
import { attachedLoraTensors, injectLora, loadAttachedLora, resolveLoraTargets } from "../models/lora.js";
import { readQuantizationConfig } from "../models/quantized-folder.js";
import type { Tensor } from "../tensor/tensor.js";
import { modelFingerprint } from "./fingerprint.js";
import { refuseEarlierCheckpoints, removeCheckpoints } from "./checkpoint.js";
import { LOG_FILE, runLoop, type EvalRecord, type LoopHooks, type LoopOutcome, type Objective, type StepRecord } from "./loop.js";
import type { CommonTrainOptions } from "./options.js";
import { renderLossCurve, renderTrainingReport } from "./report.js";

export interface LoraRun {
  enc: LLM2Vec;
  params: Map<string, Tensor>;
  adapter: () => LoraToWrite;
  /** Gives up the output folder's lock: call when the run is over (finished, stopped or failed). */
  release: () => void;
}

/** What a run writes at the root of its output folder, besides checkpoints/ (--overwrite removes these, nothing else). */
const RUN_FILES = ["adapter_config.json", "adapter_model.safetensors", CONFIG_FILE, "training_config.json", "metrics.json", "loss_curve.svg", "report.html", LOG_FILE];

/**
 * Checks the output folder, takes its lock (another run on the same folder is refused until this
 * one releases it), loads the base with its adapters merged and injects a fresh trainable LoRA.
 * A fresh run refuses a folder holding an earlier run (a finished adapter or checkpoints) unless
 * `overwrite`, which removes that run's files first.
 */
export async function startLoraRun(o: CommonTrainOptions, encoderOptions: FromPretrainedOptions = {}): Promise<LoraRun> {
  if (o.resume && o.overwrite) throw new Error("--resume and --overwrite exclude each other: resume continues the run in --output, overwrite starts it over");
  refuseAdapterOverQuantizedFolder(o);
  refuseOutputOverlap(o.output, "--output", [{ flag: "--model", dir: o.model }, ...(o.adapter ?? []).map((dir) => ({ flag: "--adapter", dir }))]);
  ensureWritableFolder(o.output);
  const lock = lockFolder(o.output, "training");
  try {
    if (!o.resume) {
      if (o.overwrite) {
        removeCheckpoints(o.output);
        for (const f of RUN_FILES) fs.rmSync(path.join(o.output, f), { force: true });
      } else {
        if (fs.existsSync(path.join(o.output, "adapter_config.json"))) throw new Error(`${o.output}: holds a finished adapter already; choose another --output, --resume it, or pass --overwrite to replace it`);
        refuseEarlierCheckpoints(o.output);
      }
    }
    const enc = await LLM2Vec.fromPretrained(o.model, { ...encoderOptions, adapter: o.adapter, base: o.base, mergeAdapter: true, bidirectional: o.bidirectional, computeDtype: o.computeDtype, quantize: o.quantize });
    const params = injectLora(enc.model, { r: o.loraR, alpha: o.loraAlpha, dropout: o.loraDropout, targets: o.loraTargets, seed: o.seed });
    if (params.size === 0) throw new Error(`--lora-targets ${o.loraTargets.join(",")}: no projection of this model matches`);
    const adapter = (): LoraToWrite => ({
      r: o.loraR,
      loraAlpha: o.loraAlpha,
      loraDropout: o.loraDropout,
      targetModules: resolveLoraTargets(enc.model, o.loraTargets),
      // A Hub id stays an id (the adapter then loads anywhere); a local folder becomes absolute.
        baseModelNameOrPath: fs.existsSync(o.model) ? path.resolve(o.model) : o.model,
      layers: attachedLoraTensors(enc.model),
    });
    return { enc, params, adapter, release: lock.release };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * `--adapter` merges its adapters into the base weights before training; a folder saved quantized
 * (models/quantized-folder.ts) holds no float weights to merge into, so it is refused up front,
 * naming the flag. Training LoRA over such a folder without `--adapter` is QLoRA as `--quantize` is.
 */
function refuseAdapterOverQuantizedFolder(o: CommonTrainOptions): void {
  if (!o.adapter?.length || !fs.existsSync(hfConfigPath(o.model))) return;
  const kind = readQuantizationConfig(readHfConfig(o.model), hfConfigPath(o.model));
  if (kind) throw new Error(`--adapter: ${o.model} is saved quantized (${kind}), and --adapter would merge into its base weights before training; give --model its f32/bf16 checkpoint, or train over this one without --adapter`);
}

export interface FinishedRun {
  outcome: LoopOutcome;
  metrics: Record<string, unknown>;
}

/** Runs the loop for `objective` and writes the finished folder (or, when stopped, only metrics). */
export async function runLoraTraining(
  run: LoraRun,
  o: CommonTrainOptions,
  objective: Objective,
  config: Record<string, unknown>,
  hooks: LoopHooks,
  meta: { title: string; extraMetrics: (outcome: LoopOutcome) => Record<string, unknown>; writeEncoderConfig: boolean },
): Promise<FinishedRun> {
  const t0 = Date.now();
  const outcome = await runLoop(
    {
      output: o.output,
      config,
      modelFingerprint: modelFingerprint(run.enc.model, { config: run.enc.rawConfig, mergedAdapters: (o.adapter ?? []).map((a) => path.resolve(a)) }),
      params: run.params,
      adapter: run.adapter,
      loadAdapter: (ck) => loadAttachedLora(run.enc.model, ck.adapter, ck.dir),
      resume: o.resume,
    },
    objective,
    o,
    hooks,
  );
  const trainTokens = outcome.history.reduce((s, r) => s + r.tokens, 0);
  const trainSeconds = outcome.history.at(-1)?.elapsed_s ?? 0;
  const metrics: Record<string, unknown> = {
    steps: outcome.steps,
    stopped_early: outcome.stopped,
    final_train_loss: outcome.history.at(-1)?.loss ?? null,
    ...meta.extraMetrics(outcome),
    train_tokens_this_session: trainTokens,
    train_tokens_per_s: trainSeconds > 0 ? trainTokens / trainSeconds : null,
    wall_s: (Date.now() - t0) / 1000,
    trainable_parameters: [...run.params.values()].reduce((s, p) => s + p.size, 0),
  };
  if (outcome.stopped) atomicWriteText(path.join(o.output, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
  else writeFinishedFolder(o.output, run, config, metrics, outcome.history, outcome.evals, meta);
  return { outcome, metrics };
}

function writeFinishedFolder(
  dir: string,
  run: LoraRun,
  config: Record<string, unknown>,
  metrics: Record<string, unknown>,
  history: readonly StepRecord[],
  evals: readonly EvalRecord[],
  meta: { title: string; writeEncoderConfig: boolean },
): void {
  writeLoraAdapterFiles(dir, run.adapter());
  for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) {
    const src = path.join(run.enc.tokenizerDir, f);
    if (fs.existsSync(src)) fs.copyFileSync(src, path.join(dir, f));
  }
  // The encoder settings the adapter was trained with (pooling, attention, instruction handling), so
  // loading base + adapter encodes the same way. Not the lengths: the training cut (128 tokens for
  // SimCSE) is no inference setting, and recording it would truncate every later input.
  if (meta.writeEncoderConfig) {
    const { max_length: _m, doc_max_length: _d, ...encoderConfig } = configFileJson(run.enc.options);
    atomicWriteText(path.join(dir, CONFIG_FILE), JSON.stringify(encoderConfig, null, 2) + "\n");
  }
  atomicWriteText(path.join(dir, "training_config.json"), JSON.stringify(config, null, 2) + "\n");
  atomicWriteText(path.join(dir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
  atomicWriteText(path.join(dir, "loss_curve.svg"), renderLossCurve(history, evals, `${meta.title} loss`) + "\n");
  atomicWriteText(path.join(dir, "report.html"), renderTrainingReport({ title: meta.title, config, metrics, history, evals }));
}

/** Creates the output folder and proves it writable before any work (not after an hour of training). */
export function ensureWritableFolder(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.write-test-${process.pid}`);
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (e) {
    throw new Error(`--output ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
