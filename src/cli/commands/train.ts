/**
 * `llm2vec train mntp|simcse|supervised`: thin wrappers over trainMntp, trainSimcse and
 * trainSupervised. Flags map one to one onto their options (defaults shown are the reference's);
 * a progress bar shows step, loss, tokens/s and ETA;
 * Ctrl-C writes a checkpoint and exits cleanly (`--resume OUTPUT` continues), a second Ctrl-C
 * exits at once.
 */
import { Command, Option } from "commander";
import { SIMCSE_DEFAULTS, trainSimcse, type SimcseOptions } from "../../train/contrastive/train-simcse.js";
import { SUPERVISED_DEFAULTS, trainSupervised, type SupervisedOptions } from "../../train/contrastive/train-supervised.js";
import { MNTP_DEFAULTS, trainMntp, type MntpOptions } from "../../train/mntp/train.js";
import type { CommonTrainOptions } from "../../train/options.js";
import { baseOption, dtypeOption, quantizeOption } from "../encoder-flags.js";
import { addProgressFlag, progressBar, type Progress } from "../progress.js";

export type Flags = Record<string, string | string[] | boolean | undefined>;

/** A numeric flag's value (undefined when absent); anything but a number is an error naming the flag. */
export const num = (v: unknown, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(n)) throw new Error(`${flag}: expected a number, got ${JSON.stringify(v)}`);
  return n;
};

/** The options every trainer shares, from their flags. */
export function commonFromFlags(f: Flags): Partial<CommonTrainOptions> & Pick<CommonTrainOptions, "model" | "data" | "output"> {
  return {
    model: f.model as string,
    adapter: f.adapter as string[] | undefined,
    base: f.base as string | undefined,
    data: f.data as string[],
    output: f.output as string,
    maxLength: num(f.maxLength, "--max-length"),
    batchSize: num(f.batchSize, "--batch-size"),
    gradientAccumulation: num(f.gradientAccumulation, "--gradient-accumulation"),
    bidirectional: f.causal === true ? false : undefined,
    loraR: num(f.loraR, "--lora-r"),
    loraAlpha: num(f.loraAlpha, "--lora-alpha"),
    loraDropout: num(f.loraDropout, "--lora-dropout"),
    loraTargets: typeof f.loraTargets === "string" ? f.loraTargets.split(",").map((s) => s.trim()) : undefined,
    learningRate: num(f.learningRate, "--learning-rate"),
    warmupSteps: num(f.warmupSteps, "--warmup-steps"),
    scheduler: f.scheduler as CommonTrainOptions["scheduler"] | undefined,
    weightDecay: num(f.weightDecay, "--weight-decay"),
    maxGradNorm: num(f.maxGradNorm, "--max-grad-norm"),
    maxSteps: num(f.maxSteps, "--max-steps"),
    saveSteps: num(f.saveSteps, "--save-steps"),
    saveTotalLimit: num(f.saveTotalLimit, "--save-total-limit"),
    evalSteps: num(f.evalSteps, "--eval-steps"),
    seed: num(f.seed, "--seed"),
    gradientCheckpointing: f.gradientCheckpointing === true ? true : undefined,
    resume: f.resume as string | undefined,
    overwrite: f.overwrite === true ? true : undefined,
    computeDtype: f.dtype as CommonTrainOptions["computeDtype"] | undefined,
    quantize: f.quantize as CommonTrainOptions["quantize"] | undefined,
  };
}

export function mntpOptionsFromFlags(f: Flags): Partial<MntpOptions> & Pick<MntpOptions, "model" | "data" | "output"> {
  return {
    ...commonFromFlags(f),
    evalData: f.evalData as string[] | undefined,
    evalFraction: num(f.evalFraction, "--eval-fraction"),
    maxEvalBlocks: num(f.maxEvalBlocks, "--max-eval-blocks"),
    detokenizeWikitext: f.detokenizeWikitext === true ? true : undefined,
    maskProbability: num(f.maskProb, "--mask-prob"),
    maskStrategy: f.maskStrategy as MntpOptions["maskStrategy"] | undefined,
    maskToken: f.maskToken as string | undefined,
  };
}

export function simcseOptionsFromFlags(f: Flags): Partial<SimcseOptions> & Pick<SimcseOptions, "model" | "data" | "output"> {
  return {
    ...commonFromFlags(f),
    attentionDropout: num(f.attentionDropout, "--attention-dropout"),
    lossScale: num(f.lossScale, "--loss-scale"),
    chunkSize: num(f.chunkSize, "--chunk-size"),
    poolWholeRow: f.poolWholeRow === true ? true : undefined,
    dedupe: f.dedupe === true ? true : undefined,
  };
}

