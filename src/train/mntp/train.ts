/**
 * `trainMntp`: masked next-token prediction with LoRA (llm2vec.md §1b), the first step of the
 * LLM2Vec recipe after switching on bidirectional attention. Defaults are the reference's
 * (train_configs/mntp/*.json + HF Trainer defaults); every one is an option.
 *
 * Data: documents packed into full blocks of maxLength tokens (group_texts); a held-out part
 * (whole documents, or separate files) masked once with a fixed seed, so every evaluation scores
 * the same positions. Each training micro-batch g takes blocks [g·B, g·B + B) of a per-epoch
 * seeded permutation, is masked by a generator whose state goes into each checkpoint, and draws
 * LoRA dropout from seed ⊕ g: a resumed run sees exactly the batches, masks and dropout of an
 * unbroken one.
 */
import { backward, noGrad } from "../../tensor/autograd.js";
import { fmix32 } from "../../tensor/backend/types.js";
import { Rng } from "../../tensor/random.js";
import { packBlocks, type TokenBlocks } from "../data/blocks.js";
import { readCorpus, splitDocuments } from "../data/corpus.js";
import { EpochSampler } from "../data/sampler.js";
import { startLoraRun, runLoraTraining } from "../lora-run.js";
import type { LoopHooks, LoopOutcome, Objective } from "../loop.js";
import { Type, type Static } from "@sinclair/typebox";
import { COMMON_PROPERTIES, type TrainInput } from "../options.js";
import { configJson, defaultsOf, oneOf, override, resolveOptions } from "../option-schema.js";
import { maskTokens, resolveMaskToken } from "./masking.js";
import { mntpLoss } from "./objective.js";

/** The reference's MNTP settings (Sheared-LLaMA / Llama configs; lr = HF default 5e-5). */
export const MntpSchema = Type.Object({
  ...override(COMMON_PROPERTIES, {
    data: { description: "training text: .txt (a document a line) or .jsonl ({\"text\"})" },
    maxLength: { default: 512 },
    batchSize: { default: 32 },
    learningRate: { default: 5e-5 },
    maxSteps: { default: 1000 },
  }),
  evalData: Type.Optional(Type.Array(Type.String(), { description: "held-out text files (default: hold out --eval-fraction of the documents)", arg: "file...", item: "data file" })),
  evalFraction: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.05, description: "share of documents held out" }),
  maxEvalBlocks: Type.Integer({ minimum: 1, default: 64, description: "held-out blocks scored per evaluation" }),
  detokenizeWikitext: Type.Boolean({ default: false, description: "undo WikiText's tokenisation (@-@, <unk>, headings)" }),
  maskProbability: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.2, flag: "--mask-prob", stageFlag: "mask-prob", description: "masking probability", arg: "p" }),
  maskStrategy: oneOf(["bert", "all_mask"] as const, { default: "bert", description: "bert = 80% mask / 10% random / 10% kept; all_mask = 100% mask" }),
  maskToken: Type.String({ default: "blank", description: "blank (the literal _), eos, or a token of the vocabulary", arg: "t" }),
});
export type MntpOptions = Static<typeof MntpSchema>;

export const MNTP_DEFAULTS = defaultsOf<Omit<MntpOptions, "model" | "data" | "output">>(MntpSchema);

export interface MntpResult extends LoopOutcome {
  output: string;
  metrics: Record<string, unknown>;
  maskToken: { id: number; token: string };
}

