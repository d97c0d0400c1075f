/**
 * LLM2Vec: a decoder LLM used as a text encoder. Loads a Hugging Face folder (plus optional PEFT
 * adapters, merged or attached), prepares inputs as the reference does (instructions condition
 * the text but are left out of pooling), batches by length, pools, and returns float32 rows.
 *
 *   const model = await LLM2Vec.fromPretrained(dir, { adapter, pooling: "mean" });
 *   const vecs = await model.encode([["Retrieve relevant passages:", "what is llm2vec"], "a doc"]);
 */
import { setComputeDtype } from "../models/compute-mode.js";
import { DEFAULT_PACK_BUDGET_MB, packFrozenWeights } from "../models/pack-weights.js";
import type { ComputeDtype } from "../tensor/compute.js";
import * as fs from "node:fs";
import * as path from "node:path";
import { atomicWriteText, writeFolderAtomically } from "../formats/atomic.js";
import { readLoraAdapter } from "../formats/peft.js";
import { writeSafetensors, type TensorToWrite } from "../formats/safetensors.js";
import { Tokenizer } from "../formats/tokenizer.js";
import { loadDecoder } from "../models/build.js";
import type { RawConfig } from "../models/config-fields.js";
import type { DecoderModel } from "../models/decoder.js";
import { openWeights } from "../formats/hf-folder.js";
import { readConfigJson } from "../models/load.js";
import { applyLoraAdapter, buildAdapterSet } from "../models/lora.js";
import type { AdapterChoice, AdapterSet } from "../models/decoder.js";
import { ChatTemplate } from "../generation/chat-template.js";
import type { GeneratedText } from "../generation/text-session.js";
import { promptIds, runGeneration, type GenerateInput, type GenerateOptions } from "./generation.js";
import { specFromConfig } from "../models/registry.js";
import { noGrad } from "../tensor/autograd.js";
import { configFileJson, CONFIG_FILE, DEFAULT_OPTIONS, readConfigFile, validateOptions, type EncoderOptions } from "./options.js";
import { hiddenStates, padLeft, pooledEmbeddings, type EncoderPass, type PoolingChoice } from "./forward.js";
import { prepareRow, type EncodeInput, type PreparedRow } from "./prepare.js";
import { checkTokenizerFitsModel } from "./vocab-check.js";
import { embeddingFault } from "./embedding-check.js";

export interface FromPretrainedOptions extends Partial<EncoderOptions> {
  /** PEFT adapter folder(s), applied in order (MNTP first, then SimCSE, as the recipe stacks them). */
  adapter?: string | string[];
  /** Merge adapters into the base weights (default) or keep them as separate low-rank paths. */
  mergeAdapter?: boolean;
  /** Tokenizer folder when it is not the model folder. */
  tokenizer?: string;
  /**
   * Memory (MB) for packing the frozen projection weights once for the GEMM instead of on every
   * product (faster small batches; a pack is an f32 copy of its weight). 0 turns it off.
   * Default 2048.
   */
  packWeightsMB?: number;
  /** Load a checkpoint holding tensors the model does not use (they are listed on stderr) instead of refusing it. */
  allowUnusedWeights?: boolean;
  /**
   * A Jinja chat template (text) for generate(), replacing the tokenizer's `chat_template`.
   * (Not `chatTemplate`, which is the encoder's input template for instructions.)
   */
  chatTemplateJinja?: string;
  /**
   * "bf16": projections multiply bf16-rounded operands with f32 accumulation (PyTorch bf16
   * autocast with f32 outputs; norms, attention, softmax, losses stay f32). Default "f32".
   */
  computeDtype?: ComputeDtype;
}

export interface EncodeOptions {
  batchSize?: number;
  /** L2-normalise each row (then a dot product is the cosine). */
  normalize?: boolean;
  onProgress?: (done: number, total: number, tokens: number) => void;
  signal?: AbortSignal;
  /** Adapter set (loadAdapter) to encode with, or "none" for the base; default: the attached adapters. */
  adapter?: string;
}

export class LLM2Vec {
  /** Adapter sets held apart from the base weights, chosen per call by name (loadAdapter). */
  private readonly adapterSets = new Map<string, AdapterSet>();
  /** Adapters merged into the base weights at load: generation from "the base" would not be the base. */
  mergedAdapters: readonly string[] = [];
  private chatTemplate: ChatTemplate | null = null;

