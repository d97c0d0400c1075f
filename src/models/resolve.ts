/**
 * Step one of loading: what the user named (`--model`, `--adapter`, `--tokenizer`, `--base`, or
 * fromPretrained's folder and options) becomes a plain, serialisable description of what to load
 * (`ResolvedModel`); models/load.ts then loads exactly that. Every reference goes through one
 * function, `locateFolder`, which turns it into a local folder.
 *
 * The reference's layouts (published-models.md): a model folder that is a PEFT adapter without
 * weights (McGill's `-mntp`) stands for its base (`base_model_name_or_path`, or `--base`) with the
 * adapter merged first; an adapter beside weights is merged into them; the tokenizer is the model
 * folder's when it has one. The names met on the way (`_name_or_path`, `base_model_name_or_path`)
 * are kept for the template rules (encoder/templates.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { folderHasWeights, hfConfigPath, isPeftAdapterFolder, readHfConfig, WEIGHT_FILES } from "../formats/hf-folder.js";
import { readLoraConfig } from "../formats/peft.js";
import { isHubId } from "../formats/hub/index.js";
import { hubFolder, type HubFetchOptions } from "./hub-folder.js";

/** What a folder is for: it decides the error's wording and the ways offered to supply it. */
export type FolderRole = "model" | "adapter" | "tokenizer" | "base";

export interface LocateOptions {
  role: FolderRole;
  /** Where the reference was given, named in errors: a flag ("--adapter") or a file's field. */
  from: string;
  /** For a Hub id: the revision and progress callback. */
  hub?: HubFetchOptions;
}

/** The flag (and library option) that gives a folder of each role. */
export const ROLE_FLAGS: Readonly<Record<FolderRole, string>> = {
  model: "--model (fromPretrained's folder)",
  adapter: "--adapter (option adapter)",
  tokenizer: "--tokenizer (option tokenizer)",
  base: "--base DIR (option base)",
};

/**
 * The ways to supply a folder that was not found, offered in the error. The one place to add a
 * source (a Hub download) to every such message.
 */
export function waysToSupply(role: FolderRole, from: string): string[] {
  const hub = "give a Hugging Face Hub id (org/name: downloaded into the shared cache, or found there with HF_HUB_OFFLINE=1)";
  if (role === "base")
    return [`pass the base model's folder with ${ROLE_FLAGS.base}`, `set ${from.startsWith("base_model_name_or_path") ? from : "base_model_name_or_path in the adapter's adapter_config.json"} to a local folder path`, hub];
  return [`pass a local ${role} folder with ${ROLE_FLAGS[role]}`, hub];
}

/**
 * A user's reference → an absolute local folder: a local path (checked), else a Hub id ("org/name"
 * that is no local path), fetched into or found in the shared cache. Errors name where the
 * reference came from and how to supply it.
 */
export async function locateFolder(ref: string, o: LocateOptions): Promise<string> {
  if (typeof ref !== "string" || ref.trim() === "") throw new Error(`${o.from}: expected a ${o.role} folder, got ${JSON.stringify(ref)}`);
  const dir = path.resolve(ref);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) return dir;
  if (!stat && isHubId(ref)) {
    try {
      return await hubFolder(ref, o.hub);
    } catch (e) {
      const what = o.role === "base" ? `the base model ${JSON.stringify(ref)} (${o.from})` : `${o.from} ${ref}`;
      throw new Error(`${what} is not a local folder, and as a Hub id: ${(e as Error).message}; ${waysToSupply(o.role, o.from).join(", or ")}`);
    }
  }
  const what = o.role === "base" ? `the base model ${JSON.stringify(ref)} (${o.from}) is` : `${o.from} ${ref}:`;
  const problem = stat ? "not a folder" : o.role === "base" ? "not a local folder" : `${o.role} folder does not exist`;
  throw new Error(`${what} ${problem}; ${waysToSupply(o.role, o.from).join(", or ")}`);
}

/** A name met while resolving, for the template rules: the value, its field and the file it is in. */
export interface NameInChain {
  name: string;
  field: "_name_or_path" | "base_model_name_or_path";
  file: string;
}

export interface AdapterStep {
  /** The adapter folder (adapter_config.json + adapter_model.safetensors). */
  dir: string;
  /** As the user or a file named it. */
  source: string;
  /** model-folder: the model folder is this adapter (no weights); beside-weights: it sits next to the weights; requested: --adapter. */
  reason: "model-folder" | "beside-weights" | "requested";
}

/** A resolved load: plain data (JSON-serialisable), decided before any weight is read. */
export interface ResolvedModel {
  /** The model reference as given. */
  model: string;
  /** The folder whose config.json and weights are loaded. */
  weightsDir: string;
  /** Adapters in the order they are applied to those weights. */
  adapters: AdapterStep[];
  tokenizerDir: string;
  /** Names met, nearest the user's model folder first, then the requested adapters'. */
  nameChain: NameInChain[];
  /** What was decided, in words. */
  notes: string[];
}

export interface ModelRequest {
  model: string;
  adapters?: readonly string[];
  tokenizer?: string;
  /** The base for a model folder that is a PEFT adapter (overrides its base_model_name_or_path). */
  base?: string;
  /** Hub ids: the model's revision (other references take their default branch) and progress. */
  revision?: string;
  onDownload?: HubFetchOptions["onProgress"];
}

/** Adapter folders stacked on one another beyond this are refused (a loop of base_model_name_or_path). */
const MAX_CHAIN = 8;

