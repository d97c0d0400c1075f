import { test } from "node:test";
import assert from "node:assert/strict";
import * as formats from "../../src/formats/index.js";

test("index re-exports the public API", () => {
  for (const name of [
    "SafetensorsFile",
    "writeSafetensors",
    "openHfFolder",
    "openWeights",
    "readModelConfig",
    "parseModelConfig",
    "Tokenizer",
    "importLlama2c",
    "readLoraAdapter",
    "writeLoraAdapter",
    "loraScaling",
  ]) {
    assert.equal(typeof (formats as Record<string, unknown>)[name], "function", name);
  }
});