  constructor(
    readonly model: DecoderModel,
    readonly tokenizer: Tokenizer,
    readonly options: EncoderOptions,
    /** config.json as loaded, written back by save(). */
    readonly rawConfig: RawConfig,
    readonly tokenizerDir: string,
  ) {}

  static async fromPretrained(dir: string, opts: FromPretrainedOptions = {}): Promise<LLM2Vec> {
    const rawConfig = readConfigJson(dir);
    const spec = specFromConfig(rawConfig, path.join(dir, "config.json"));
    const weights = openWeights(dir);
    let model: DecoderModel;
    try {
      model = loadDecoder(spec, weights, dir, {
        allowUnused: opts.allowUnusedWeights,
        onUnused: (names) => process.stderr.write(`llm2vec: ${dir}: ignoring ${names.length} unused tensor(s): ${names.slice(0, 6).join(", ")}${names.length > 6 ? ", …" : ""}\n`),
      });
    } finally {
      weights.close();
    }
    const adapters = opts.adapter === undefined ? [] : Array.isArray(opts.adapter) ? opts.adapter : [opts.adapter];
    let fileOpts = readConfigFile(dir);
    for (const a of adapters) {
      const adapter = readLoraAdapter(a);
      warnIfTrainedOnAnotherBase(a, adapter.config.baseModelNameOrPath, dir, rawConfig);
      applyLoraAdapter(model, adapter, { merge: opts.mergeAdapter ?? true, source: a });
      fileOpts = { ...fileOpts, ...readConfigFile(a) };
    }
    setComputeDtype(model, opts.computeDtype ?? "f32", "computeDtype");
    const packMB = opts.packWeightsMB ?? DEFAULT_PACK_BUDGET_MB;
    if (!(Number.isFinite(packMB) && packMB >= 0)) throw new Error(`LLM2Vec.fromPretrained: packWeightsMB must be a non-negative number, got ${String(opts.packWeightsMB)}`);
    if (packMB > 0) packFrozenWeights(model, model.computeDtype, packMB * 1024 * 1024);
    const tokDir = opts.tokenizer ?? findTokenizerDir([dir, ...adapters.slice().reverse()]);
    const tokenizer = Tokenizer.fromFolder(tokDir);
    checkTokenizerFitsModel(tokenizer, model.spec.vocabSize, tokDir, dir);
    const explicit: Partial<EncoderOptions> = {};
    for (const k of Object.keys(DEFAULT_OPTIONS) as (keyof EncoderOptions)[]) if (opts[k] !== undefined) (explicit as Record<string, unknown>)[k] = opts[k];
    validateOptions(explicit, "LLM2Vec.fromPretrained options");
    const enc = new LLM2Vec(model, tokenizer, { ...DEFAULT_OPTIONS, ...fileOpts, ...explicit }, rawConfig, tokDir);
    if (opts.mergeAdapter ?? true) enc.mergedAdapters = adapters;
    if (opts.chatTemplateJinja !== undefined) enc.setChatTemplate(opts.chatTemplateJinja, "the chatTemplateJinja option");
    else if (tokenizer.chatTemplate !== null) enc.setChatTemplate(tokenizer.chatTemplate, path.join(tokDir, "tokenizer_config.json"));
    return enc;
  }

  /** Replaces the chat template; `source` names it in errors. */
  setChatTemplate(text: string, source: string): void {
    this.chatTemplate = new ChatTemplate(text, source);
  }

  /**
   * Loads PEFT adapter folder(s) as a named set (stacked in order) kept apart from the base
   * weights: `encode(..., { adapter: name })` runs with them, other calls do not see them.
   */
  loadAdapter(name: string, dirs: string | readonly string[]): void {
    if (name === "none" || name === "") throw new Error(`loadAdapter: "${name}" is not a usable adapter name`);
    const list = typeof dirs === "string" ? [dirs] : dirs;
    this.adapterSets.set(name, buildAdapterSet(this.model, list.map((d) => ({ adapter: readLoraAdapter(d), source: d }))));
  }

  get adapterNames(): string[] {
    return [...this.adapterSets.keys()];
  }

