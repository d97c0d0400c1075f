/**
 * `llm2vec convert`: the whole recipe (bidirectional → MNTP → SimCSE → optional supervised) in one
 * command, with one progress bar across the stages and Ctrl-C that stops cleanly (`--resume`
 * continues at the stage and step where it stopped). Stage settings default to the reference's;
 * the `--mntp-*`, `--simcse-*` and `--supervised-*` flags override them.
 */
import type { Command } from "commander";
import { convert, type ConvertOptions } from "../../train/convert.js";
import { addProgressFlag, progressBar, type Progress } from "../progress.js";
import type { ComputeDtype } from "../../tensor/compute.js";
import type { CommonTrainOptions } from "../../train/options.js";
import { dtypeOption } from "../encoder-flags.js";
import { num, type Flags } from "./train.js";

function stageOverrides(f: Flags, stage: "mntp" | "simcse" | "supervised"): Partial<Pick<CommonTrainOptions, "maxSteps" | "batchSize" | "maxLength" | "learningRate" | "warmupSteps" | "seed" | "saveSteps" | "computeDtype">> {
  const k = (s: string) => f[`${stage}${s}`];
  return {
    maxSteps: num(k("Steps"), `--${stage}-steps`),
    batchSize: num(k("BatchSize"), `--${stage}-batch-size`),
    maxLength: num(k("MaxLength"), `--${stage}-max-length`),
    learningRate: num(k("Lr"), `--${stage}-lr`),
    warmupSteps: num(k("Warmup"), `--${stage}-warmup`),
    seed: num(f.seed, "--seed"),
    saveSteps: num(f.saveSteps, "--save-steps"),
    computeDtype: f.dtype as ComputeDtype | undefined,
  };
}

export function convertOptionsFromFlags(f: Flags): ConvertOptions {
  const drop = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    model: f.model as string,
    data: f.data as string[],
    simcseData: f.simcseData as string[] | undefined,
    supervisedData: f.supervisedData as string[] | undefined,
    output: f.output as string,
    mntp: drop({ ...stageOverrides(f, "mntp"), maskProbability: num(f.mntpMaskProb, "--mntp-mask-prob"), detokenizeWikitext: f.detokenizeWikitext === true ? true : undefined }),
    simcse: drop({ ...stageOverrides(f, "simcse"), chunkSize: num(f.chunkSize, "--chunk-size") }),
    supervised: drop({ ...stageOverrides(f, "supervised"), chunkSize: num(f.chunkSize, "--chunk-size") }),
    merge: f.merge !== false,
    resume: f.resume === true,
  };
}

export function registerConvert(program: Command): void {
  const cmd = program
    .command("convert")
    .description("the whole LLM2Vec recipe: bidirectional → MNTP → SimCSE (→ supervised), written as a model folder")
    .requiredOption("--model <dir>", "base decoder (Hugging Face folder)")
    .requiredOption("--data <file...>", "unlabelled text for MNTP (a document a line), and SimCSE unless --simcse-data")
    .requiredOption("--output <dir>", "run folder: mntp/, simcse/, supervised/, model/ (the merged encoder)")
    .option("--simcse-data <file...>", "sentences for SimCSE (default: --data)")
    .option("--supervised-data <file...>", "JSONL {query, positive, negative?, instruction?}: adds the supervised stage")
    .option("--detokenize-wikitext", "undo WikiText's tokenisation in the MNTP data")
    .option("--no-merge", "keep base + adapters (adapters.json) instead of writing the merged model/")
    .option("--resume", "continue a stopped convert in --output")
    .option("--seed <n>", "seed of every stage (default 42)")
    .option("--save-steps <n>", "checkpoint every N steps in every stage")
    .option("--chunk-size <n>", "gradient-cache chunk of the contrastive stages")
    .option("--mntp-mask-prob <p>", "MNTP masking probability (default 0.2)")
    .addOption(dtypeOption());
  addProgressFlag(cmd);
  for (const stage of ["mntp", "simcse", "supervised"]) {
    cmd
      .option(`--${stage}-steps <n>`, `${stage} optimizer steps (default 1000)`)
      .option(`--${stage}-batch-size <n>`, `${stage} batch size`)
      .option(`--${stage}-max-length <n>`, `${stage} max tokens per sequence`)
      .option(`--${stage}-lr <x>`, `${stage} learning rate`)
      .option(`--${stage}-warmup <n>`, `${stage} warmup steps`);
  }
  cmd.action(async (f: Flags) => {
    const o = convertOptionsFromFlags(f);
    const ac = new AbortController();
    let interrupts = 0;
    const onSignal = () => {
      if (++interrupts > 1) process.exit(130);
      process.stderr.write("\nconvert: stopping after this step (a checkpoint is written; Ctrl-C again to quit at once)\n");
      ac.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    let bar: Progress | null = null;
    let label = "";
    try {
      const r = await convert(o, {
        signal: ac.signal,
        onMessage: (m) => process.stderr.write(`${bar ? "\n" : ""}convert: ${m}\n`),
        onStage: (stage, i, stages, maxSteps) => {
          bar?.stop();
          bar = f.progress === false ? null : progressBar(maxSteps, `[${i + 1}/${stages.length}] ${stage}`, "steps");
          label = stage;
        },
        onStep: (rec) => bar?.update(rec.step, { loss: rec.loss.toFixed(4), "tok/s": rec.tokens_per_s.toFixed(0) }),
        onEval: (e) => process.stderr.write(`${bar ? "\n" : ""}convert: ${label} held-out at step ${e.step}: ${Object.entries(e.eval).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(", ")}\n`),
      });
      (bar as Progress | null)?.stop();
      if (r.stopped) process.stderr.write(`convert: stopped; continue with the same command and --resume\n`);
      else process.stderr.write(`convert: done in ${(r.wallSeconds / 60).toFixed(1)} min; ${r.modelDir ? `encoder in ${r.modelDir}` : `adapters listed in ${o.output}/adapters.json`}\n`);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  });
}
