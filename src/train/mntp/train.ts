/**
 * `trainMntp`: masked next-token prediction with LoRA (llm2vec.md §1b), the first step of the
 * LLM2Vec recipe after switching on bidirectional attention. Defaults are the reference's
 * (train_configs/mntp/*.json + HF Trainer defaults); every one is an option.
 *
 * Data: documents packed into full blocks of maxLength tokens (group_texts); a held-out part
 * (whole documents, or separate files) masked once with a fixed seed, so every evaluation scores
 * the same positions. Each training micro-batch g takes blocks [g·B, g·B + B) of a per-epoch
 * seeded permutation, is masked by a generator whose state goes into each checkpoint, and draws
 * LoRA dropout from seed ⊕ g: a resumed run sees exactly the batches, masks and dropout of an
 * unbroken one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { atomicWriteText } from "../../formats/atomic.js";
import { writeLoraAdapterFiles, type LoraToWrite } from "../../formats/peft.js";
import { LLM2Vec } from "../../encoder/llm2vec.js";
import { attachedLoraTensors, injectLora, loadAttachedLora } from "../../models/lora.js";
import { LINEAR_MODULES } from "../../models/spec.js";
import { backward, noGrad } from "../../tensor/autograd.js";
import { fmix32 } from "../../tensor/backend/types.js";
import { Rng } from "../../tensor/random.js";
import { packBlocks, type TokenBlocks } from "../data/blocks.js";
import { readCorpus, splitDocuments } from "../data/corpus.js";
import { modelFingerprint } from "../fingerprint.js";
import { runLoop, type LoopHooks, type LoopOutcome, type Objective } from "../loop.js";
import { ADAMW_DEFAULTS } from "../optim/adamw.js";
import type { ScheduleKind } from "../optim/schedule.js";
import { renderLossCurve, renderTrainingReport } from "../report.js";
import { maskTokens, resolveMaskToken, type MaskStrategy } from "./masking.js";
import { mntpLoss } from "./objective.js";

export interface MntpOptions {
  /** Base model folder (Hugging Face layout). */
  model: string;
  /** Adapters merged into the base before training (rarely needed for MNTP). */
  adapter?: string[];
  data: string[];
  output: string;
  /** Held-out files; without them evalFraction of the documents is held out. */
  evalData?: string[];
  evalFraction: number;
  /** At most this many held-out blocks are scored per evaluation. */
  maxEvalBlocks: number;
  detokenizeWikitext: boolean;
  maxLength: number;
  batchSize: number;
  gradientAccumulation: number;
  maskProbability: number;
  maskStrategy: MaskStrategy;
  /** "blank" (the literal `_`), "eos", or a token string. */
  maskToken: string;
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
  /** Continue from a checkpoint folder or a run's output folder. */
  resume?: string;
}

/** The reference's MNTP settings (Sheared-LLaMA / Llama configs; lr = HF default 5e-5). */
export const MNTP_DEFAULTS: Omit<MntpOptions, "model" | "data" | "output"> = {
  evalFraction: 0.05,
  maxEvalBlocks: 64,
  detokenizeWikitext: false,
  maxLength: 512,
  batchSize: 32,
  gradientAccumulation: 1,
  maskProbability: 0.2,
  maskStrategy: "bert",
  maskToken: "blank",
  bidirectional: true,
  loraR: 16,
  loraAlpha: 32,
  loraDropout: 0.05,
  loraTargets: [...LINEAR_MODULES],
  learningRate: 5e-5,
  warmupSteps: 0,
  scheduler: "linear",
  weightDecay: ADAMW_DEFAULTS.weightDecay,
  adamBeta1: ADAMW_DEFAULTS.beta1,
  adamBeta2: ADAMW_DEFAULTS.beta2,
  adamEpsilon: ADAMW_DEFAULTS.eps,
  maxGradNorm: 1.0,
  maxSteps: 1000,
  saveSteps: 200,
  saveTotalLimit: 2,
  evalSteps: 100,
  seed: 42,
  gradientCheckpointing: false,
};

export interface MntpResult extends LoopOutcome {
  output: string;
  metrics: Record<string, unknown>;
  maskToken: { id: number; token: string };
}