  /** undefined = the attached adapters, "none" = the base, else a set loaded by loadAdapter. */
  adapterChoice(name: string | undefined): AdapterChoice {
    if (name === undefined) return "attached";
    if (name === "none") return "none";
    const set = this.adapterSets.get(name);
    if (!set) throw new Error(`no adapter named "${name}" (loaded: ${this.adapterNames.join(", ") || "none"})`);
    return set;
  }

  /** Prompt ids of a raw prompt or a conversation (rendered with the chat template). */
  promptIds(input: GenerateInput): number[] {
    return promptIds(this.tokenizer, this.chatTemplate, input, path.join(this.tokenizerDir, "tokenizer_config.json"));
  }

  /**
   * Generates from the base model, causally, with no adapter (unless `opts.adapter` names one):
   * the same weights that encode() runs bidirectionally with its adapters.
   */
  async generate(input: GenerateInput, opts: GenerateOptions = {}): Promise<GeneratedText> {
    return (await this.generateBatch([input], opts))[0]!;
  }

  /** Several inputs decoded together (left-padded into one batch); onDelta's row is the input index. */
  async generateBatch(inputs: readonly GenerateInput[], opts: GenerateOptions = {}): Promise<GeneratedText[]> {
    return runGeneration(this.model, this.tokenizer, inputs.map((x) => this.promptIds(x)), this.generationAdapters(opts.adapter), opts);
  }

  /** The adapters generation runs with; refuses a base whose weights had adapters merged into them. */
  generationAdapters(name: string | undefined): AdapterChoice {
    if (this.mergedAdapters.length > 0 && (name === undefined || name === "none"))
      throw new Error(`generate: adapters (${this.mergedAdapters.join(", ")}) were merged into the base weights, so the base model is gone; load with mergeAdapter: false to generate from the base and encode with the adapters`);
    return name === undefined ? "none" : this.adapterChoice(name);
  }

  get dimension(): number {
    return this.model.spec.hiddenSize;
  }

  /** Token rows as the encoder will run them (for `llm2vec tokenize` and tests). */
  prepare(inputs: readonly EncodeInput[]): PreparedRow[] {
    if (!Array.isArray(inputs)) throw new TypeError("encode: inputs must be an array of strings or [instruction, text] pairs");
    return inputs.map((x, i) => prepareRow(this.tokenizer, x, i, this.options, this.model.spec.family));
  }

