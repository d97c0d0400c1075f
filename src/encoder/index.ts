export { LLM2Vec, type FromPretrainedOptions, type EncodeOptions, type GenerateOptions } from "./llm2vec.js";
export { WorkerLLM2Vec, BatchStats, type WorkerOptions } from "./worker-llm2vec.js";
export type { LLM2VecApi } from "./api.js";
export { WordFeatures } from "./word-features.js";
export { DEFAULT_OPTIONS, POOLING_MODES, CONFIG_FILE, type EncoderOptions, type PoolingMode } from "./options.js";
export { CHAT_TEMPLATES, REFERENCE_TEMPLATE_RULES, chooseTemplate, type ChatTemplateName, type CustomTemplate, type TemplateChoice, type TemplateOption } from "./templates.js";
export { SEPARATOR, type EncodeInput } from "./prepare.js";
export { padLeft, hiddenStates, pooledEmbeddings, batchPoolingWeights, type PaddedBatch, type EncoderPass, type PoolingChoice } from "./forward.js";
export type { GenerateInput } from "../generation/prompt.js";