export function supervisedOptionsFromFlags(f: Flags): Partial<SupervisedOptions> & Pick<SupervisedOptions, "model" | "data" | "output"> {
  return {
    ...commonFromFlags(f),
    attentionDropout: num(f.attentionDropout, "--attention-dropout"),
    lossScale: num(f.lossScale, "--loss-scale"),
    chunkSize: num(f.chunkSize, "--chunk-size"),
    homogeneousBatches: f.mixedBatches === true ? false : undefined,
  };
}

/** Runs a training function with a progress bar and Ctrl-C handling; returns its result. */
export async function withTrainingUi<T>(label: string, progress: boolean, run: (hooks: Parameters<typeof trainMntp>[1]) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\n${label}: stopping after this step (a checkpoint is written; Ctrl-C again to quit at once)\n`);
      ac.abort();
    } else process.exit(130);
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  let bar: Progress | null = null;
  try {
    return await run({
      signal: ac.signal,
      onMessage: (m) => process.stderr.write(`${label}: ${m}\n`),
      onStep: (r, max) => {
        if (!progress) return;
        bar ??= progressBar(max, label, "steps");
        bar.update(r.step, { loss: r.loss.toFixed(4), "tok/s": r.tokens_per_s.toFixed(0) });
      },
      onEval: (e) => {
        const parts = Object.entries(e.eval).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
        process.stderr.write(`${bar ? "\n" : ""}${label}: held-out at step ${e.step}: ${parts.join(", ")}\n`);
      },
      onCheckpoint: (dir) => {
        if (!progress) process.stderr.write(`${label}: checkpoint ${dir}\n`);
      },
    });
  } finally {
    (bar as Progress | null)?.stop();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
}

/** Flags of the options every trainer shares; defaults are the objective's. */
function addCommonFlags(cmd: Command, d: Omit<CommonTrainOptions, "model" | "data" | "output">, dataHelp: string): Command {
  return addProgressFlag(cmd)
    .requiredOption("--model <dir>", "base model folder (Hugging Face layout)")
    .requiredOption("--data <file...>", dataHelp)
    .requiredOption("--output <dir>", "output folder: adapter, checkpoints/, train_log.jsonl, report.html")
    .option("--adapter <dir...>", "adapters merged into the base before training (SimCSE: the MNTP adapter)")
    .addOption(baseOption())
    .option("--max-length <n>", "tokens per sequence", String(d.maxLength))
    .option("--batch-size <n>", "sequences per micro-batch", String(d.batchSize))
    .option("--gradient-accumulation <n>", "micro-batches per optimizer step", String(d.gradientAccumulation))
    .option("--causal", "causal attention (the ablation); default bidirectional")
    .addOption(dtypeOption())
    .addOption(quantizeOption())
    .option("--lora-r <n>", "LoRA rank", String(d.loraR))
    .option("--lora-alpha <x>", "LoRA alpha", String(d.loraAlpha))
    .option("--lora-dropout <p>", "LoRA dropout", String(d.loraDropout))
    .option("--lora-targets <list>", "comma-separated projections", d.loraTargets.join(","))
    .option("--learning-rate <x>", "peak learning rate", String(d.learningRate))
    .option("--warmup-steps <n>", "linear warmup steps", String(d.warmupSteps))
    .addOption(new Option("--scheduler <s>", "learning-rate schedule after warmup").choices(["linear", "constant"]).default(d.scheduler))
    .option("--weight-decay <x>", "AdamW decoupled weight decay", String(d.weightDecay))
    .option("--max-grad-norm <x>", "global gradient-norm clip (0 = off)", String(d.maxGradNorm))
    .option("--max-steps <n>", "optimizer steps", String(d.maxSteps))
    .option("--save-steps <n>", "checkpoint every N steps (0 = only at the end)", String(d.saveSteps))
    .option("--save-total-limit <n>", "checkpoints kept (0 = all)", String(d.saveTotalLimit))
    .option("--eval-steps <n>", "held-out evaluation every N steps (0 = before and after only)", String(d.evalSteps))
    .option("--seed <n>", "seed of data order, masking, LoRA init and dropout", String(d.seed))
    .option("--gradient-checkpointing", "recompute each layer in the backward (less memory, ~1.3× time)")
    .option("--resume <dir>", "continue from a checkpoint folder or an output folder's latest checkpoint")
    .option("--overwrite", "start over in an --output holding an earlier run (removes its checkpoints and adapter)");
}

function addContrastiveFlags(cmd: Command, d: { attentionDropout: number; lossScale: number; chunkSize: number }): Command {
  return cmd
    .option("--attention-dropout <p>", "dropout on attention probabilities", String(d.attentionDropout))
    .option("--loss-scale <x>", "cosine scale of the InfoNCE loss (1/temperature)", String(d.lossScale))
    .option("--chunk-size <n>", "rows encoded at once; larger batches go through gradient caching", String(d.chunkSize));
}

function reportDone(label: string, r: { stopped: boolean; steps: number; output: string; metrics: Record<string, unknown> }, extra = ""): void {
  if (r.stopped) process.stderr.write(`${label}: stopped at step ${r.steps}; resume with --resume ${r.output}\n`);
  else {
    const l = r.metrics.final_train_loss;
    process.stderr.write(`${label}: ${r.steps} steps, final loss ${typeof l === "number" ? l.toFixed(4) : "n/a"}${extra}; adapter in ${r.output}\n`);
  }
}

export function registerTrain(program: Command): void {
  const train = program.command("train").description("train LoRA adapters: mntp (masked next-token prediction), simcse (unsupervised), supervised (hard negatives)");
  const d = MNTP_DEFAULTS;
  addCommonFlags(train.command("mntp").description("masked next-token prediction with LoRA (LLM2Vec step 2); writes a PEFT adapter folder"), d, "training text: .txt (a document a line) or .jsonl ({\"text\"})")
    .option("--eval-data <file...>", "held-out text files (default: hold out --eval-fraction of the documents)")
    .option("--eval-fraction <x>", "share of documents held out", String(d.evalFraction))
    .option("--max-eval-blocks <n>", "held-out blocks scored per evaluation", String(d.maxEvalBlocks))
    .option("--detokenize-wikitext", "undo WikiText's tokenisation (@-@, <unk>, headings)")
    .option("--mask-prob <p>", "masking probability", String(d.maskProbability))
    .addOption(new Option("--mask-strategy <s>", "bert = 80% mask / 10% random / 10% kept; all_mask = 100% mask").choices(["bert", "all_mask"]).default(d.maskStrategy))
    .option("--mask-token <t>", "blank (the literal _), eos, or a token of the vocabulary", d.maskToken)
    .action(async (f: Flags) => {
      const r = await withTrainingUi("mntp", f.progress !== false, (hooks) => trainMntp(mntpOptionsFromFlags(f), hooks));
      const m = r.metrics;
      const pct = (v: unknown) => (typeof v === "number" ? (100 * v).toFixed(2) + "%" : "n/a");
      const f4 = (v: unknown) => (typeof v === "number" ? v.toFixed(4) : "n/a");
      reportDone("mntp", r, `; held-out loss ${f4(m.heldout_loss_before)} → ${f4(m.heldout_loss_after)}, masked accuracy ${pct(m.heldout_accuracy_before)} → ${pct(m.heldout_accuracy_after)}`);
    });
  const ds = SIMCSE_DEFAULTS;
  addContrastiveFlags(addCommonFlags(train.command("simcse").description("unsupervised SimCSE with LoRA (LLM2Vec step 3): give the MNTP adapter with --adapter"), ds, "sentences: .txt (a sentence a line) or .jsonl ({\"text\"})"), ds)
    .option("--pool-whole-row", "pool the whole padded row during training, as the reference's SimCSE does (default: the text span, as inference)")
    .option("--dedupe", "drop repeated sentences (false negatives)")
    .action(async (f: Flags) => reportDone("simcse", await withTrainingUi("simcse", f.progress !== false, (hooks) => trainSimcse(simcseOptionsFromFlags(f), hooks))));
  const dv = SUPERVISED_DEFAULTS;
  addContrastiveFlags(addCommonFlags(train.command("supervised").description("supervised contrastive training with hard negatives"), dv, "JSONL files of {query, positive, negative?, instruction?}, one task a file"), dv)
    .option("--mixed-batches", "mix files within a batch (default: one file per batch, as the reference)")
    .action(async (f: Flags) => reportDone("supervised", await withTrainingUi("supervised", f.progress !== false, (hooks) => trainSupervised(supervisedOptionsFromFlags(f), hooks))));
}
