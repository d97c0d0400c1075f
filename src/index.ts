/**
 * The package root (`llm2vec`): load a model, encode, generate, adapters, and what the native
 * addon chose. Training is `llm2vec/train`, the server `llm2vec/serve`, evaluation `llm2vec/eval`
 * (package.json "exports"); the tensor core, model builders and file formats stay internal.
 */
export { LLM2Vec, type FromPretrainedOptions, type EncodeOptions, type GenerateOptions } from "./encoder/llm2vec.js";
export { WorkerLLM2Vec, BatchStats, type WorkerOptions } from "./encoder/worker-llm2vec.js";
export type { LLM2VecApi } from "./encoder/api.js";
export { DEFAULT_OPTIONS, POOLING_MODES, CONFIG_FILE, type EncoderOptions, type PoolingMode } from "./encoder/options.js";
export { CHAT_TEMPLATES, type ChatTemplateName } from "./encoder/templates.js";
export { TRUNCATION_MODES, type TruncationMode } from "./encoder/truncate.js";
export { SEPARATOR, type EncodeInput } from "./encoder/prepare.js";
export { WordFeatures } from "./encoder/word-features.js";
export { COMPUTE_DTYPES, type ComputeDtype } from "./tensor/compute.js";
export type { GenerateInput } from "./generation/prompt.js";
export { ChatTemplateError, type ChatMessage } from "./generation/chat-template.js";
export { TextStream } from "./generation/text-stream.js";
export { DEFAULT_MAX_TOKENS, type GeneratedText, type TextDelta } from "./generation/text-session.js";
export { readLoraAdapter, readLoraConfig, writeLoraAdapter, type LoraAdapter, type LoraConfig, type LoraToWrite } from "./formats/peft.js";
export { importLlama2c, type ImportLlama2cOptions } from "./formats/llama2c.js";
export { nativeInfo, nativeBinary, type NativeInfo, type NativeBinary } from "./tensor/backend/native.js";
export type { NativeSource } from "./tensor/backend/native-resolve.js";
export { demoModelPath } from "./demo-model.js";
