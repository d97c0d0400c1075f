/**
 * Runs evaluation tasks against a TextEncoder (and optionally a WordFeatureEncoder),
 * writing per task an MTEB-style JSON file (atomically), then summary.md and a
 * self-contained report.html. A failing task does not stop the run: it is recorded
 * with its error in the summary and in the returned `failed` list. WordProbe tasks
 * without a word encoder are reported as skipped, not silently dropped.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { TextEncoder, WordFeatureEncoder } from "./encoder-interface.js";
import { atomicWriteText } from "../formats/atomic.js";
import { renderHtml } from "./report/html.js";
import { renderMarkdown, type FailedTask } from "./report/markdown.js";
import { buildResult, type TaskResult } from "./report/result.js";
import { TASK_RUNNERS } from "./tasks/index.js";
import type { ProgressEvent, TaskContext } from "./tasks/context.js";
import type { TaskSpec } from "./tasks/spec.js";
import { validateTaskFile } from "./tasks/validate.js";

export interface RunEvaluationOptions {
  encoder: TextEncoder;
  wordEncoder?: WordFeatureEncoder;
  tasks: TaskSpec[];
  dataRoot: string;
  outputDir: string;
  onProgress?: (e: ProgressEvent) => void;
  /** encoder batch size passed through to encode() */
  batchSize?: number;
  /** WordProbe default: shift word features one position left (MNTP models) */
  wordShift?: boolean;
  /** shown in summary.md / report.html */
  modelName?: string;
  /** rethrow the first task error instead of recording it (useful in tests/CI) */
  failFast?: boolean;
}

export interface RunEvaluationResult {
  results: TaskResult[];
  failed: FailedTask[];
  files: { results: string[]; summary: string; report: string };
}

/** File name for a task's JSON (task names may contain characters unsafe in paths). */
export function resultFileName(taskName: string): string {
  return `${taskName.replace(/[^A-Za-z0-9._-]+/g, "_")}.json`;
}

export async function runEvaluation(opts: RunEvaluationOptions): Promise<RunEvaluationResult> {
  // Validate up front: a bad task list should fail before hours of encoding.
  validateTaskFile({ tasks: opts.tasks }, "tasks");
  await mkdir(opts.outputDir, { recursive: true });
  const ctx: TaskContext = {
    encoder: opts.encoder,
    wordEncoder: opts.wordEncoder,
    dataRoot: opts.dataRoot,
    batchSize: opts.batchSize,
    wordShift: opts.wordShift ?? false,
    cache: new Map(),
    wordFeatureCache: new Map(),
    progress: opts.onProgress ?? (() => {}),
  };
  const results: TaskResult[] = [];
  const failed: FailedTask[] = [];
  const files: string[] = [];
  for (const task of opts.tasks) {
    if (task.type === "WordProbe" && !opts.wordEncoder) {
      failed.push({ task_name: task.name, task_type: task.type, error: "skipped: no WordFeatureEncoder given" });
      continue;
    }
    const t0 = performance.now();
    try {
      const outcome = await TASK_RUNNERS[task.type](task, ctx);
      const result = buildResult(task, outcome, (performance.now() - t0) / 1000);
      const file = join(opts.outputDir, resultFileName(task.name));
      atomicWriteText(file, `${JSON.stringify(result, null, 2)}\n`);
      results.push(result);
      files.push(file);
    } catch (e) {
      if (opts.failFast) throw e;
      failed.push({ task_name: task.name, task_type: task.type, error: (e as Error).message });
    }
  }
  const meta = { model: opts.modelName, dataRoot: opts.dataRoot };
  const summary = join(opts.outputDir, "summary.md");
  const report = join(opts.outputDir, "report.html");
  atomicWriteText(summary, renderMarkdown(results, failed, meta));
  atomicWriteText(report, renderHtml(results, failed, meta));
  return { results, failed, files: { results: files, summary, report } };
}
