/**
 * Task-file schema (tasks/*.json). A task names its data splits explicitly; each
 * split is a source file in a known format plus optional, seeded selection:
 *  - holdout: a seeded random partition of the same file ("held_out" = the fraction,
 *    "rest" = the complement), for data sets that ship no dev split;
 *  - max_examples: a seeded random cap (never the file head: several files are
 *    sorted by label) to keep CPU runs short.
 * Paths are relative to the data root (--data or LLM2VEC_DATA).
 */

export type TaskType = "STS" | "Retrieval" | "Classification" | "Clustering" | "PairClassification" | "WordProbe";

export type SourceSpec =
  | { format: "stsb"; path: string }
  | { format: "sick"; path: string }
  | { format: "senteval-sts"; input: string; gs: string }
  | { format: "sts-table"; path: string; delimiter: string; quoting?: boolean; sentence1: string; sentence2: string; score: string }
  | { format: "mrpc"; path: string }
  | { format: "beir"; corpus: string; queries: string; qrels: string; unknown_ids?: "error" | "warn" }
  | {
      format: "cranfield";
      docs: string;
      queries: string;
      qrels: string;
      source_doc_grade?: number | null;
      unknown_ids?: "error" | "warn";
    }
  | { format: "banking77"; path: string; categories?: string }
  | { format: "emotion"; path: string }
  | { format: "trec"; path: string; granularity?: "coarse" | "fine" }
  | { format: "sst2"; path: string }
  | { format: "text-table"; path: string; delimiter: string; quoting?: boolean; text: string; label: string }
  | { format: "conll2003"; path: string };

export interface SplitSpec {
  source: SourceSpec;
  holdout?: { fraction: number; seed: number; part: "held_out" | "rest" };
  /** seeded random cap on examples (sentences for CoNLL, pairs for STS/pairs, queries for retrieval) */
  max_examples?: number;
  /** seed for max_examples (default: the task seed) */
  sample_seed?: number;
}

export interface TaskParams {
  /** Classification (MTEB defaults: 10 experiments, 8 samples per label, max_iter 100) */
  n_experiments?: number;
  samples_per_label?: number;
  max_iter?: number;
  C?: number;
  /** Retrieval cutoffs (main score uses 10) */
  k_values?: number[];
  /** Retrieval: prepend doc titles to texts as MTEB does ("title text") */
  use_title?: boolean;
  /** Clustering: number of seeded k-means runs and mini-batch size */
  n_runs?: number;
  batch_size?: number;
  /** WordProbe: which CoNLL column (pos | chunk | ner); shift overrides the runner's wordShift */
  label?: "pos" | "chunk" | "ner";
  shift?: boolean;
}

export interface TaskSpec {
  name: string;
  type: TaskType;
  description?: string;
  /** instruction for the inputs ("" or absent = none); retrieval applies it to queries only */
  instruction?: string;
  splits: Record<string, SplitSpec>;
  eval_split: string;
  /** Classification and WordProbe: split the classifier is trained on */
  train_split?: string;
  seed?: number;
  params?: TaskParams;
  /** free-text notes carried into the results (caps, held-out protocol, ...) */
  notes?: string[];
}

export interface TaskFile {
  description?: string;
  notes?: string[];
  tasks: TaskSpec[];
}

export { validateTaskFile } from "./validate.js";
