/** Public API of the file-format layer: safetensors, HF folders, tokenizers, llama2.c, PEFT. */
export {
  SafetensorsFile,
  numel,
  MAX_HEADER_SIZE,
  type TensorInfo,
  type LoadedTensor,
  type SafetensorsDType,
} from "./safetensors.js";
export { writeSafetensors, type TensorToWrite } from "./safetensors-write.js";
export { atomicWrite, atomicWriteText, writeFolderAtomically } from "./atomic.js";
export { cleanStaleTemps } from "./stale-temps.js";
export { isLfsPointer } from "./lfs.js";
export { openHfFolder, openWeights, readHfConfig, hfConfigPath, SingleFileWeights, ShardedWeights, type WeightSource, type HfFolder } from "./hf-folder.js";
export { Tokenizer, type EncodeOptions, type DecodeOptions, type BatchOptions, type BatchEncoding } from "./tokenizer.js";
export {
  importLlama2c,
  readLlama2cCheckpoint,
  permuteForHf,
  hfLlamaConfig,
  hfLlamaTensors,
  type Llama2cConfig,
  type Llama2cWeights,
  type ImportLlama2cOptions,
} from "./llama2c.js";
export { readLlama2cTokenizer, llama2cEncode, buildTokenizerJson, deriveMerges, type Llama2cTokenizer } from "./llama2c-tokenizer.js";
export {
  parseLoraConfig,
  readLoraConfig,
  readLoraAdapter,
  writeLoraAdapter,
  loraScaling,
  isTargetModule,
  parseLoraTensorName,
  loraConfigJson,
  type LoraConfig,
  type LoraLayer,
  type LoraAdapter,
  type LoraToWrite,
} from "./peft.js";
