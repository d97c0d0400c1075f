/**
 * Loading a Hugging Face model folder into a DecoderModel (config → spec → checked weights).
 * The files are read by the formats layer (`openHfFolder` / `readHfConfig`); this module only
 * interprets them, through `specFromConfig`.
 */
import { hfConfigPath, openHfFolder, readHfConfig } from "../formats/hf-folder.js";
import { loadDecoder } from "./build.js";
import type { RawConfig } from "./config-fields.js";
import type { DecoderModel } from "./decoder.js";
import { specFromConfig } from "./registry.js";
import type { DecoderSpec } from "./spec.js";

/** config.json as parsed JSON (kept so a saved model can write it back unchanged). */
export function readConfigJson(dir: string): RawConfig {
  return readHfConfig(dir);
}

export function readSpec(dir: string): DecoderSpec {
  return specFromConfig(readConfigJson(dir), hfConfigPath(dir));
}

export function loadModelFolder(dir: string): DecoderModel {
  const folder = openHfFolder(dir);
  try {
    return loadDecoder(specFromConfig(folder.config, hfConfigPath(dir)), folder.weights, dir);
  } finally {
    folder.weights.close();
  }
}
