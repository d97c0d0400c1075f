/**
 * Step two of loading: a ResolvedModel (resolve.ts) into a DecoderModel with its adapters merged
 * or attached, and its tokenizer. The files are read by the formats layer (`openHfFolder`,
 * `readLoraAdapter`, `LazyTokenizer`); this module only interprets them, through
 * `specFromConfig` and `loadDecoder`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { hfConfigPath, openHfFolder, readHfConfig } from "../formats/hf-folder.js";
import { readLoraAdapter } from "../formats/peft.js";
import { LazyTokenizer } from "../formats/lazy-tokenizer.js";
import type { Tokenizer } from "../formats/tokenizer.js";
import { loadDecoder, type LoadOptions } from "./build.js";
import type { RawConfig } from "./config-fields.js";
import type { DecoderModel } from "./decoder.js";
import { applyLoraAdapter } from "./lora.js";
import { quantizedReader, readQuantizationConfig, refuseQuantizedNonProjections } from "./quantized-folder.js";
import { specFromConfig } from "./registry.js";
import type { ResolvedModel } from "./resolve.js";
import type { DecoderSpec } from "./spec.js";

export function readSpec(dir: string): DecoderSpec {
  return specFromConfig(readHfConfig(dir), hfConfigPath(dir));
}

/**
 * One folder of weights (no adapters, no tokenizer), checked tensor by tensor: the building block
 * of loadResolved, and what tests and benchmarks load a plain checkpoint with.
 */
export function loadModelFolder(dir: string, opts: LoadOptions = {}): DecoderModel {
  return loadWeightsFolder(dir, opts).model;
}

/** A folder saved quantized (quantized-folder.ts) loads its projections as stored, never re-quantized. */
function loadWeightsFolder(dir: string, opts: LoadOptions): { model: DecoderModel; rawConfig: RawConfig } {
  const folder = openHfFolder(dir);
  try {
    const configFile = hfConfigPath(dir);
    const kind = readQuantizationConfig(folder.config, configFile);
    const reader = kind ? quantizedReader(folder.weights, kind, dir) : folder.weights;
    const model = loadDecoder(specFromConfig(folder.config, configFile), reader, dir, opts);
    if (kind) refuseQuantizedNonProjections(model, dir);
    return { model, rawConfig: folder.config };
  } finally {
    folder.weights.close();
  }
}

export interface LoadResolvedOptions {
  /** Merge adapters into the weights (default) or attach them as separate low-rank paths. */
  mergeAdapters?: boolean;
  /** Accept checkpoint tensors the model does not use, reporting them through onNote. */
  allowUnusedWeights?: boolean;
  /** Warnings and notes, one line each (default: stderr, prefixed "llm2vec: "). */
  onNote?: (line: string) => void;
}

export interface LoadedModel {
  model: DecoderModel;
  /** The weights folder's config.json as read. */
  rawConfig: RawConfig;
  /** The tokenizer, built on first access (what token-id inputs never need). */
  readonly tokenizer: Tokenizer;
  /** The same tokenizer unbuilt: its summary (special ids, largest id, chat template) costs no build. */
  lazyTokenizer: LazyTokenizer;
}

export function noteToStderr(line: string): void {
  process.stderr.write(`llm2vec: ${line}\n`);
}

/** Loads what resolveModel decided: weights, then each adapter in order; the tokenizer when first used. */
export function loadResolved(r: ResolvedModel, opts: LoadResolvedOptions = {}): LoadedModel {
  const note = opts.onNote ?? noteToStderr;
  const { model, rawConfig } = loadWeightsFolder(r.weightsDir, {
    allowUnused: opts.allowUnusedWeights,
    onUnused: (names) => note(`${r.weightsDir}: ignoring ${names.length} unused tensor(s): ${names.slice(0, 6).join(", ")}${names.length > 6 ? ", …" : ""}`),
  });
  for (const a of r.adapters) {
    const adapter = readLoraAdapter(a.dir);
    if (a.reason === "requested") warnIfTrainedOnAnotherBase(a.dir, adapter.config.baseModelNameOrPath, r.weightsDir, rawConfig, note);
    applyLoraAdapter(model, adapter, { merge: opts.mergeAdapters ?? true, source: a.dir });
  }
  const lazyTokenizer = new LazyTokenizer(r.tokenizerDir);
  return {
    model,
    rawConfig,
    lazyTokenizer,
    get tokenizer() {
      return lazyTokenizer.get();
    },
  };
}

/**
 * An adapter for a model of other shapes is refused when applied (naming the module and shapes);
 * one trained on a local folder whose config differs from this model's fits the shapes but may
 * not the weights (another checkpoint, another size of the same family): say so, once per load.
 * Names that are no local folder (Hub ids) are not checked.
 */
function warnIfTrainedOnAnotherBase(adapterDir: string, base: string | null, modelDir: string, rawConfig: RawConfig, note: (line: string) => void): void {
  if (!base || !path.isAbsolute(base) || path.resolve(base) === path.resolve(modelDir)) return;
  const file = path.join(base, "config.json");
  if (!fs.existsSync(file)) return;
  let theirs: unknown;
  try {
    theirs = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return;
  }
  if (canonicalJson(theirs) === canonicalJson(rawConfig)) return;
  note(`warning: ${adapterDir} was trained on ${base}, whose config.json differs from ${path.join(modelDir, "config.json")}; the adapter may not suit this model`);
}

function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}
