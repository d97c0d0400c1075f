export * from "./spec.js";
export { specFromConfig, SUPPORTED_MODEL_TYPES } from "./registry.js";
export { ConfigError, ConfigReader, type RawConfig } from "./config-fields.js";
export { DecoderModel, defaultPositions, modulePath, type DecoderLayer, type ForwardOptions } from "./decoder.js";
export { applyLinear, type LinearLayer, type LoraWeights } from "./linear.js";
export { buildDecoder, loadDecoder, randomDecoder, MissingWeightError, type WeightReader } from "./build.js";
export { RopeCache, inverseFrequencies } from "./rope-tables.js";
export { loadModelFolder, readSpec } from "./load.js";
