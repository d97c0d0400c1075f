/**
 * `llm2vec train mntp|simcse|supervised`: thin wrappers over trainMntp, trainSimcse and
 * trainSupervised. The flags are made from each trainer's option schema (defaults shown are the reference's);
 * a progress bar shows step, loss, tokens/s and ETA;
 * Ctrl-C writes a checkpoint and exits cleanly (`--resume OUTPUT` continues), a second Ctrl-C
 * exits at once.
 */
import type { Command } from "commander";
import { SimcseSchema, trainSimcse, type SimcseOptions } from "../../train/contrastive/train-simcse.js";
import { SupervisedSchema, trainSupervised, type SupervisedOptions } from "../../train/contrastive/train-supervised.js";
import { MntpSchema, trainMntp, type MntpOptions } from "../../train/mntp/train.js";
import type { TrainInput } from "../../train/options.js";
import { addProgressFlag, progressBar, type Progress } from "../progress.js";
import { addSchemaFlags, optionsFromFlags, type Flags } from "../schema-flags.js";

export type { Flags } from "../schema-flags.js";

export const mntpOptionsFromFlags = (f: Flags) => optionsFromFlags(MntpSchema, f) as TrainInput<MntpOptions>;
export const simcseOptionsFromFlags = (f: Flags) => optionsFromFlags(SimcseSchema, f) as TrainInput<SimcseOptions>;
export const supervisedOptionsFromFlags = (f: Flags) => optionsFromFlags(SupervisedSchema, f) as TrainInput<SupervisedOptions>;

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

function reportDone(label: string, r: { stopped: boolean; steps: number; output: string; metrics: Record<string, unknown> }, extra = ""): void {
  if (r.stopped) process.stderr.write(`${label}: stopped at step ${r.steps}; resume with --resume ${r.output}\n`);
  else {
    const l = r.metrics.final_train_loss;
    process.stderr.write(`${label}: ${r.steps} steps, final loss ${typeof l === "number" ? l.toFixed(4) : "n/a"}${extra}; adapter in ${r.output}\n`);
  }
}

export function registerTrain(program: Command): void {
  const train = program.command("train").description("train LoRA adapters: mntp (masked next-token prediction), simcse (unsupervised), supervised (hard negatives)");
  addSchemaFlags(addProgressFlag(train.command("mntp").description("masked next-token prediction with LoRA (LLM2Vec step 2); writes a PEFT adapter folder")), MntpSchema)
    .action(async (f: Flags) => {
      const r = await withTrainingUi("mntp", f.progress !== false, (hooks) => trainMntp(mntpOptionsFromFlags(f), hooks));
      const m = r.metrics;
      const pct = (v: unknown) => (typeof v === "number" ? (100 * v).toFixed(2) + "%" : "n/a");
      const f4 = (v: unknown) => (typeof v === "number" ? v.toFixed(4) : "n/a");
      reportDone("mntp", r, `; held-out loss ${f4(m.heldout_loss_before)} → ${f4(m.heldout_loss_after)}, masked accuracy ${pct(m.heldout_accuracy_before)} → ${pct(m.heldout_accuracy_after)}`);
    });
  addSchemaFlags(addProgressFlag(train.command("simcse").description("unsupervised SimCSE with LoRA (LLM2Vec step 3): give the MNTP adapter with --adapter")), SimcseSchema)
    .action(async (f: Flags) => reportDone("simcse", await withTrainingUi("simcse", f.progress !== false, (hooks) => trainSimcse(simcseOptionsFromFlags(f), hooks))));
  addSchemaFlags(addProgressFlag(train.command("supervised").description("supervised contrastive training with hard negatives")), SupervisedSchema)
    .action(async (f: Flags) => reportDone("supervised", await withTrainingUi("supervised", f.progress !== false, (hooks) => trainSupervised(supervisedOptionsFromFlags(f), hooks))));
}