  async encode(inputs: readonly EncodeInput[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    if (opts.adapter !== undefined) this.adapterChoice(opts.adapter); // an unknown name fails before any work
    return this.encodePrepared(this.prepare(inputs), opts);
  }

  /** Encodes already-tokenised rows (e.g. `{"input_ids": [...]}` lines); all their tokens are text. */
  async encodeIds(rows: readonly (readonly number[])[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    const V = this.model.spec.vocabSize;
    const prepared = rows.map((r, i) => {
      if (r.length === 0) throw new Error(`encode: input ${i} has no token ids`);
      if (r.length > this.options.maxLength) throw new Error(`encode: input ${i} has ${r.length} ids, over maxLength ${this.options.maxLength}`);
      for (const id of r) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`encode: input ${i} holds token id ${id}, outside [0, ${V})`);
      return { ids: Int32Array.from(r), textTokens: r.length };
    });
    return this.encodePrepared(prepared, opts);
  }

  private async encodePrepared(rows: PreparedRow[], opts: EncodeOptions): Promise<Float32Array[]> {
    const batchSize = opts.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`encode: batchSize must be a positive integer, got ${batchSize}`);
    // Longest first (as the reference): similar lengths share a batch, so little is padding.
    const order = rows.map((_, i) => i).sort((a, b) => rows[b]!.ids.length - rows[a]!.ids.length || a - b);
    const out: Float32Array[] = new Array(rows.length);
    const C = this.model.spec.hiddenSize;
    let done = 0;
    let tokens = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      if (opts.signal?.aborted) throw new Error("encode: aborted");
      const idx = order.slice(start, start + batchSize);
      const batch = idx.map((i) => rows[i]!);
      const pooled = this.runBatch(batch, opts.adapter);
      idx.forEach((i, b) => {
        const v = pooled.slice(b * C, (b + 1) * C);
        // A NaN (weights or model blew up) or a zero vector (nothing pooled): say which input, never return it.
        const fault = embeddingFault(v);
        if (fault) throw new Error(`encode: input ${i} produced ${fault}`);
        if (opts.normalize) normalizeInPlace(v);
        out[i] = v;
      });
      done += batch.length;
      tokens += batch.reduce((s, r) => s + r.ids.length, 0);
      opts.onProgress?.(done, rows.length, tokens);
      // Let timers, signals and progress output run between batches.
      await new Promise((r) => setImmediate(r));
    }
    return out;
  }

  /**
   * Last-layer hidden states of token rows (no pooling): [length·C] per row, in input order.
   * What token-level uses (the word probe, issue #21's "word embeddings") need.
   */
  tokenStates(rows: readonly Int32Array[], batchSize = 16): Float32Array[] {
    const C = this.model.spec.hiddenSize;
    const out: Float32Array[] = [];
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.slice(start, start + batchSize);
      const padded = padLeft(batch, this.tokenizer.padTokenId ?? 0);
      const { T } = padded;
      const h = noGrad(() => hiddenStates(this.model, padded, this.encoderPass())).f32;
      batch.forEach((r, b) => out.push(h.slice((b * T + T - r.length) * C, (b + 1) * T * C)));
    }
    return out;
  }

  private get mode(): "bidirectional" | "causal" {
    return this.options.bidirectional ? "bidirectional" : "causal";
  }

  /** How this encoder runs a batch: the pass and pooling that training uses too (forward.ts). */
  encoderPass(training: Partial<Pick<EncoderPass, "training" | "attentionDropout" | "seed" | "checkpointLayers">> = {}, adapter?: string): EncoderPass {
    return { mode: this.mode, padTokenId: this.tokenizer.padTokenId ?? 0, ...training, adapters: this.adapterChoice(adapter) };
  }

  poolingChoice(): PoolingChoice {
    return { pooling: this.options.pooling, skipInstruction: this.options.skipInstruction, bosTokenId: this.tokenizer.bosTokenId };
  }

  /** One left-padded batch through the model and the pooling. Returns [B·C]. */
  private runBatch(batch: PreparedRow[], adapter?: string): Float32Array {
    return noGrad(() => pooledEmbeddings(this.model, batch, this.encoderPass({}, adapter), this.poolingChoice()).f32);
  }

  /**
   * Writes a self-contained model folder: config.json, model.safetensors (adapters merged),
   * the tokenizer files and llm2vec_config.json. Atomic: a killed save leaves no half folder.
   */
  save(dir: string, opts: { overwrite?: boolean } = {}): void {
    for (const [, lin] of this.model.linearModules())
      if (lin.lora) throw new Error("save: adapters are attached unmerged; load with mergeAdapter: true (or merge them) before saving a full model");
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of this.model.namedWeights()) tensors[name] = { dtype: t.dtype, shape: [...t.shape], data: t.data };
    writeFolderAtomically(dir, opts.overwrite ?? false, (tmp) => {
      atomicWriteText(path.join(tmp, "config.json"), JSON.stringify(this.rawConfig, null, 2) + "\n");
      writeSafetensors(path.join(tmp, "model.safetensors"), tensors, { format: "pt" });
      for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) {
        const src = path.join(this.tokenizerDir, f);
        if (fs.existsSync(src)) fs.copyFileSync(src, path.join(tmp, f));
      }
      atomicWriteText(path.join(tmp, CONFIG_FILE), JSON.stringify(configFileJson(this.options), null, 2) + "\n");
    });
  }
}

function findTokenizerDir(candidates: string[]): string {
  for (const d of candidates) if (fs.existsSync(path.join(d, "tokenizer.json"))) return d;
  throw new Error(`no tokenizer.json in ${candidates.join(" or ")}; pass the tokenizer folder explicitly`);
}

function normalizeInPlace(v: Float32Array): void {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i]! * v[i]!;
  const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}

/**
 * An adapter for a model of other shapes is refused when applied (naming the module and shapes);
 * one trained on a local folder whose config differs from this model's fits the shapes but may
 * not the weights (another checkpoint, another size of the same family): say so, once per load.
 * Hub ids and folders that are gone are not checked.
 */
function warnIfTrainedOnAnotherBase(adapterDir: string, base: string | null | undefined, modelDir: string, rawConfig: RawConfig): void {
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
  process.stderr.write(`llm2vec: warning: ${adapterDir} was trained on ${base}, whose config.json differs from ${path.join(modelDir, "config.json")}; the adapter may not suit this model\n`);
}

function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}