function namesOf(dir: string, adapterBase: string | null): NameInChain[] {
  const out: NameInChain[] = [];
  if (fs.existsSync(hfConfigPath(dir))) {
    const n = readHfConfig(dir)._name_or_path;
    if (typeof n === "string" && n !== "") out.push({ name: n, field: "_name_or_path", file: hfConfigPath(dir) });
  }
  if (adapterBase) out.push({ name: adapterBase, field: "base_model_name_or_path", file: path.join(dir, "adapter_config.json") });
  return out;
}

function adapterBaseOf(dir: string): string | null {
  return isPeftAdapterFolder(dir) ? readLoraConfig(path.join(dir, "adapter_config.json")).baseModelNameOrPath : null;
}

export async function resolveModel(req: ModelRequest): Promise<ResolvedModel> {
  const notes: string[] = [];
  const nameChain: NameInChain[] = [];
  const chain: string[] = []; // the model folder, then the bases it leads to
  const outer: AdapterStep[] = []; // adapter model folders, outermost first
  const hub = { onProgress: req.onDownload };
  let dir = await locateFolder(req.model, { role: "model", from: "--model", hub: { ...hub, revision: req.revision } });
  let ref = req.model;
  let weightsDir: string | null = null;
  const beside: AdapterStep[] = [];
  for (;;) {
    if (chain.includes(dir) || chain.length >= MAX_CHAIN) throw new Error(`${dir}: base_model_name_or_path leads back to a folder already met (${chain.join(" → ")}); pass the base with ${ROLE_FLAGS.base}`);
    chain.push(dir);
    const adapterBase = adapterBaseOf(dir);
    nameChain.push(...namesOf(dir, adapterBase));
    if (folderHasWeights(dir)) {
      weightsDir = dir;
      if (chain.length === 1 && req.base !== undefined) throw new Error(`${ROLE_FLAGS.base} is for a model folder that is a PEFT adapter without weights; ${dir} holds weights`);
      if (isPeftAdapterFolder(dir)) {
        beside.push({ dir, source: ref, reason: "beside-weights" });
        notes.push(`${dir} holds weights and a PEFT adapter (adapter_config.json): the adapter is merged into those weights, as the reference merges a model folder's own adapter`);
      }
      break;
    }
    if (!isPeftAdapterFolder(dir)) {
      const has = fs.existsSync(hfConfigPath(dir)) ? "config.json but" : "no config.json and";
      throw new Error(
        `${dir}: not a loadable model folder: it has ${has} no weights (${WEIGHT_FILES.join(", ")}) and no PEFT adapter (adapter_config.json). ` +
          `Pass the folder that holds the weights with --model, or for an adapter: --model BASE --adapter ${ref}`,
      );
    }
    const file = path.join(dir, "adapter_config.json");
    const fromFlag = chain.length === 1 && req.base !== undefined;
    const baseRef = fromFlag ? req.base! : adapterBase;
    if (!baseRef) throw new Error(`${dir} is a PEFT adapter without weights, and ${file} names no base_model_name_or_path; ${waysToSupply("base", `base_model_name_or_path in ${file}`).join(", or ")}`);
    outer.push({ dir, source: ref, reason: "model-folder" });
    const from = fromFlag ? "--base" : `base_model_name_or_path in ${file}`;
    dir = await locateFolder(baseRef, { role: "base", from, hub });
    notes.push(`${chain.at(-1)} is a PEFT adapter without weights: loading its base ${dir} (${from}) and merging the adapter into it first, as the reference does`);
    ref = baseRef;
  }
  const requested: AdapterStep[] = [];
  for (const a of req.adapters ?? []) {
    const adir = await locateFolder(a, { role: "adapter", from: "--adapter", hub });
    if (!isPeftAdapterFolder(adir)) throw new Error(`--adapter ${a}: no adapter_config.json in ${adir} (not a PEFT adapter folder)`);
    requested.push({ dir: adir, source: a, reason: "requested" });
  }
  for (const r of requested) nameChain.push(...namesOf(r.dir, adapterBaseOf(r.dir)));
  const tokenizerDir = await resolveTokenizer(req.tokenizer, [...chain, ...requested.map((r) => r.dir).reverse()], notes, hub);
  return { model: req.model, weightsDir: weightsDir!, adapters: [...beside, ...outer.reverse(), ...requested], tokenizerDir, nameChain, notes };
}

/**
 * The tokenizer folder: the one given, else the first with tokenizer.json of the model folder, the
 * bases it leads to, and the adapters from the last (the reference takes the model folder's).
 */
async function resolveTokenizer(given: string | undefined, candidates: string[], notes: string[], hub: HubFetchOptions): Promise<string> {
  if (given !== undefined) {
    const dir = await locateFolder(given, { role: "tokenizer", from: "--tokenizer", hub });
    if (!fs.existsSync(path.join(dir, "tokenizer.json"))) throw new Error(`${ROLE_FLAGS.tokenizer} ${given}: no tokenizer.json in ${dir}; give the folder that holds it`);
    return dir;
  }
  const found = candidates.find((d) => fs.existsSync(path.join(d, "tokenizer.json")));
  if (!found) throw new Error(`no tokenizer.json in ${candidates.join(" or ")}; pass the tokenizer folder with ${ROLE_FLAGS.tokenizer}`);
  if (found !== candidates[0]) notes.push(`the tokenizer comes from ${found} (${candidates[0]} has no tokenizer.json)`);
  return found;
}
