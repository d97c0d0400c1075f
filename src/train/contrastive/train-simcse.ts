/**
 * `trainSimcse`: unsupervised SimCSE with LoRA (llm2vec.md §1c), step 3 of the recipe. The MNTP
 * adapter is merged into the base first, a fresh LoRA trains so that two dropout views of the
 * same batch agree: loss CE(cos(q, d)·20, diagonal), attention dropout 0.3 plus LoRA dropout,
 * mean pooling, batch 128, lr 3e-5, 1000 steps, max length 128, seed 42 (the reference's config).
 *
 * Pooling follows inference (the text span) by default, so training and use agree; the
 * reference pools the whole left-padded row during SimCSE training (its embed mask is all zero
 * there), which `poolWholeRow` reproduces. Batches of any size train in the memory of one chunk
 * through gradient caching (`chunkSize`), with the whole batch's gradient.
 */
import { fmix32 } from "../../tensor/backend/types.js";
import { EpochSampler } from "../data/sampler.js";
import { runLoraTraining, startLoraRun } from "../lora-run.js";
import type { LoopHooks, LoopOutcome, Objective } from "../loop.js";
import { Type, type Static } from "@sinclair/typebox";
import { COMMON_PROPERTIES, type TrainInput } from "../options.js";
import { configJson, defaultsOf, override, resolveOptions } from "../option-schema.js";
import { readSentences } from "./data.js";
import { contrastiveStep, makeGroup } from "./gradcache.js";
import { contrastiveLoss } from "./loss.js";

/** The options both contrastive objectives add. */
export const CONTRASTIVE_PROPERTIES = {
  attentionDropout: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0, description: "dropout on attention probabilities", arg: "p" }),
  lossScale: Type.Number({ exclusiveMinimum: 0, default: 20, description: "cosine scale of the InfoNCE loss (1/temperature)" }),
  chunkSize: Type.Integer({ minimum: 1, default: 32, description: "rows encoded at once; larger batches go through gradient caching" }),
};

/** The reference's SimCSE config: batch 128, lr 3e-5, 1000 steps, max length 128, attention dropout 0.3. */
export const SimcseSchema = Type.Object({
  ...override(COMMON_PROPERTIES, {
    data: { description: "sentences: .txt (a sentence a line) or .jsonl ({\"text\"})" },
    batchSize: { default: 128 },
    maxLength: { default: 128 },
    learningRate: { default: 3e-5 },
    maxSteps: { default: 1000 },
    evalSteps: { default: 0 },
  }),
  ...override(CONTRASTIVE_PROPERTIES, { attentionDropout: { default: 0.3 } }),
  poolWholeRow: Type.Boolean({ default: false, description: "pool the whole padded row during training, as the reference's SimCSE does (default: the text span, as inference)" }),
  dedupe: Type.Boolean({ default: false, description: "drop repeated sentences (false negatives)" }),
});
export type SimcseOptions = Static<typeof SimcseSchema>;

export const SIMCSE_DEFAULTS = defaultsOf<Omit<SimcseOptions, "model" | "data" | "output">>(SimcseSchema);

export interface ContrastiveResult extends LoopOutcome {
  output: string;
  metrics: Record<string, unknown>;
}

export async function trainSimcse(options: TrainInput<SimcseOptions>, hooks: LoopHooks = {}): Promise<ContrastiveResult> {
  const o = resolveOptions(SimcseSchema, options);
  const say = hooks.onMessage ?? (() => {});
  const { sentences, duplicates } = readSentences(o.data, { dedupe: o.dedupe });
  if (sentences.length < o.batchSize) throw new Error(`training data: ${sentences.length} sentences, fewer than one batch of ${o.batchSize} (lower --batch-size or add data)`);
  if (duplicates) say(o.dedupe ? `dropped ${duplicates} repeated sentences` : `warning: ${duplicates} sentences repeat; a batch holding both copies treats one as a negative of the other (--dedupe drops them)`);
  const run = await startLoraRun(o, { pooling: "mean", maxLength: o.maxLength });
  try {
    const { enc } = run;
    const choice = { ...enc.poolingChoice(), wholePaddedRow: o.poolWholeRow };
    const sampler = new EpochSampler(sentences.length, o.batchSize, o.seed);
    let dupInBatches = 0;
    const objective: Objective = {
      name: "simcse",
      microBatch(step, micro, lossScale) {
        const g = step * o.gradientAccumulation + micro;
        const texts = sampler.batch(g).map((i) => sentences[i]!);
        dupInBatches += texts.length - new Set(texts).size;
        // The reference's SimCSE collator tokenises the raw sentence: no chat template, even on a
        // model whose name selects one for inference (llm2vec.md §1c).
        const rows = enc.prepare(texts, { chatTemplate: "none" });
        const pad = enc.tokenizer.padTokenId ?? 0;
        // Two views of the same batch: the same rows, two independent dropout draws.
        const views = [1, 2].map((v) => makeGroup(rows, pad, choice, fmix32(o.seed ^ fmix32(2 * g + v))));
        const pass = { ...enc.encoderPass({ training: true, attentionDropout: o.attentionDropout, checkpointLayers: o.gradientCheckpointing }) };
        const { loss } = contrastiveStep(enc.model, views, pass, ([q, d]) => contrastiveLoss(q!, d!, o.lossScale), o.chunkSize, lossScale);
        return { loss, tokens: rows.reduce((s, r) => s + r.ids.length, 0) * 2 };
      },
      exportState: (g) => ({ rng: {}, dataPosition: { microBatches: g, ...sampler.position(g) } }),
      importState() {},
    };
    const config = configJson("simcse", SimcseSchema, o);
    const { outcome, metrics } = await runLoraTraining(run, o, objective, config, hooks, {
      title: "SimCSE training",
      writeEncoderConfig: true,
      extraMetrics: () => ({ sentences: sentences.length, repeated_sentences: duplicates, repeated_in_batches: dupInBatches }),
    });
    return { ...outcome, output: o.output, metrics };
  } finally {
    run.release();
  }
}
