/**
 * MTEB-style result object, one per task. Layout follows MTEB's TaskResult JSON
 * (task_name, dataset_revision, mteb_version, evaluation_time, scores[split] = list
 * of subsets with main_score, hf_subset, languages). Differences, made explicit by
 * fields: scores are 0-100 (score_scale), and the selection/caps are recorded.
 */
import type { TaskOutcome } from "../tasks/context.js";
import type { TaskSpec } from "../tasks/spec.js";

export const EVAL_VERSION = "llm2vec-ts-eval 0.1 (MTEB-style layout)";

export interface TaskResult {
  task_name: string;
  task_type: string;
  dataset_revision: string;
  mteb_version: string;
  evaluation_time: number;
  kg_co2_emissions: null;
  score_scale: "0-100";
  instruction: string;
  seed: number;
  caps: Record<string, number>;
  notes: string[];
  stats: Record<string, number | string>;
  scores: Record<string, Array<Record<string, unknown> & { main_score: number; hf_subset: string; languages: string[] }>>;
}

export function buildResult(task: TaskSpec, outcome: TaskOutcome, seconds: number): TaskResult {
  const caps: Record<string, number> = {};
  for (const [name, s] of Object.entries(task.splits)) if (s.max_examples !== undefined) caps[`${name}.max_examples`] = s.max_examples;
  return {
    task_name: task.name,
    task_type: task.type,
    dataset_revision: "local",
    mteb_version: EVAL_VERSION,
    evaluation_time: seconds,
    kg_co2_emissions: null,
    score_scale: "0-100",
    instruction: task.instruction ?? "",
    seed: task.seed ?? 42,
    caps,
    notes: [...(task.notes ?? []), ...outcome.notes],
    stats: outcome.stats,
    scores: {
      [outcome.split]: [{ ...outcome.scores, hf_subset: "default", languages: ["eng-Latn"] }],
    },
  };
}

export function mainScore(r: TaskResult): number {
  const first = Object.values(r.scores)[0]?.[0];
  return first ? first.main_score : NaN;
}
