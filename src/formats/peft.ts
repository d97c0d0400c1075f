/**
 * PEFT LoRA adapter folders: `adapter_config.json` + `adapter_model.safetensors`.
 *
 * PEFT saves tensors without the adapter name (`_remove_adapter_name_from_key`):
 * `base_model.model.<module path>.lora_A.weight` ([r, in]) and `.lora_B.weight` ([out, r]).
 * The merged weight is W + scaling · (B @ A), scaling = alpha / r (alpha / sqrt(r) with rsLoRA).
 * Only the keys needed for that are interpreted; unknown keys are kept in `raw` and ignored.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { RE2JS } from "re2js";
import { SafetensorsFile, type LoadedTensor } from "./safetensors.js";
import { writeSafetensors } from "./safetensors-write.js";
import { atomicWriteText, writeFolderAtomically } from "./atomic.js";
import { isLfsPointer, lfsPointerError } from "./lfs.js";

export interface LoraConfig {
  peftType: "LORA";
  r: number;
  loraAlpha: number;
  /** A list of module-name suffixes, or a regex string matched against the full module path. */
  targetModules: string[] | string;
  /** Layer indices PEFT put the adapter on (layers_to_transform); null = every layer. */
  layersToTransform: number[] | null;
  fanInFanOut: boolean;
  useRslora: boolean;
  /** Per-module overrides of r / alpha, keyed by a module-name pattern. */
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  baseModelNameOrPath: string | null;
  loraDropout: number;
  bias: string;
  taskType: string | null;
  /** The JSON as read. */
  raw: Record<string, unknown>;
}

const PREFIX = "base_model.model.";

function numberMap(v: unknown, file: string, field: string): Record<string, number> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new Error(`${file}: field "${field}" must be an object`);
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "number" || !(x > 0)) throw new Error(`${file}: field "${field}.${k}" must be a positive number`);
    try {
      compiled(suffixPattern(k));
    } catch (e) {
      throw new Error(`${file}: field "${field}": key ${JSON.stringify(k)} is not a regular expression this loader accepts (${(e as Error).message})`);
    }
    out[k] = x;
  }
  return out;
}

/** Validate a parsed adapter_config.json. */
export function parseLoraConfig(raw: unknown, file = "adapter_config.json"): LoraConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${file}: not a JSON object`);
  const o = raw as Record<string, unknown>;
  const err = (field: string, msg: string) => new Error(`${file}: field "${field}" ${msg}`);
  if (o.peft_type !== "LORA") throw err("peft_type", `must be "LORA", got ${JSON.stringify(o.peft_type)}`);
  const r = o.r;
  if (typeof r !== "number" || !Number.isInteger(r) || r <= 0) throw err("r", `must be a positive integer, got ${JSON.stringify(r)}`);
  // PEFT's default lora_alpha is 8.
  const loraAlpha = o.lora_alpha ?? 8;
  if (typeof loraAlpha !== "number" || !(loraAlpha > 0)) throw err("lora_alpha", `must be a positive number, got ${JSON.stringify(loraAlpha)}`);
  const tm = o.target_modules;
  let targetModules: string[] | string;
  if (typeof tm === "string") {
    targetModules = tm;
    if (tm !== "all-linear") {
      try {
        compiled(tm);
      } catch (e) {
        throw err("target_modules", `is not a regular expression this loader accepts: ${JSON.stringify(tm)} (${(e as Error).message}; the linear-time matcher has no lookaround or backreferences)`);
      }
    }
  } else if (Array.isArray(tm) && tm.every((x) => typeof x === "string")) targetModules = [...(tm as string[])];
  else throw err("target_modules", `must be a list of module names or a regex string, got ${JSON.stringify(tm)}`);
  const bool = (k: string) => {
    const v = o[k];
    if (v === undefined || v === null) return false;
    if (typeof v !== "boolean") throw err(k, `must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  };
  if (o.use_dora === true) throw err("use_dora", "is true: DoRA adapters are not supported");
  const ltt = o.layers_to_transform;
  let layersToTransform: number[] | null = null;
  if (typeof ltt === "number") layersToTransform = [ltt];
  else if (Array.isArray(ltt) && ltt.every((x) => Number.isInteger(x) && x >= 0)) layersToTransform = [...(ltt as number[])];
  else if (ltt !== undefined && ltt !== null) throw err("layers_to_transform", `must be a layer index or a list of them, got ${JSON.stringify(ltt)}`);
  const str = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : null);
  return {
    peftType: "LORA",
    r,
    loraAlpha,
    targetModules,
    layersToTransform,
    fanInFanOut: bool("fan_in_fan_out"),
    useRslora: bool("use_rslora"),
    rankPattern: numberMap(o.rank_pattern, file, "rank_pattern"),
    alphaPattern: numberMap(o.alpha_pattern, file, "alpha_pattern"),
    baseModelNameOrPath: str("base_model_name_or_path"),
    loraDropout: typeof o.lora_dropout === "number" ? o.lora_dropout : 0,
    bias: str("bias") ?? "none",
    taskType: str("task_type"),
    raw: o,
  };
}

