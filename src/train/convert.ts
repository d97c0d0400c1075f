/**
 * `convert`: the whole LLM2Vec recipe in one call — bidirectional attention → MNTP → SimCSE
 * (→ supervised, when its data is given) — each stage a LoRA run in its own folder under the
 * output (mntp/, simcse/, supervised/, with its config, metrics, loss curve and report), the
 * adapters then merged into `model/`, a Hugging Face folder that encode, eval and serve load
 * directly (or, with merge off, llm2vec_config.json + the adapters' list to stack at load).
 *
 * A stopped convert resumes at the stage and step where it stopped: finished stages (their
 * folder holds an adapter) are kept, the unfinished one continues from its latest checkpoint.
 * The options are recorded in convert.json; resuming with other data or options is refused,
 * naming what differs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { atomicWriteText } from "../formats/atomic.js";
import { lockFolder } from "../formats/folder-lock.js";
import { saveModelFolder } from "../formats/model-folder.js";
import { refuseOutputOverlap } from "../formats/real-path.js";
import { LLM2Vec } from "../encoder/llm2vec.js";
import { configDifferences, listCheckpoints } from "./checkpoint.js";
import { trainSimcse, type SimcseOptions } from "./contrastive/train-simcse.js";
import { trainSupervised, type SupervisedOptions } from "./contrastive/train-supervised.js";
import type { LoopHooks } from "./loop.js";
import { trainMntp, type MntpOptions } from "./mntp/train.js";
import { ensureWritableFolder } from "./lora-run.js";

type StageName = "mntp" | "simcse" | "supervised";

export interface ConvertOptions {
  model: string;
  /** Unlabelled text for MNTP (and for SimCSE unless simcseData is given). */
  data: string[];
  simcseData?: string[];
  /** JSONL pairs: adds the supervised stage. */
  supervisedData?: string[];
  output: string;
  /** Per-stage overrides of the trainers' defaults (steps, batch, learning rate, …). */
  mntp?: Partial<MntpOptions>;
  simcse?: Partial<SimcseOptions>;
  supervised?: Partial<SupervisedOptions>;
  /** Write the merged model folder (default) or leave base + adapters. */
  merge?: boolean;
  resume?: boolean;
}

export interface StageHooks {
  /** Called when a stage starts, with its index and the list of stages. */
  onStage?(stage: StageName, index: number, stages: StageName[], maxSteps: number): void;
}

const STATE_FILE = "convert.json";

export interface ConvertResult {
  output: string;
  stages: { name: StageName; dir: string; metrics: Record<string, unknown> | null; skipped: boolean }[];
  modelDir: string | null;
  stopped: boolean;
  wallSeconds: number;
}

function stageDone(dir: string): boolean {
  return fs.existsSync(path.join(dir, "adapter_config.json"));
}

export async function convert(o: ConvertOptions, hooks: LoopHooks & StageHooks = {}): Promise<ConvertResult> {
  const t0 = Date.now();
  refuseOutputOverlap(o.output, "--output", [{ flag: "--model", dir: o.model }]);
  ensureWritableFolder(o.output);
  // The run folder's lock; each stage also locks its own subfolder.
  const lock = lockFolder(o.output, "convert");
  try {
    return await convertLocked(o, hooks, t0);
  } finally {
    lock.release();
  }
}

async function convertLocked(o: ConvertOptions, hooks: LoopHooks & StageHooks, t0: number): Promise<ConvertResult> {
  const stateFile = path.join(o.output, STATE_FILE);
  const recorded = { model: path.resolve(o.model), data: o.data.map((f) => path.resolve(f)), simcseData: (o.simcseData ?? o.data).map((f) => path.resolve(f)), supervisedData: (o.supervisedData ?? []).map((f) => path.resolve(f)), mntp: o.mntp ?? {}, simcse: o.simcse ?? {}, supervised: o.supervised ?? {}, merge: o.merge ?? true };
  if (fs.existsSync(stateFile)) {
    if (!o.resume) throw new Error(`${o.output}: holds a convert run already (${STATE_FILE}); pass --resume to continue it or choose another --output`);
    const saved = JSON.parse(fs.readFileSync(stateFile, "utf8"));
    const diffs = configDifferences(saved, recorded as unknown as Record<string, unknown>);
    if (diffs.length) throw new Error(`--resume ${o.output}: the data or options differ from the run being resumed: ${diffs.join("; ")}`);
  } else atomicWriteText(stateFile, JSON.stringify(recorded, null, 2) + "\n");

  const stages: StageName[] = ["mntp", "simcse", ...(o.supervisedData?.length ? (["supervised"] as const) : [])];
  const result: ConvertResult = { output: o.output, stages: [], modelDir: null, stopped: false, wallSeconds: 0 };
  const adapters: string[] = [];
  for (const [i, name] of stages.entries()) {
    const dir = path.join(o.output, name);
    if (stageDone(dir)) {
      hooks.onMessage?.(`${name}: finished earlier, kept (${dir})`);
      result.stages.push({ name, dir, metrics: readJson(path.join(dir, "metrics.json")), skipped: true });
      adapters.push(dir);
      continue;
    }
    const resume = listCheckpoints(dir).length ? dir : undefined;
    // The stages stack: each trains a fresh LoRA on the base with every earlier adapter merged
    // (SimCSE on base + MNTP; supervised on base + MNTP + SimCSE, the paper's "w/ SimCSE" row).
    const common = { model: o.model, output: dir, adapter: [...adapters], resume };
    const stageHooks: LoopHooks = { ...hooks, onMessage: (m) => hooks.onMessage?.(`${name}: ${m}`) };
    let r: { stopped: boolean; metrics: Record<string, unknown>; steps: number };
    if (name === "mntp") {
      hooks.onStage?.(name, i, stages, o.mntp?.maxSteps ?? 1000);
      r = await trainMntp({ ...o.mntp, ...common, data: o.data }, stageHooks);
    } else if (name === "simcse") {
      hooks.onStage?.(name, i, stages, o.simcse?.maxSteps ?? 1000);
      r = await trainSimcse({ ...o.simcse, ...common, data: o.simcseData ?? o.data }, stageHooks);
    } else {
      hooks.onStage?.(name, i, stages, o.supervised?.maxSteps ?? 1000);
      r = await trainSupervised({ ...o.supervised, ...common, data: o.supervisedData! }, stageHooks);
    }
    result.stages.push({ name, dir, metrics: r.metrics, skipped: false });
    if (r.stopped) {
      result.stopped = true;
      result.wallSeconds = (Date.now() - t0) / 1000;
      return result;
    }
    adapters.push(dir);
  }
  // The encoder: the base with every stage's adapter, merged in order.
  const final = adapters;
  if (o.merge ?? true) {
    const modelDir = path.join(o.output, "model");
    const enc = await LLM2Vec.fromPretrained(o.model, { adapter: final, mergeAdapter: true });
    saveModelFolder(enc, o.model, modelDir, true);
    result.modelDir = modelDir;
  } else {
    atomicWriteText(path.join(o.output, "adapters.json"), JSON.stringify({ base: path.resolve(o.model), adapters: final.map((a) => path.resolve(a)) }, null, 2) + "\n");
  }
  result.wallSeconds = (Date.now() - t0) / 1000;
  atomicWriteText(path.join(o.output, "convert_result.json"), JSON.stringify({ ...result, finishedAt: new Date().toISOString() }, null, 2) + "\n");
  return result;
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}
