import { test } from "node:test";
import assert from "node:assert/strict";
import * as formats from "../../src/formats/index.js";

test("index re-exports the public API", () => {
  for (const name of [
    "SafetensorsFile",
    "writeSafetensors",
    "openHfFolder",
    "openWeights",
    "readHfConfig",
    "hfConfigPath",
    "Tokenizer",
    "importLlama2c",
    "readLoraAdapter",
    "writeLoraAdapter",
    "loraScaling",
  ]) {
    assert.equal(typeof (formats as Record<string, unknown>)[name], "function", name);
  }
  // config.json semantics live in models/ (specFromConfig), not in the file-format layer.
  for (const name of ["readModelConfig", "parseModelConfig", "SUPPORTED_MODEL_TYPES"]) {
    assert.equal((formats as Record<string, unknown>)[name], undefined, name);
  }
});
