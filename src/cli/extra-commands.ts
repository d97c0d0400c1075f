/** Commands registered beyond the core set (evaluation, comparison, training, merging, the whole recipe, weight conversion, serving, diagnostics), kept apart so main.ts stays a list. */
import type { Command } from "commander";
import { registerCompare } from "./commands/compare.js";
import { registerEval } from "./commands/eval.js";
import { registerMerge } from "./commands/merge.js";
import { registerTrain } from "./commands/train.js";
import { registerServe } from "./commands/serve.js";
import { registerConvert } from "./commands/convert.js";
import { registerConvertWeights } from "./commands/convert-weights.js";
import { registerDoctor } from "./commands/doctor.js";

export function registerExtraCommands(program: Command): void {
  registerEval(program);
  registerCompare(program);
  registerTrain(program);
  registerMerge(program);
  registerConvert(program);
  registerConvertWeights(program);
  registerServe(program);
  registerDoctor(program);
}
