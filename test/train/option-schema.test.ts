/** The training option schemas: defaults, validation naming the flag, and training_config.json. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MntpSchema, MNTP_DEFAULTS } from "../../src/train/mntp/train.js";
import { SimcseSchema, SIMCSE_DEFAULTS } from "../../src/train/contrastive/train-simcse.js";
import { SupervisedSchema, SUPERVISED_DEFAULTS } from "../../src/train/contrastive/train-supervised.js";
import type { TObject } from "@sinclair/typebox";
import { configJson, resolveOptions } from "../../src/train/option-schema.js";
import { LINEAR_MODULES } from "../../src/models/spec.js";
import { PROJECTION_NAMES } from "../../src/models/names.js";

const given = { model: "m", data: ["d.txt"], output: "o" };

describe("training option schemas", () => {
  it("carry each objective's reference defaults over the shared ones", () => {
    assert.deepEqual([MNTP_DEFAULTS.batchSize, MNTP_DEFAULTS.maxLength, MNTP_DEFAULTS.learningRate, MNTP_DEFAULTS.warmupSteps, MNTP_DEFAULTS.maskProbability], [32, 512, 5e-5, 0, 0.2]);
    assert.deepEqual([SIMCSE_DEFAULTS.batchSize, SIMCSE_DEFAULTS.attentionDropout, SIMCSE_DEFAULTS.lossScale, SIMCSE_DEFAULTS.evalSteps], [128, 0.3, 20, 0]);
    assert.deepEqual([SUPERVISED_DEFAULTS.warmupSteps, SUPERVISED_DEFAULTS.lossScale, SUPERVISED_DEFAULTS.learningRate, SUPERVISED_DEFAULTS.homogeneousBatches], [300, 50, 2e-4, true]);
    assert.deepEqual(MNTP_DEFAULTS.loraTargets, [...LINEAR_MODULES]);
    const o = resolveOptions(MntpSchema, given);
    o.loraTargets.pop();
    assert.equal(resolveOptions(MntpSchema, given).loraTargets.length, LINEAR_MODULES.length, "defaults are not shared between runs");
  });

  it("reject bad values with a message naming the flag", () => {
    const cases: [TObject, Record<string, unknown>, string][] = [
      [MntpSchema, { maxLength: 1 }, "--max-length must be an integer ≥ 2, got 1"],
      [MntpSchema, { batchSize: 2.5 }, "--batch-size must be an integer ≥ 1, got 2.5"],
      [MntpSchema, { data: [] }, "--data: give at least one data file"],
      [MntpSchema, { loraAlpha: 0 }, "--lora-alpha must be positive, got 0"],
      [MntpSchema, { loraDropout: 1 }, "--lora-dropout must be in [0, 1), got 1"],
      [MntpSchema, { loraTargets: ["q_proj", "qkv"] }, `--lora-targets: unknown projection "qkv" (choose from ${PROJECTION_NAMES.join(", ")})`],
      [MntpSchema, { seed: 1.5 }, "--seed must be an integer, got 1.5"],
      [MntpSchema, { scheduler: "cosine" }, "--scheduler must be linear or constant, got cosine"],
      [MntpSchema, { learningRate: NaN }, "--learning-rate must be positive, got NaN"],
      [MntpSchema, { warmupSteps: -1 }, "--warmup-steps must be an integer ≥ 0, got -1"],
      [MntpSchema, { maskProbability: 1 }, "--mask-prob must be in (0, 1), got 1"],
      [MntpSchema, { maskStrategy: "span" }, "--mask-strategy must be bert or all_mask, got span"],
      [MntpSchema, { maxEvalBlocks: 0 }, "--max-eval-blocks must be an integer ≥ 1, got 0"],
      [MntpSchema, { computeDtype: "f16" }, "--dtype must be one of f32, bf16, auto, got f16"],
      [SimcseSchema, { attentionDropout: -0.1 }, "--attention-dropout must be in [0, 1), got -0.1"],
      [SimcseSchema, { lossScale: 0 }, "--loss-scale must be positive, got 0"],
      [SimcseSchema, { chunkSize: 0 }, "--chunk-size must be an integer ≥ 1, got 0"],
      // Options that were not checked before the schemas.
      [MntpSchema, { evalFraction: 1 }, "--eval-fraction must be in [0, 1), got 1"],
      [MntpSchema, { adamBeta2: 1 }, "--adam-beta2 must be in [0, 1), got 1"],
      [MntpSchema, { weightDecay: -0.01 }, "--weight-decay must be ≥ 0, got -0.01"],
      [SupervisedSchema, { homogeneousBatches: "yes" }, "homogeneousBatches must be true or false, got yes"],
    ];
    for (const [schema, bad, message] of cases) assert.throws(() => resolveOptions(schema, { ...given, ...bad }), { message }, JSON.stringify(bad));
  });

  it("refuse an option the schema does not know, so a typo is not ignored", () => {
    assert.throws(() => resolveOptions(MntpSchema, { ...given, warmupStep: 10 }), /unknown option "warmupStep" \(known: model, data, output, .*warmupSteps/);
  });

  it("write training_config.json as the objective and every option of the schema", () => {
    const o = resolveOptions(SimcseSchema, { ...given, warmupSteps: 10, base: undefined });
    const json = configJson("simcse", SimcseSchema, o);
    assert.equal(Object.keys(json)[0], "objective");
    assert.equal(json.warmupSteps, 10);
    assert.deepEqual(json.adapter, []);
    assert.deepEqual(Object.keys(json).slice(1).sort(), Object.keys(SimcseSchema.properties).filter((k) => !["base", "resume", "overwrite", "quantize"].includes(k)).sort());
  });
});
