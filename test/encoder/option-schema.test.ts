/** The encoder's option schema: its defaults, its checks naming source and field, and llm2vec_config.json's keys. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { configFileJson, DEFAULT_OPTIONS, EncoderSchema, readConfigFile, validateOptions } from "../../src/encoder/options.js";
import { CHAT_TEMPLATES } from "../../src/encoder/templates.js";
import { Type } from "@sinclair/typebox";
import { validateOptions as checkSchema } from "../../src/train/option-schema.js";

const SOURCE = "LLM2Vec.fromPretrained options";

describe("encoder option schema", () => {
  it("gives the defaults", () => {
    assert.deepEqual(DEFAULT_OPTIONS, {
      pooling: "mean",
      maxLength: 512,
      docMaxLength: 400,
      skipInstruction: true,
      bidirectional: true,
      chatTemplate: "none",
      truncation: "words",
      eosSuffix: null,
      queryInstruction: null,
      computeDtype: "f32",
    });
  });

  it("rejects each field's bad value with a message naming the source and the field", () => {
    const presets = Object.keys(CHAT_TEMPLATES).join(", ");
    const cases: [Record<string, unknown>, string][] = [
      [{ pooling: "max" }, `pooling must be one of mean, weighted_mean, last_token, eos_token, bos_token, got "max"`],
      [{ maxLength: 0 }, `maxLength must be a positive integer, got 0`],
      [{ docMaxLength: 2.5 }, `docMaxLength must be a positive integer, got 2.5`],
      [{ maxLength: "512" }, `maxLength must be a positive integer, got "512"`],
      [{ skipInstruction: "yes" }, `skipInstruction must be true or false, got "yes"`],
      [{ bidirectional: 1 }, `bidirectional must be true or false, got 1`],
      [{ chatTemplate: "chatml" }, `chatTemplate must be "auto", one of ${presets}, or {"prefix": string, "suffix": string}, got "chatml"`],
      [{ chatTemplate: { prefix: "a", suffix: "b", extra: 1 } }, `chatTemplate must be "auto", one of ${presets}, or {"prefix": string, "suffix": string}, got {"prefix":"a","suffix":"b","extra":1}`],
      [{ truncation: "chars" }, `truncation must be one of words, tokens, got "chars"`],
      [{ eosSuffix: 3 }, `eosSuffix must be a string or null, got 3`],
      [{ queryInstruction: false }, `queryInstruction must be a string or null, got false`],
      [{ computeDtype: "f16" }, `computeDtype must be one of f32, bf16, auto, got "f16"`],
    ];
    for (const [bad, message] of cases) assert.throws(() => validateOptions(bad, SOURCE), { message: `${SOURCE}: ${message}` }, JSON.stringify(bad));
  });

  it("accepts a subset, auto, a custom template and null", () => {
    for (const ok of [{}, { chatTemplate: "auto" }, { chatTemplate: { prefix: "<q>", suffix: "" } }, { eosSuffix: null, queryInstruction: "Q:" }, { maxLength: 1 }, { computeDtype: "auto" }])
      assert.deepEqual(validateOptions(ok as never, SOURCE), ok);
  });

  it("writes and reads llm2vec_config.json under the reference's snake_case keys, leaving the compute dtype (a setting of the machine) out", () => {
    const o = { ...DEFAULT_OPTIONS, pooling: "eos_token" as const, truncation: "tokens" as const, queryInstruction: "Q:" };
    const json = configFileJson(o);
    assert.deepEqual(Object.keys(json), ["pooling_mode", "max_length", "doc_max_length", "skip_instruction", "bidirectional", "chat_template", "truncation", "eos_suffix", "query_instruction"]);
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-optschema-"));
    try {
      fs.writeFileSync(path.join(d, "llm2vec_config.json"), JSON.stringify({ ...json, unknown_key: 1, toString: 2 }));
      const { computeDtype: _machine, ...inFile } = o;
      assert.deepEqual(readConfigFile(d), inFile);
      fs.writeFileSync(path.join(d, "llm2vec_config.json"), JSON.stringify({ max_length: -1 }));
      assert.throws(() => readConfigFile(d), { message: `${path.join(d, "llm2vec_config.json")}: maxLength must be a positive integer, got -1` });
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
    assert.deepEqual(Object.keys(EncoderSchema.properties), Object.keys(DEFAULT_OPTIONS));
  });

  it("the option-schema helpers name flags by default and fields after a source", () => {
    const schema = Type.Object({ mode: Type.Union([Type.Literal("a"), Type.Literal("b")]) });
    assert.throws(() => checkSchema(schema, { mode: "c" }), { message: "--mode must be a or b, got c" });
    assert.throws(() => checkSchema(schema, { mode: "c" }, { source: "x.json" }), { message: `x.json: mode must be one of a, b, got "c"` });
  });
});