export async function trainMntp(options: Partial<MntpOptions> & Pick<MntpOptions, "model" | "data" | "output">, hooks: LoopHooks = {}): Promise<MntpResult> {
  const o = { ...MNTP_DEFAULTS, ...stripUndefined(options) } as MntpOptions;
  validate(o);
  ensureWritableFolder(o.output);
  if (!o.resume && fs.existsSync(path.join(o.output, "adapter_config.json"))) throw new Error(`${o.output}: holds a finished adapter already; choose another --output or --resume it`);
  const enc = await LLM2Vec.fromPretrained(o.model, { adapter: o.adapter, mergeAdapter: true });
  const { model, tokenizer: tok } = enc;
  const say = hooks.onMessage ?? (() => {});
  if (o.maxLength > model.spec.maxPositions) say(`note: --max-length ${o.maxLength} exceeds the model's max_position_embeddings ${model.spec.maxPositions}`);

  const mask = resolveMaskToken(tok, o.maskToken);
  if (mask.id >= model.spec.vocabSize) throw new Error(`--mask-token ${o.maskToken}: id ${mask.id} is outside the model's vocabulary of ${model.spec.vocabSize}`);
  say(`mask token ${JSON.stringify(mask.token)} (id ${mask.id}), ${o.maskStrategy} strategy, p = ${o.maskProbability}`);

  // Data: held-out documents first (whole documents), then blocks.
  const docs = readCorpus(o.data, { detokenizeWikitext: o.detokenizeWikitext });
  let trainDocs = docs;
  let heldDocs = o.evalData?.length ? readCorpus(o.evalData, { detokenizeWikitext: o.detokenizeWikitext }) : [];
  if (!o.evalData?.length && o.evalFraction > 0) ({ train: trainDocs, held: heldDocs } = splitDocuments(docs, o.evalFraction, new Rng(o.seed ^ 0x5eed).permutation(docs.length)));
  const train = packBlocks(tok, trainDocs, o.maxLength);
  if (train.count < o.batchSize) say(`note: ${train.count} training blocks, fewer than one batch of ${o.batchSize}: batches repeat blocks across epochs`);
  const held = heldDocs.length ? packBlocks(tok, heldDocs, o.maxLength, "held-out data") : null;
  say(`${train.count} training blocks of ${o.maxLength} tokens (${train.totalTokens} tokens, ${train.droppedTokens} in the final partial block dropped)` + (held ? `; ${Math.min(held.count, o.maxEvalBlocks)} held-out blocks` : ""));

  const params = injectLora(model, { r: o.loraR, alpha: o.loraAlpha, dropout: o.loraDropout, targets: o.loraTargets, seed: o.seed });
  if (params.size === 0) throw new Error(`--lora-targets ${o.loraTargets.join(",")}: no projection of this model matches`);
  const pass = { mode: o.bidirectional ? ("bidirectional" as const) : ("causal" as const), padTokenId: tok.padTokenId ?? 0, checkpointLayers: o.gradientCheckpointing };
  const maskOpts = { probability: o.maskProbability, strategy: o.maskStrategy, maskTokenId: mask.id, randomVocab: Math.min(tok.vocabSize, model.spec.vocabSize) };

  const evalBatches = held ? maskedEvalBatches(held, Math.min(held.count, o.maxEvalBlocks), o.batchSize, maskOpts, new Rng(o.seed ^ 0xe7a1)) : [];
  const batcher = new BlockBatcher(train, o.batchSize, o.seed);
  let maskRng = new Rng(o.seed);
  let microBatches = 0;
  const objective: Objective = {
    name: "mntp",
    microBatch(step, micro, lossScale) {
      const g = step * o.gradientAccumulation + micro;
      microBatches = g + 1;
      const { ids, special } = batcher.batch(g);
      const m = maskTokens(ids, special, maskOpts, maskRng);
      const out = mntpLoss(model, { inputIds: m.inputIds, labels: m.labels, B: o.batchSize, T: o.maxLength }, { ...pass, training: true, seed: fmix32(o.seed ^ fmix32(g + 1)) });
      const loss = out.loss.f32[0]!;
      if (out.loss.requiresGrad && Number.isFinite(loss)) backward(out.loss, Float32Array.of(lossScale));
      return { loss, tokens: ids.length, extra: { masked: out.predicted, accuracy: out.predicted ? out.correct / out.predicted : 0 } };
    },
    evaluate: evalBatches.length
      ? () =>
          noGrad(() => {
            let lossSum = 0;
            let n = 0;
            let correct = 0;
            for (const b of evalBatches) {
              const out = mntpLoss(model, b, { ...pass, training: false, checkpointLayers: false });
              lossSum += out.loss.f32[0]! * out.predicted;
              n += out.predicted;
              correct += out.correct;
            }
            return { loss: n ? lossSum / n : NaN, accuracy: n ? correct / n : NaN, masked: n };
          })
      : undefined,
    exportState: () => ({ rng: { mask: maskRng.getState() }, dataPosition: { microBatches, ...batcher.position(microBatches) } }),
    importState(s) {
      maskRng = Rng.fromState(s.rng.mask as number);
      microBatches = s.dataPosition.microBatches as number;
    },
  };

  const config = { objective: "mntp", ...o, adapter: o.adapter ?? [] } as Record<string, unknown>;
  const adapter = (): LoraToWrite => ({
    r: o.loraR,
    loraAlpha: o.loraAlpha,
    loraDropout: o.loraDropout,
    targetModules: o.loraTargets,
    baseModelNameOrPath: path.resolve(o.model),
    layers: attachedLoraTensors(model),
  });
  const t0 = Date.now();
  const outcome = await runLoop(
    {
      output: o.output,
      config,
      modelFingerprint: modelFingerprint(model, enc.rawConfig),
      params,
      adapter,
      loadAdapter: (ck) => loadAttachedLora(model, ck.adapter, ck.dir),
      resume: o.resume,
    },
    objective,
    {
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
    },
    hooks,
  );

  const before = outcome.evals.find((e) => e.step === 0)?.eval ?? null;
  const after = outcome.evals.length ? outcome.evals[outcome.evals.length - 1]!.eval : null;
  const trainTokens = outcome.history.reduce((s, r) => s + r.tokens, 0);
  const trainSeconds = outcome.history.length ? outcome.history[outcome.history.length - 1]!.elapsed_s : 0;
  const metrics: Record<string, unknown> = {
    steps: outcome.steps,
    stopped_early: outcome.stopped,
    final_train_loss: outcome.history.at(-1)?.loss ?? null,
    heldout_loss_before: before?.loss ?? null,
    heldout_accuracy_before: before?.accuracy ?? null,
    heldout_loss_after: after?.loss ?? null,
    heldout_accuracy_after: after?.accuracy ?? null,
    heldout_masked_tokens: after?.masked ?? null,
    train_tokens_this_session: trainTokens,
    train_tokens_per_s: trainSeconds > 0 ? trainTokens / trainSeconds : null,
    wall_s: (Date.now() - t0) / 1000,
    mask_token: mask.token,
    training_blocks: train.count,
    trainable_parameters: [...params.values()].reduce((s, p) => s + p.size, 0),
  };
  if (!outcome.stopped) writeFinalOutput(o.output, adapter(), enc.tokenizerDir, config, metrics, outcome);
  else atomicWriteText(path.join(o.output, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
  return { ...outcome, output: o.output, metrics, maskToken: mask };
}

/** The finished run: the adapter (PEFT files) at the output's root, tokenizer, config, metrics, report. */
function writeFinalOutput(dir: string, adapter: LoraToWrite, tokenizerDir: string, config: Record<string, unknown>, metrics: Record<string, unknown>, outcome: LoopOutcome): void {
  writeLoraAdapterFiles(dir, adapter);
  for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) {
    const src = path.join(tokenizerDir, f);
    if (fs.existsSync(src)) fs.copyFileSync(src, path.join(dir, f));
  }
  atomicWriteText(path.join(dir, "training_config.json"), JSON.stringify(config, null, 2) + "\n");
  atomicWriteText(path.join(dir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
  atomicWriteText(path.join(dir, "loss_curve.svg"), renderLossCurve(outcome.history, outcome.evals, "MNTP loss") + "\n");
  atomicWriteText(path.join(dir, "report.html"), renderTrainingReport({ title: "MNTP training", config, metrics, history: outcome.history, evals: outcome.evals }));
}

/** Micro-batch g = blocks [g·B, g·B + B) of the concatenation of per-epoch seeded permutations. */
class BlockBatcher {
  private perms = new Map<number, number[]>();
  constructor(
    private readonly blocks: TokenBlocks,
    private readonly B: number,
    private readonly seed: number,
  ) {}

  private perm(epoch: number): number[] {
    let p = this.perms.get(epoch);
    if (!p) {
      p = new Rng(fmix32(this.seed ^ fmix32(epoch + 0x9e37))).permutation(this.blocks.count);
      this.perms.clear();
      this.perms.set(epoch, p);
    }
    return p;
  }

  position(g: number): { epoch: number; offset: number } {
    const at = g * this.B;
    return { epoch: Math.floor(at / this.blocks.count), offset: at % this.blocks.count };
  }

  batch(g: number): { ids: Int32Array; special: Uint8Array } {
    const S = this.blocks.blockSize;
    const ids = new Int32Array(this.B * S);
    const special = new Uint8Array(this.B * S);
    for (let i = 0; i < this.B; i++) {
      const at = g * this.B + i;
      const blk = this.perm(Math.floor(at / this.blocks.count))[at % this.blocks.count]!;
      ids.set(this.blocks.ids.subarray(blk * S, (blk + 1) * S), i * S);
      special.set(this.blocks.special.subarray(blk * S, (blk + 1) * S), i * S);
    }
    return { ids, special };
  }
}

function maskedEvalBatches(held: TokenBlocks, count: number, B: number, maskOpts: Parameters<typeof maskTokens>[2], rng: Rng) {
  const S = held.blockSize;
  const out: { inputIds: Int32Array; labels: Int32Array; B: number; T: number }[] = [];
  for (let start = 0; start < count; start += B) {
    const n = Math.min(B, count - start);
    const m = maskTokens(held.ids.subarray(start * S, (start + n) * S), held.special.subarray(start * S, (start + n) * S), maskOpts, rng);
    out.push({ inputIds: m.inputIds, labels: m.labels, B: n, T: S });
  }
  return out;
}

function validate(o: MntpOptions): void {
  const posInt = (k: keyof MntpOptions, min = 1) => {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < min) throw new Error(`--${kebab(k)} must be an integer ≥ ${min}, got ${v}`);
  };
  posInt("maxLength", 2);
  posInt("batchSize");
  posInt("loraR");
  posInt("maxEvalBlocks");
  if (!(o.maskProbability > 0 && o.maskProbability < 1)) throw new Error(`--mask-prob must be in (0, 1), got ${o.maskProbability}`);
  if (o.maskStrategy !== "bert" && o.maskStrategy !== "all_mask") throw new Error(`--mask-strategy must be bert or all_mask, got ${o.maskStrategy}`);
  if (!(o.loraAlpha > 0)) throw new Error(`--lora-alpha must be positive, got ${o.loraAlpha}`);
  if (!(o.loraDropout >= 0 && o.loraDropout < 1)) throw new Error(`--lora-dropout must be in [0, 1), got ${o.loraDropout}`);
  for (const t of o.loraTargets) if (!(LINEAR_MODULES as readonly string[]).includes(t)) throw new Error(`--lora-targets: unknown projection "${t}" (choose from ${LINEAR_MODULES.join(", ")})`);
  if (!Number.isInteger(o.seed)) throw new Error(`--seed must be an integer, got ${o.seed}`);
  if (o.scheduler !== "linear" && o.scheduler !== "constant") throw new Error(`--scheduler must be linear or constant, got ${o.scheduler}`);
}

/** Creates the output folder and proves it writable before any work (not after an hour of training). */
function ensureWritableFolder(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.write-test-${process.pid}`);
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (e) {
    throw new Error(`--output ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
