/** CLI flags made from the option schemas: train's flags, convert's per-stage flags, env vars. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import { Type } from "@sinclair/typebox";
import { buildProgram } from "../../src/cli/program.js";
import { addSchemaFlags, optionsFromFlags, type Flags } from "../../src/cli/schema-flags.js";
import { convertOptionsFromFlags } from "../../src/cli/commands/convert.js";
import { MntpSchema } from "../../src/train/mntp/train.js";
import { SupervisedSchema } from "../../src/train/contrastive/train-supervised.js";

/** The flags commander parses for `args` of a subcommand, its action replaced. */
async function parse(name: string[], args: string[]): Promise<Flags> {
  const program = buildProgram();
  let cmd = program;
  for (const n of name) cmd = cmd.commands.find((c) => c.name() === n)!;
  let seen: Flags = {};
  cmd.exitOverride().action((o: Flags) => {
    seen = o;
  });
  await program.parseAsync([...name, ...args], { from: "user" });
  return seen;
}

const required = ["--model", "m", "--data", "a.txt", "b.txt", "--output", "o"];

describe("flags from the option schemas", () => {
  it("train mntp: every schema option is a flag, parsed onto its option", async () => {
    const f = await parse(["train", "mntp"], [...required, "--warmup-steps", "10", "--causal", "--lora-targets", "q_proj, v_proj", "--mask-prob", "0.3", "--dtype", "bf16", "--adam-beta2", "0.95", "--mask-strategy", "all_mask"]);
    const o = optionsFromFlags(MntpSchema, f);
    const expected = { model: "m", data: ["a.txt", "b.txt"], output: "o", warmupSteps: 10, bidirectional: false, loraTargets: ["q_proj", "v_proj"], maskProbability: 0.3, computeDtype: "bf16", adamBeta2: 0.95, maskStrategy: "all_mask" };
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, o[k]])), expected);
    assert.equal(o.maxSteps, 1000, "the schema's default, through the flag's default");
    assert.equal(o.gradientCheckpointing, undefined, "an absent switch is left to the schema's default");
  });

  it("train supervised: --mixed-batches turns homogeneous batches off; a bad number names its flag", async () => {
    assert.equal(optionsFromFlags(SupervisedSchema, await parse(["train", "supervised"], [...required, "--mixed-batches"])).homogeneousBatches, false);
    const f = await parse(["train", "supervised"], [...required, "--warmup-steps", "ten"]);
    assert.throws(() => optionsFromFlags(SupervisedSchema, f), { message: '--warmup-steps: expected a number, got "ten"' });
  });

  it("convert: per-stage flags, shared flags for every stage, stage-only flags for their stage", async () => {
    const f = await parse(["convert"], [...required, "--mntp-warmup", "7", "--supervised-lr", "1e-4", "--simcse-steps", "5", "--seed", "3", "--chunk-size", "4", "--detokenize-wikitext", "--mntp-mask-prob", "0.1"]);
    const o = convertOptionsFromFlags(f);
    assert.deepEqual(o.mntp, { warmupSteps: 7, maskProbability: 0.1, seed: 3, detokenizeWikitext: true });
    assert.deepEqual(o.simcse, { maxSteps: 5, seed: 3, chunkSize: 4 });
    assert.deepEqual(o.supervised, { learningRate: 1e-4, seed: 3, chunkSize: 4 });
    assert.throws(() => convertOptionsFromFlags({ ...f, mntpLr: "fast" }), { message: '--mntp-lr: expected a number, got "fast"' });
  });

  it("help: each flag with its description and the objective's default", () => {
    const help = (name: string[]) => {
      let cmd = buildProgram();
      for (const n of name) cmd = cmd.commands.find((c) => c.name() === n)!;
      return cmd.helpInformation();
    };
    assert.match(help(["train", "supervised"]), /--warmup-steps <n>\s+linear warmup steps \(default: "300"\)/);
    assert.match(help(["train", "mntp"]), /--warmup-steps <n>\s+linear warmup steps \(default: "0"\)/);
    assert.match(help(["convert"]), /--supervised-warmup <n>\s+supervised linear warmup steps \(default 300\)/);
  });

  it("an option's environment variable is shown in the help and read when the flag is absent", async () => {
    const schema = Type.Object({ level: Type.Integer({ minimum: 0, default: 1, description: "verbosity", env: "TEST_SCHEMA_LEVEL" }) });
    const cmd = addSchemaFlags(new Command("t").exitOverride(), schema);
    assert.match(cmd.helpInformation(), /--level <n>\s+verbosity \(default: "1", env: TEST_SCHEMA_LEVEL\)/);
    process.env.TEST_SCHEMA_LEVEL = "3";
    try {
      cmd.parse([], { from: "user" });
      assert.deepEqual(optionsFromFlags(schema, cmd.opts()), { level: 3 });
    } finally {
      delete process.env.TEST_SCHEMA_LEVEL;
    }
  });
});
