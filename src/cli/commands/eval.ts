/** `llm2vec eval`: run an MTEB-style task list and write per-task JSON, summary.md and report.html. */
import { Command, Option } from "commander";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { LLM2Vec } from "../../encoder/llm2vec.js";
import { WordFeatures } from "../../encoder/word-features.js";
import { runEvaluation, type RunEvaluationResult } from "../../eval/runner.js";
import { DATA_ENV, loadTaskFile, resolveDataRoot, selectTasks } from "../../eval/task-file.js";
import { addEncoderFlags, encoderOptionsFromFlags, type EncoderFlags } from "../encoder-flags.js";
import { addProgressFlag, progressBar, type Progress } from "../progress.js";

/** The task list shipped in the package, found from this module rather than the working directory. */
export const DEFAULT_TASK_FILE = fileURLToPath(new URL("../../../../tasks/dev-tasks.json", import.meta.url));

export interface EvalCommandOptions extends EncoderFlags {
  tasks?: string;
  task?: string[];
  data?: string;
  output: string;
  batchSize?: string;
  wordShift?: boolean;
  progress?: boolean;
}

export async function evalCommand(o: EvalCommandOptions): Promise<RunEvaluationResult> {
  const taskFile = await loadTaskFile(o.tasks ?? DEFAULT_TASK_FILE);
  const tasks = selectTasks(taskFile.tasks, o.task);
  const dataRoot = resolveDataRoot(o.data);
  const enc = await LLM2Vec.fromPretrained(o.model, encoderOptionsFromFlags(o));
  let bar: Progress | null = null;
  let current = "";
  const res = await runEvaluation({
    encoder: enc,
    wordEncoder: new WordFeatures(enc),
    tasks,
    dataRoot,
    outputDir: o.output,
    batchSize: o.batchSize ? Number(o.batchSize) : 32,
    wordShift: o.wordShift ?? false,
    modelName:
      path.basename(path.resolve(o.model)) +
      (o.adapter ? ` + ${o.adapter.map((a) => path.basename(a)).join(" + ")}` : "") +
      ` (${enc.options.bidirectional ? "bidirectional" : "causal"}, ${enc.options.pooling} pooling)`,
    onProgress: (e) => {
      if (o.progress === false) return;
      const key = `${e.task} ${e.phase}`;
      if (key !== current) {
        bar?.stop();
        bar = progressBar(e.total, key, "items");
        current = key;
      }
      bar?.update(e.done);
    },
  });
  (bar as Progress | null)?.stop();
  return res;
}

export function registerEval(program: Command): void {
  const cmd = addEncoderFlags(program.command("eval").description("evaluate embeddings on MTEB-style tasks (STS, retrieval, classification, clustering, pair classification, word probes)"))
    .option("--tasks <file>", "task list (JSON; default: the package's tasks/dev-tasks.json)")
    .option("--task <name...>", "only these tasks from the list")
    .addOption(new Option("--data <dir>", "data root: the folder the task file's paths are relative to").env(DATA_ENV))
    .requiredOption("--output <dir>", "results folder (per-task JSON, summary.md, report.html)")
    .option("--batch-size <n>", "texts per forward pass", "32")
    .option("--word-shift", "shift word features one position left (models trained with MNTP)");
  addProgressFlag(cmd).action(async (o: EvalCommandOptions) => {
    const r = await evalCommand(o);
    for (const t of r.results) process.stderr.write(`${t.task_name}: ${JSON.stringify(Object.values(t.scores)[0]?.[0]?.main_score)}\n`);
    for (const f of r.failed) process.stderr.write(`${f.task_name}: ${f.error}\n`);
    process.stderr.write(`wrote ${r.files.summary} and ${r.files.report}\n`);
    if (r.failed.some((f) => !f.error.startsWith("skipped"))) process.exitCode = 1;
  });
}
