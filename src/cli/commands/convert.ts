/**
 * `llm2vec convert`: the whole recipe (bidirectional → MNTP → SimCSE → optional supervised) in one
 * command, with one progress bar across the stages and Ctrl-C that stops cleanly (`--resume`
 * continues at the stage and step where it stopped). Stage settings default to the reference's;
 * the `--mntp-*`, `--simcse-*` and `--supervised-*` flags override them.
 */
import type { Command } from "commander";
import type { TObject } from "@sinclair/typebox";
import { convert, type ConvertOptions } from "../../train/convert.js";
import { SimcseSchema } from "../../train/contrastive/train-simcse.js";
import { SupervisedSchema } from "../../train/contrastive/train-supervised.js";
import { MntpSchema } from "../../train/mntp/train.js";
import { CommonTrainSchema } from "../../train/options.js";
import { addProgressFlag, progressBar, type Progress } from "../progress.js";
import { addSchemaFlags, optionsFromFlags, type Flags, type FlagSelection } from "../schema-flags.js";

type Stage = "mntp" | "simcse" | "supervised";

/**
 * The trainers' options convert exposes, each from its trainer's schema: per stage (`--mntp-lr`),
 * one flag for every stage (`--seed`), or one flag for the stage that has the option (`--chunk-size`).
 */
const CONVERT_FLAGS: { schema: TObject; sel: FlagSelection; stages: readonly Stage[] }[] = [
  ...(["mntp", "simcse", "supervised"] as const).map((stage) => ({
    schema: { mntp: MntpSchema, simcse: SimcseSchema, supervised: SupervisedSchema }[stage],
    sel: { keys: ["maxSteps", "batchSize", "maxLength", "learningRate", "warmupSteps", ...(stage === "mntp" ? ["maskProbability"] : [])], prefix: stage, defaultInHelp: true },
    stages: [stage],
  })),
  { schema: CommonTrainSchema, sel: { keys: ["seed", "saveSteps", "computeDtype"], defaultInHelp: true }, stages: ["mntp", "simcse", "supervised"] },
  { schema: MntpSchema, sel: { keys: ["detokenizeWikitext"] }, stages: ["mntp"] },
  { schema: SimcseSchema, sel: { keys: ["chunkSize"], defaultInHelp: true }, stages: ["simcse", "supervised"] },
];

function stageOptions(f: Flags, stage: Stage): Record<string, unknown> {
  return Object.assign({}, ...CONVERT_FLAGS.filter((c) => c.stages.includes(stage)).map((c) => optionsFromFlags(c.schema, f, c.sel)));
}

export function convertOptionsFromFlags(f: Flags): ConvertOptions {
  return {
    model: f.model as string,
    data: f.data as string[],
    simcseData: f.simcseData as string[] | undefined,
    supervisedData: f.supervisedData as string[] | undefined,
    output: f.output as string,
    mntp: stageOptions(f, "mntp"),
    simcse: stageOptions(f, "simcse"),
    supervised: stageOptions(f, "supervised"),
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
    .option("--no-merge", "keep base + adapters (adapters.json) instead of writing the merged model/")
    .option("--resume", "continue a stopped convert in --output");
  addProgressFlag(cmd);
  for (const c of CONVERT_FLAGS) addSchemaFlags(cmd, c.schema, c.sel);
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
