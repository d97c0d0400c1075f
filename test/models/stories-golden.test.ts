/** The real pretrained stories260K, imported from llama2.c, must write the golden greedy story. */
import { it } from "node:test";
import assert from "node:assert/strict";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { generate } from "../../src/models/generate.js";
import { loadModelFolder } from "../../src/models/load.js";
import { storiesFolder } from "../helpers/stories.js";

// From ../shared/data/README.md: greedy decoding from BOS (id 1), causal attention.
const GOLDEN = [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433];

it("stories260K generates the golden greedy ids from BOS", () => {
  const dir = storiesFolder();
  const model = loadModelFolder(dir);
  const ids = generate(model, [1], { maxTokens: GOLDEN.length, greedy: true });
  assert.deepEqual(ids, GOLDEN);
  const text = Tokenizer.fromFolder(dir).decode(ids);
  assert.match(text, /^Once upon a time, there was a little girl named Lily\. She loved to play outside in the park/);
});
