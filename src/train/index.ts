/** `llm2vec/train`: the LLM2Vec recipe's stages (MNTP, SimCSE, supervised contrastive, all with LoRA), the whole recipe (convert), and merging adapters into a model folder. */
export { trainMntp, MNTP_DEFAULTS, MntpSchema, type MntpOptions, type MntpResult } from "./mntp/train.js";
export { trainSimcse, SIMCSE_DEFAULTS, SimcseSchema, type SimcseOptions, type ContrastiveResult } from "./contrastive/train-simcse.js";
export { trainSupervised, SUPERVISED_DEFAULTS, SupervisedSchema, type SupervisedOptions } from "./contrastive/train-supervised.js";
export { convert, type ConvertOptions, type ConvertResult, type StageHooks } from "./convert.js";
export { merge, type MergeOptions } from "./merge.js";
export { COMMON_DEFAULTS, CommonTrainSchema, type CommonTrainOptions } from "./options.js";
export { NonFiniteLossError, LOG_FILE, type LoopHooks, type StepRecord, type EvalRecord, type LoopOutcome } from "./loop.js";
export { renderLossCurve, renderTrainingReport } from "./report.js";
