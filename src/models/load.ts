/** Loading a Hugging Face model folder into a DecoderModel (config → spec → checked weights). */
import * as fs from "node:fs";
import * as path from "node:path";
import { openWeights } from "../formats/hf-folder.js";
import { loadDecoder } from "./build.js";
import type { RawConfig } from "./config-fields.js";
import type { DecoderModel } from "./decoder.js";
import { specFromConfig } from "./registry.js";
import type { DecoderSpec } from "./spec.js";

/** config.json as parsed JSON (kept so a saved model can write it back unchanged). */
export function readConfigJson(dir: string): RawConfig {
  const file = path.join(dir, "config.json");
  if (!fs.existsSync(file)) throw new Error(`${dir}: no config.json (is this a Hugging Face model folder?)`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${file}: expected a JSON object`);
  return raw as RawConfig;
}

export function readSpec(dir: string): DecoderSpec {
  return specFromConfig(readConfigJson(dir), path.join(dir, "config.json"));
}

export function loadModelFolder(dir: string): DecoderModel {
  const spec = readSpec(dir);
  const weights = openWeights(dir);
  try {
    return loadDecoder(spec, weights, dir);
  } finally {
    weights.close();
  }
}