export async function trainMntp(options: TrainInput<MntpOptions>, hooks: LoopHooks = {}): Promise<MntpResult> {
  const o = resolveOptions(MntpSchema, options);
  const run = await startLoraRun(o);
  try {
    const { model, tokenizer: tok } = run.enc;
    const say = hooks.onMessage ?? (() => {});
    if (o.maxLength > model.spec.maxPositions) say(`note: --max-length ${o.maxLength} exceeds the model's max_position_embeddings ${model.spec.maxPositions}`);

    const mask = resolveMaskToken(tok, o.maskToken);
    if (mask.id >= model.spec.vocabSize) throw new Error(`--mask-token ${o.maskToken}: id ${mask.id} is outside the model's vocabulary of ${model.spec.vocabSize}`);
    say(`mask token ${JSON.stringify(mask.token)} (id ${mask.id}), ${o.maskStrategy} strategy, p = ${o.maskProbability}`);

    // Data: held-out documents first (whole documents), then blocks.
    const docs = readCorpus(o.data, { detokenizeWikitext: o.detokenizeWikitext });
    let trainDocs = docs;
    let heldDocs = o.evalData?.length ? readCorpus(o.evalData, { detokenizeWikitext: o.detokenizeWikitext }) : [];
    if (!o.evalData?.length && o.evalFraction > 0) ({ train: trainDocs, held: heldDocs } = splitDocuments(docs, o.evalFraction, new Rng(o.seed ^ 0x5eed).permutation(docs.length)));
    const train = packBlocks(tok, trainDocs, o.maxLength);
    if (train.count < o.batchSize) say(`note: ${train.count} training blocks, fewer than one batch of ${o.batchSize}: batches repeat blocks across epochs`);
    const held = heldDocs.length ? packBlocks(tok, heldDocs, o.maxLength, "held-out data") : null;
    say(`${train.count} training blocks of ${o.maxLength} tokens (${train.totalTokens} tokens, ${train.droppedTokens} in the final partial block dropped)` + (held ? `; ${Math.min(held.count, o.maxEvalBlocks)} held-out blocks` : ""));

    const pass = { mode: o.bidirectional ? ("bidirectional" as const) : ("causal" as const), padTokenId: tok.padTokenId ?? 0, checkpointLayers: o.gradientCheckpointing };
    const maskOpts = { probability: o.maskProbability, strategy: o.maskStrategy, maskTokenId: mask.id, randomVocab: Math.min(tok.vocabSize, model.spec.vocabSize) };

    const evalBatches = held ? maskedEvalBatches(held, Math.min(held.count, o.maxEvalBlocks), o.batchSize, maskOpts, new Rng(o.seed ^ 0xe7a1)) : [];
    const sampler = new EpochSampler(train.count, o.batchSize, o.seed);
    let maskRng = new Rng(o.seed);
    const objective: Objective = {
      name: "mntp",
      microBatch(step, micro, lossScale) {
        const g = step * o.gradientAccumulation + micro;
        const { ids, special } = gatherBlocks(train, sampler.batch(g));
        const m = maskTokens(ids, special, maskOpts, maskRng);
        const out = mntpLoss(model, { inputIds: m.inputIds, labels: m.labels, B: o.batchSize, T: o.maxLength }, { ...pass, training: true, seed: fmix32(o.seed ^ fmix32(g + 1)) });
        const loss = out.loss.f32[0]!;
        if (out.loss.requiresGrad && Number.isFinite(loss)) backward(out.loss, Float32Array.of(lossScale));
        return { loss, tokens: ids.length, extra: { masked: out.predicted, accuracy: out.predicted ? out.correct / out.predicted : 0 } };
      },
      evaluate: evalBatches.length
        ? () =>
            noGrad(() => {
              let lossSum = 0;
              let n = 0;
              let correct = 0;
              for (const b of evalBatches) {
                const out = mntpLoss(model, b, { ...pass, training: false, checkpointLayers: false });
                lossSum += out.loss.f32[0]! * out.predicted;
                n += out.predicted;
                correct += out.correct;
              }
              return { loss: n ? lossSum / n : NaN, accuracy: n ? correct / n : NaN, masked: n };
            })
        : undefined,
      exportState: (g) => ({ rng: { mask: maskRng.getState() }, dataPosition: { microBatches: g, ...sampler.position(g) } }),
      importState(s) {
        maskRng = Rng.fromState(s.rng.mask as number);
      },
    };

    const config = configJson("mntp", MntpSchema, o);
    const { outcome, metrics } = await runLoraTraining(run, o, objective, config, hooks, {
      title: "MNTP training",
      writeEncoderConfig: false,
      extraMetrics: (out) => {
        const before = out.evals.find((e) => e.step === 0)?.eval ?? null;
        const after = out.evals.at(-1)?.eval ?? null;
        return {
          heldout_loss_before: before?.loss ?? null,
          heldout_accuracy_before: before?.accuracy ?? null,
          heldout_loss_after: after?.loss ?? null,
          heldout_accuracy_after: after?.accuracy ?? null,
          heldout_masked_tokens: after?.masked ?? null,
          mask_token: mask.token,
          training_blocks: train.count,
        };
      },
    });
    return { ...outcome, output: o.output, metrics, maskToken: mask };
  } finally {
    run.release();
  }
}

function gatherBlocks(blocks: TokenBlocks, idx: readonly number[]): { ids: Int32Array; special: Uint8Array } {
  const S = blocks.blockSize;
  const ids = new Int32Array(idx.length * S);
  const special = new Uint8Array(idx.length * S);
  idx.forEach((blk, i) => {
    ids.set(blocks.ids.subarray(blk * S, (blk + 1) * S), i * S);
    special.set(blocks.special.subarray(blk * S, (blk + 1) * S), i * S);
  });
  return { ids, special };
}

function maskedEvalBatches(held: TokenBlocks, count: number, B: number, maskOpts: Parameters<typeof maskTokens>[2], rng: Rng) {
  const S = held.blockSize;
  const out: { inputIds: Int32Array; labels: Int32Array; B: number; T: number }[] = [];
  for (let start = 0; start < count; start += B) {
    const n = Math.min(B, count - start);
    const m = maskTokens(held.ids.subarray(start * S, (start + n) * S), held.special.subarray(start * S, (start + n) * S), maskOpts, rng);
    out.push({ inputIds: m.inputIds, labels: m.labels, B: n, T: S });
  }
  return out;
}
