/**
 * Task-file schema (tasks/*.json), one TypeBox schema that gives both the TypeScript types and
 * the checks (validate.ts walks it). A task names its data splits explicitly; each split is a
 * source file in a known format plus optional, seeded selection:
 *  - holdout: a seeded random partition of the same file ("held_out" = the fraction,
 *    "rest" = the complement), for data sets that ship no dev split;
 *  - max_examples: a seeded random cap (never the file head: several files are
 *    sorted by label) to keep CPU runs short.
 * Paths are relative to the data root (--data or LLM2VEC_DATA). Objects are closed
 * (additionalProperties: false), so a misspelt field is refused rather than ignored.
 */
import { Type, type Static, type TProperties } from "@sinclair/typebox";
import { oneOf } from "../../train/option-schema.js";

export const TASK_TYPES = ["STS", "Retrieval", "Classification", "Clustering", "PairClassification", "WordProbe"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

const closed = { additionalProperties: false } as const;
/** A required file or column name (empty is missing). */
const name = () => Type.String({ minLength: 1 });
const quoting = Type.Optional(Type.Boolean());
const unknownIds = Type.Optional(oneOf(["error", "warn"]));

/** One source format: its literal `format` and its fields (required ones are names of files or columns). */
function source<const F extends string, P extends TProperties>(format: F, props: P) {
  return Type.Object({ format: Type.Literal(format), ...props }, closed);
}

export const SOURCE_SCHEMAS = [
  source("stsb", { path: name() }),
  source("sick", { path: name() }),
  source("senteval-sts", { input: name(), gs: name() }),
  source("sts-table", { path: name(), delimiter: name(), quoting, sentence1: name(), sentence2: name(), score: name() }),
  source("mrpc", { path: name() }),
  source("beir", { corpus: name(), queries: name(), qrels: name(), unknown_ids: unknownIds }),
  source("cranfield", {
    docs: name(),
    queries: name(),
    qrels: name(),
    source_doc_grade: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    unknown_ids: unknownIds,
  }),
  source("banking77", { path: name(), categories: Type.Optional(Type.String({ expected: "a path string" })) }),
  source("emotion", { path: name() }),
  source("trec", { path: name(), granularity: Type.Optional(oneOf(["coarse", "fine"])) }),
  source("sst2", { path: name() }),
  source("text-table", { path: name(), delimiter: name(), quoting, text: name(), label: name() }),
  source("conll2003", { path: name() }),
];
export const SourceSchema = Type.Union(SOURCE_SCHEMAS);
export type SourceSpec = Static<typeof SourceSchema>;

const posInt = () => Type.Integer({ exclusiveMinimum: 0 });

export const SplitSchema = Type.Object(
  {
    source: SourceSchema,
    holdout: Type.Optional(
      Type.Object(
        {
          fraction: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
          seed: Type.Integer(),
          part: oneOf(["held_out", "rest"], { expected: '"held_out" or "rest"' }),
        },
        { ...closed, expected: "an object { fraction, seed, part }" },
      ),
    ),
    /** seeded random cap on examples (sentences for CoNLL, pairs for STS/pairs, queries for retrieval) */
    max_examples: Type.Optional(posInt()),
    /** seed for max_examples (default: the task seed) */
    sample_seed: Type.Optional(Type.Integer()),
  },
  closed,
);
export type SplitSpec = Static<typeof SplitSchema>;

export const ParamsSchema = Type.Object(
  {
    /** Classification (MTEB defaults: 10 experiments, 8 samples per label, max_iter 100) */
    n_experiments: Type.Optional(posInt()),
    samples_per_label: Type.Optional(posInt()),
    max_iter: Type.Optional(posInt()),
    C: Type.Optional(Type.Number({ exclusiveMinimum: 0, expected: "a positive number" })),
    /** Retrieval cutoffs (main score uses 10) */
    k_values: Type.Optional(Type.Array(posInt(), { minItems: 1, expected: "a non-empty list of positive integers" })),
    /** Retrieval: prepend doc titles to texts as MTEB does ("title text") */
    use_title: Type.Optional(Type.Boolean()),
    /** Clustering: number of seeded k-means runs and mini-batch size */
    n_runs: Type.Optional(posInt()),
    batch_size: Type.Optional(posInt()),
    /** WordProbe: which CoNLL column (pos | chunk | ner); shift overrides the runner's wordShift */
    label: Type.Optional(oneOf(["pos", "chunk", "ner"])),
    shift: Type.Optional(Type.Boolean()),
  },
  { ...closed, expected: "an object" },
);
export type TaskParams = Static<typeof ParamsSchema>;

export const TaskSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    type: oneOf(TASK_TYPES),
    description: Type.Optional(Type.String()),
    /** instruction for the inputs ("" or absent = none); retrieval applies it to queries only */
    instruction: Type.Optional(Type.String()),
    splits: Type.Record(Type.String(), SplitSchema),
    eval_split: Type.String(),
    /** Classification and WordProbe: split the classifier is trained on */
    train_split: Type.Optional(Type.String()),
    seed: Type.Optional(Type.Integer()),
    params: Type.Optional(ParamsSchema),
    /** free-text notes carried into the results (caps, held-out protocol, ...) */
    notes: Type.Optional(Type.Array(Type.String())),
  },
  closed,
);
export type TaskSpec = Static<typeof TaskSchema>;

export const TaskFileSchema = Type.Object(
  { description: Type.Optional(Type.String()), notes: Type.Optional(Type.Array(Type.String())), tasks: Type.Array(TaskSchema) },
  closed,
);
export type TaskFile = Static<typeof TaskFileSchema>;
