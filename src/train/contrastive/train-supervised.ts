/**
 * `trainSupervised`: supervised contrastive training with hard negatives (llm2vec.md §1d), the
 * recipe's optional last step. Queries carry the task instruction (the reference's
 * `"{instruction}; " + separator + query`: conditioning, left out of pooling); documents carry
 * none. Candidates are every positive of the batch, then every hard negative; loss
 * CE(cos·50, diagonal); lr 2e-4, warmup 300, 1000 steps, max length 512, batch 512 through
 * gradient caching. With several data files each batch comes from one file (task-homogeneous
 * batches, as the reference builds them); incomplete batches of a file are dropped.
 */
import { concat } from "../../tensor/ops/index.js";
import { fmix32 } from "../../tensor/backend/types.js";
import { EpochSampler } from "../data/sampler.js";
import { runLoraTraining, startLoraRun } from "../lora-run.js";
import type { LoopHooks, Objective } from "../loop.js";
import { Type, type Static } from "@sinclair/typebox";
import { COMMON_PROPERTIES, type TrainInput } from "../options.js";
import { configJson, defaultsOf, override, resolveOptions } from "../option-schema.js";
import { readPairFile, type PairRow } from "./data.js";
import { contrastiveStep, makeGroup } from "./gradcache.js";
import { contrastiveLoss } from "./loss.js";
import { CONTRASTIVE_PROPERTIES, type ContrastiveResult } from "./train-simcse.js";

/** The reference's supervised config: batch 512, lr 2e-4, warmup 300, 1000 steps, max length 512, scale 50. */
export const SupervisedSchema = Type.Object({
  ...override(COMMON_PROPERTIES, {
    data: { description: "JSONL files of {query, positive, negative?, instruction?}, one task a file" },
    batchSize: { default: 512 },
    maxLength: { default: 512 },
    learningRate: { default: 2e-4 },
    warmupSteps: { default: 300 },
    maxSteps: { default: 1000 },
    evalSteps: { default: 0 },
  }),
  ...override(CONTRASTIVE_PROPERTIES, { lossScale: { default: 50 } }),
  homogeneousBatches: Type.Boolean({ default: true, flag: "--mixed-batches", negate: true, description: "mix files within a batch (default: one file per batch, as the reference)" }),
});
export type SupervisedOptions = Static<typeof SupervisedSchema>;

export const SUPERVISED_DEFAULTS = defaultsOf<Omit<SupervisedOptions, "model" | "data" | "output">>(SupervisedSchema);

export async function trainSupervised(options: TrainInput<SupervisedOptions>, hooks: LoopHooks = {}): Promise<ContrastiveResult> {
  const o = resolveOptions(SupervisedSchema, options);
  const say = hooks.onMessage ?? (() => {});
  const files = o.data.map(readPairFile);
  for (const f of files) if (f.negativesDropped) say(`${f.file}: ${f.negativesDropped} hard negatives equal their positive and were dropped`);
  // Batches: lists of row references, each from one file when homogeneous.
  const batches: PairRow[][] = [];
  const pools = o.homogeneousBatches ? files.map((f) => f.rows) : [files.flatMap((f) => f.rows)];
  for (const rows of pools) for (let i = 0; i + o.batchSize <= rows.length; i += o.batchSize) batches.push(rows.slice(i, i + o.batchSize));
  if (batches.length === 0) throw new Error(`training data: no file holds a full batch of ${o.batchSize} rows (lower --batch-size or add data)`);
  const run = await startLoraRun(o, { pooling: "mean", maxLength: o.maxLength });
  try {
    const { enc } = run;
    const choice = enc.poolingChoice();
    const sampler = new EpochSampler(batches.length, 1, o.seed);
    const objective: Objective = {
      name: "supervised",
      microBatch(step, micro, lossScale) {
        const g = step * o.gradientAccumulation + micro;
        const batch = batches[sampler.batch(g)[0]!]!;
        const pad = enc.tokenizer.padTokenId ?? 0;
        const seed = (k: number) => fmix32(o.seed ^ fmix32(3 * g + k));
        const q = enc.prepare(batch.map((r) => (r.instruction ? ([`${r.instruction.trim()};`, r.query] as const) : r.query)));
        const p = enc.prepare(batch.map((r) => r.positive));
        const negRows = batch.filter((r) => r.negative !== null).map((r) => r.negative!);
        const groups = [makeGroup(q, pad, choice, seed(1)), makeGroup(p, pad, choice, seed(2))];
        if (negRows.length) groups.push(makeGroup(enc.prepare(negRows), pad, choice, seed(3)));
        const pass = enc.encoderPass({ training: true, attentionDropout: o.attentionDropout, checkpointLayers: o.gradientCheckpointing });
        const { loss } = contrastiveStep(enc.model, groups, pass, (reps) => contrastiveLoss(reps[0]!, reps.length > 2 ? concat([reps[1]!, reps[2]!], 0) : reps[1]!, o.lossScale), o.chunkSize, lossScale);
        const tokens = groups.reduce((s, gr) => s + gr.batch.mask.reduce((a, m) => a + m, 0), 0);
        return { loss, tokens };
      },
      exportState: (g) => ({ rng: {}, dataPosition: { microBatches: g, ...sampler.position(g) } }),
      importState() {},
    };
    const config = configJson("supervised", SupervisedSchema, o);
    const { outcome, metrics } = await runLoraTraining(run, o, objective, config, hooks, {
      title: "Supervised contrastive training",
      writeEncoderConfig: true,
      extraMetrics: () => ({ rows: files.reduce((s, f) => s + f.rows.length, 0), batches_per_epoch: batches.length }),
    });
    return { ...outcome, output: o.output, metrics };
  } finally {
    run.release();
  }
}