export function readLoraConfig(file: string): LoraConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: cannot read adapter config: ${(e as Error).message}`);
  }
  return parseLoraConfig(raw, file);
}

/**
 * Patterns from adapter_config.json are matched by RE2JS, a linear-time engine: a backtracking
 * engine (RegExp, Python's re) takes exponential time on nested quantifiers, and the 9-character
 * `(.*.*)*z` against a 31-character module path never finishes. Compiled once per pattern.
 */
const patterns = new Map<string, RE2JS>();
function compiled(pattern: string): RE2JS {
  let p = patterns.get(pattern);
  if (!p) patterns.set(pattern, (p = RE2JS.compile(pattern)));
  return p;
}

/** PEFT's pattern key as a full-match regex: the whole path or a dotted suffix of it. */
function suffixPattern(key: string): string {
  return `(?:.*\\.)?(?:${key})`;
}

/** PEFT's pattern-key match: `key` matches the whole path or a dotted suffix of it. */
function patternMatches(key: string, modulePath: string): boolean {
  return modulePath === key || modulePath.endsWith("." + key) || compiled(suffixPattern(key)).matches(modulePath);
}

function lookupPattern(pattern: Record<string, number>, modulePath: string): number | undefined {
  for (const [k, v] of Object.entries(pattern)) if (patternMatches(k, modulePath)) return v;
  return undefined;
}

/** Whether PEFT would put a LoRA on `modulePath` (list: name or dotted suffix; string: full regex match). */
export function isTargetModule(config: LoraConfig, modulePath: string): boolean {
  const tm = config.targetModules;
  if (typeof tm === "string") {
    if (tm === "all-linear") return true;
    // re.fullmatch, as PEFT.
    return compiled(tm).matches(modulePath);
  }
  return tm.some((t) => modulePath === t || modulePath.endsWith("." + t));
}

/** r, alpha and scaling for one module, applying rank_pattern / alpha_pattern. */
export function loraScaling(config: LoraConfig, modulePath: string): { r: number; alpha: number; scaling: number } {
  const r = lookupPattern(config.rankPattern, modulePath) ?? config.r;
  const alpha = lookupPattern(config.alphaPattern, modulePath) ?? config.loraAlpha;
  return { r, alpha, scaling: config.useRslora ? alpha / Math.sqrt(r) : alpha / r };
}

export interface LoraLayer {
  /** [r, in] */
  a: LoadedTensor;
  /** [out, r] */
  b: LoadedTensor;
  r: number;
  alpha: number;
  scaling: number;
}

export interface LoraAdapter {
  config: LoraConfig;
  /** Keyed by module path (the tensor name without "base_model.model." and ".lora_X.weight"). */
  layers: Map<string, LoraLayer>;
}

const LORA_NAME = /^(.*)\.lora_([AB])(?:\.[^.]+)?\.weight$/;

/** Module path and A/B for a saved tensor name, or null if it is not a LoRA A/B weight. */
export function parseLoraTensorName(name: string): { modulePath: string; which: "A" | "B" } | null {
  const m = LORA_NAME.exec(name);
  if (!m) return null;
  let p = m[1]!;
  if (p.startsWith(PREFIX)) p = p.slice(PREFIX.length);
  return { modulePath: p, which: m[2] as "A" | "B" };
}

/** Read an adapter folder, pairing lora_A/lora_B per module and checking their shapes. */
export function readLoraAdapter(dir: string): LoraAdapter {
  const config = readLoraConfig(path.join(dir, "adapter_config.json"));
  const file = path.join(dir, "adapter_model.safetensors");
  if (!fs.existsSync(file)) {
    if (fs.existsSync(path.join(dir, "adapter_model.bin"))) throw new Error(`${dir}: only adapter_model.bin found; convert it to safetensors first`);
    throw new Error(`${file}: adapter weights missing`);
  }
  if (isLfsPointer(file)) throw lfsPointerError(file);
  const st = SafetensorsFile.open(file);
  try {
    const parts = new Map<string, { A?: string; B?: string }>();
    for (const name of st.names()) {
      const p = parseLoraTensorName(name);
      if (!p) throw new Error(`${file}: tensor "${name}" is not a LoRA A/B weight (unsupported adapter content)`);
      const e = parts.get(p.modulePath) ?? {};
      if (e[p.which]) throw new Error(`${file}: tensor "${name}" duplicates "${e[p.which]}"`);
      e[p.which] = name;
      parts.set(p.modulePath, e);
    }
    const layers = new Map<string, LoraLayer>();
    for (const [modulePath, e] of parts) {
      if (!e.A || !e.B) throw new Error(`${file}: module "${modulePath}" has ${e.A ? "lora_A" : "lora_B"} but no ${e.A ? "lora_B" : "lora_A"}`);
      const a = st.read(e.A);
      const b = st.read(e.B);
      const { r, alpha, scaling } = loraScaling(config, modulePath);
      if (a.shape.length !== 2 || a.shape[0] !== r) throw new Error(`${file}: tensor "${e.A}" has shape ${JSON.stringify(a.shape)}, expected [${r}, in]`);
      if (b.shape.length !== 2 || b.shape[1] !== r) throw new Error(`${file}: tensor "${e.B}" has shape ${JSON.stringify(b.shape)}, expected [out, ${r}]`);
      layers.set(modulePath, { a, b, r, alpha, scaling });
    }
    return { config, layers };
  } finally {
    st.close();
  }
}

export interface LoraToWrite {
  r: number;
  loraAlpha: number;
  targetModules: string[] | string;
  baseModelNameOrPath?: string | null;
  loraDropout?: number;
  useRslora?: boolean;
  fanInFanOut?: boolean;
  rankPattern?: Record<string, number>;
  alphaPattern?: Record<string, number>;
  taskType?: string | null;
  /** Module path → A [r, in] and B [out, r]. */
  layers: Record<string, { a: LoadedTensor; b: LoadedTensor }> | Map<string, { a: LoadedTensor; b: LoadedTensor }>;
}

/** adapter_config.json with the standard keys of PEFT ≈0.7–0.19 (all readable by PEFT ≥0.9). */
export function loraConfigJson(a: LoraToWrite): Record<string, unknown> {
  return {
    alpha_pattern: a.alphaPattern ?? {},
    auto_mapping: null,
    base_model_name_or_path: a.baseModelNameOrPath ?? null,
    bias: "none",
    fan_in_fan_out: a.fanInFanOut ?? false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: a.loraAlpha,
    lora_dropout: a.loraDropout ?? 0,
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: null,
    peft_type: "LORA",
    r: a.r,
    rank_pattern: a.rankPattern ?? {},
    revision: null,
    target_modules: a.targetModules,
    task_type: a.taskType ?? null,
    use_dora: false,
    use_rslora: a.useRslora ?? false,
  };
}

/** Writes the two PEFT files into an existing folder (each file atomically). */
export function writeLoraAdapterFiles(dir: string, adapter: LoraToWrite): void {
  const entries = adapter.layers instanceof Map ? [...adapter.layers] : Object.entries(adapter.layers);
  if (entries.length === 0) throw new Error(`${dir}: refusing to write an adapter with no LoRA modules`);
  const tensors: Record<string, LoadedTensor> = {};
  for (const [modulePath, { a, b }] of entries) {
    if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[0] !== b.shape[1]) {
      throw new Error(`${dir}: module "${modulePath}": lora_A ${JSON.stringify(a.shape)} and lora_B ${JSON.stringify(b.shape)} do not share a rank`);
    }
    tensors[`${PREFIX}${modulePath}.lora_A.weight`] = a;
    tensors[`${PREFIX}${modulePath}.lora_B.weight`] = b;
  }
  // Weights first: a reader that finds the config finds weights that belong to it or to the
  // previous save of the same run (same names and shapes).
  writeSafetensors(path.join(dir, "adapter_model.safetensors"), tensors, { format: "pt" });
  atomicWriteText(path.join(dir, "adapter_config.json"), JSON.stringify(loraConfigJson(adapter), null, 2) + "\n");
}

/** Write an adapter folder as PEFT's save_pretrained does, atomically (temp folder + rename). */
export function writeLoraAdapter(dir: string, adapter: LoraToWrite, options: { overwrite?: boolean } = {}): void {
  writeFolderAtomically(dir, options.overwrite ?? false, (tmp) => writeLoraAdapterFiles(tmp, adapter));
}
