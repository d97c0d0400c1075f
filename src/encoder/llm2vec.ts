/**
 * LLM2Vec: a decoder LLM used as a text encoder. Loads a Hugging Face folder (plus optional PEFT
 * adapters, merged or attached), prepares inputs as the reference does (instructions condition
 * the text but are left out of pooling), batches by length, pools, and returns float32 rows.
 *
 *   const model = await LLM2Vec.fromPretrained(dir, { adapter, pooling: "mean" });
 *   const vecs = await model.encode([["Retrieve relevant passages:", "what is llm2vec"], "a doc"]);
 */
import { setComputeDtype, type ComputeDtypeOption } from "../models/compute-mode.js";
import { DEFAULT_PACK_BUDGET_MB, packFrozenWeights, quantizeFrozenWeights } from "../models/pack-weights.js";
import type { QuantizeOption } from "../tensor/quant.js";
import { modelQuantKind, quantizationConfig, quantizedTensors } from "../models/quantized-folder.js";
import type { ComputeDtype } from "../tensor/compute.js";
import * as fs from "node:fs";
import * as path from "node:path";
import { atomicWriteText, writeFolderAtomically } from "../formats/atomic.js";
import { readLoraAdapter } from "../formats/peft.js";
import { writeSafetensors, type TensorToWrite } from "../formats/safetensors-write.js";
import type { Tokenizer } from "../formats/tokenizer.js";
import { LazyTokenizer } from "../formats/lazy-tokenizer.js";
import type { RawConfig } from "../models/config-fields.js";
import type { DecoderModel } from "../models/decoder.js";
import { loadResolved, noteToStderr } from "../models/load.js";
import { locateFolder, resolveModel, type ResolvedModel } from "../models/resolve.js";
import { buildAdapterSet } from "../models/lora.js";
import type { AdapterChoice, AdapterSet } from "../models/decoder.js";
import { ChatTemplate } from "../generation/chat-template.js";
import { modelChatTemplate, promptIds, type GenerateInput } from "../generation/prompt.js";
import { generateTextAsync, type AsyncGenerateOptions, type GeneratedText } from "../generation/text-session.js";
import { noGrad } from "../tensor/autograd.js";
import { configFileJson, CONFIG_FILE, DEFAULT_OPTIONS, EncoderSchema, readConfigFile, validateOptions, type EncoderOptions, type EncoderOptionsInput } from "./options.js";
import { hiddenStates, padLeft, pooledEmbeddings, type EncoderPass, type PoolingChoice } from "./forward.js";
import { idRows, prepareRow, type EncodeInput, type PreparedRow } from "./prepare.js";
import { NO_PROMPTS, readPrompts, type NamedPrompts } from "./prompts.js";
import { asInputList, asTextList, queryInputs } from "./inputs.js";
import type { LLM2VecApi } from "./api.js";
import { normalizeInPlace } from "./pooling.js";
import { WorkerLLM2Vec, type WorkerOptions } from "./worker-llm2vec.js";
import { chooseTemplate, type TemplateOption } from "./templates.js";
import { checkTokenizerFitsModel } from "./vocab-check.js";
import { embeddingFault } from "./embedding-check.js";

export interface GenerateOptions extends Omit<AsyncGenerateOptions, "adapters"> {
  /** Adapter set (LLM2Vec.loadAdapter) to generate with; default none: the base model. */
  adapter?: string;
}

export interface FromPretrainedOptions extends Partial<Omit<EncoderOptions, "chatTemplate" | "computeDtype">> {
  /** PEFT adapter folder(s), applied in order (MNTP first, then SimCSE, as the recipe stacks them). */
  adapter?: string | string[];
  /** Merge adapters into the base weights (default) or keep them as separate low-rank paths. */
  mergeAdapter?: boolean;
  /** Tokenizer folder when it is not the model folder. */
  tokenizer?: string;
  /**
   * The base model folder, when the model folder is a PEFT adapter without weights (McGill's
   * `-mntp` repos); default: its adapter_config.json's base_model_name_or_path.
   */
  base?: string;
  /** Revision (branch, tag or commit sha) when the model is a Hugging Face Hub id; default "main". */
  revision?: string;
  /**
   * The input template: "auto" (default) applies the reference's by the names met while loading
   * (e.g. meta-llama/Meta-Llama-3-8B-Instruct → "llama3-instruct"); a preset, a custom
   * {prefix, suffix}, or "none" to opt out.
   */
  chatTemplate?: TemplateOption;
  /** Where notes and warnings go (what loading decided; one line each). Default: stderr. */
  onNote?: (line: string) => void;
  /**
   * Memory (MB) for packing the frozen projection weights once for the GEMM instead of on every
   * product (faster small batches; a pack is an f32 copy of its weight). 0 turns it off.
   * Default 2048.
   */
  packWeightsMB?: number;
  /**
   * Quantize the projection weights at load, in blocks of 32 along K with an f16 scale each
   * (int8: llama.cpp's Q8_0, about half the bf16 size; int4: Q4_1, under a third); their products
   * run as integer dot products with activations quantized per row and block. Embeddings, norms,
   * attention, pooling and the LM head for generation stay as loaded. Default: none. A folder
   * saved quantized loads as stored whatever this says; asking for another kind is refused.
   */
  quantize?: QuantizeOption;
  /** Load a checkpoint holding tensors the model does not use (they are listed on stderr) instead of refusing it. */
  allowUnusedWeights?: boolean;
  /**
   * A Jinja chat template (text) for generate(), replacing the tokenizer's `chat_template`.
   * (Not `chatTemplate`, which is the encoder's input template for instructions.)
   */
  chatTemplateJinja?: string;
  /**
   * "bf16": projections multiply bf16-rounded operands with f32 accumulation (PyTorch bf16
   * autocast with f32 outputs; norms, attention, softmax, losses stay f32). "auto": bf16 where
   * the weights are stored in 16 bits and this CPU's bf16 kernel is the faster, else f32, said
   * through onNote; `options.computeDtype` is then the one chosen. Default "f32".
   */
  computeDtype?: ComputeDtypeOption;
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

export class LLM2Vec implements LLM2VecApi {
  /** Adapter sets held apart from the base weights, chosen per call by name (loadAdapter). */
  private readonly adapterSets = new Map<string, AdapterSet>();
  /** Adapters merged into the base weights at load: generation from "the base" would not be the base. */
  mergedAdapters: readonly string[] = [];
  private chatTemplate: ChatTemplate | null = null;

  /** The tokenizer, built when text first needs it: token-id inputs never build it. */
  private readonly lazyTokenizer: LazyTokenizer;

  constructor(
    readonly model: DecoderModel,
    tokenizer: Tokenizer | LazyTokenizer,
    readonly options: EncoderOptions,
    /** config.json as loaded, written back by save(). */
    readonly rawConfig: RawConfig,
    readonly tokenizerDir: string,
  ) {
    this.lazyTokenizer = tokenizer instanceof LazyTokenizer ? tokenizer : LazyTokenizer.of(tokenizer);
  }

  get tokenizer(): Tokenizer {
    return this.lazyTokenizer.get();
  }

  /** What loading resolved (folders, adapters, names, notes); null for an encoder built by hand. */
  resolved: ResolvedModel | null = null;

  /** Named prompts of the model's folders (prompts.ts), for a `prompt_name`. */
  prompts: NamedPrompts = NO_PROMPTS;

  /**
   * Resolves `dir` and the options' folders (models/resolve.ts), then loads what they resolve to.
   * With `worker: true` the model loads and runs in a worker thread instead (WorkerLLM2Vec), so
   * encoding leaves this thread's event loop free.
   */
  static async fromPretrained(dir: string, opts: FromPretrainedOptions & WorkerOptions & { worker: true }): Promise<WorkerLLM2Vec>;
  static async fromPretrained(dir: string, opts?: FromPretrainedOptions & { worker?: false }): Promise<LLM2Vec>;
  static async fromPretrained(dir: string, opts: FromPretrainedOptions & WorkerOptions & { worker?: boolean } = {}): Promise<LLM2Vec | WorkerLLM2Vec> {
    if (opts.worker === true) {
      const { worker: _worker, ...load } = opts;
      return WorkerLLM2Vec.start(dir, load);
    }
    const adapters = opts.adapter === undefined ? [] : Array.isArray(opts.adapter) ? opts.adapter : [opts.adapter];
    const resolved = await resolveModel({ model: dir, adapters, tokenizer: opts.tokenizer, base: opts.base, revision: opts.revision });
    return LLM2Vec.fromResolved(resolved, opts);
  }

  /** Loads a resolved description: weights, adapters, tokenizer, then the encoder options. */
  static fromResolved(resolved: ResolvedModel, opts: FromPretrainedOptions = {}): LLM2Vec {
    const note = opts.onNote ?? noteToStderr;
    const explicit: Partial<EncoderOptionsInput> = {};
    for (const k of Object.keys(EncoderSchema.properties) as (keyof FromPretrainedOptions & keyof EncoderOptionsInput)[])
      if (opts[k] !== undefined) (explicit as Record<string, unknown>)[k] = opts[k];
    validateOptions(explicit, "LLM2Vec.fromPretrained options");
    const packMB = opts.packWeightsMB ?? DEFAULT_PACK_BUDGET_MB;
    if (!(Number.isFinite(packMB) && packMB >= 0)) throw new Error(`LLM2Vec.fromPretrained: packWeightsMB must be a non-negative number, got ${String(opts.packWeightsMB)}`);
    for (const n of resolved.notes) note(n);
    const merge = opts.mergeAdapter ?? true;
    const { model, rawConfig, lazyTokenizer: tokenizer } = loadResolved(resolved, { mergeAdapters: merge, allowUnusedWeights: opts.allowUnusedWeights, onNote: note });
    if (opts.quantize !== undefined) quantizeFrozenWeights(model, opts.quantize, { where: "LLM2Vec.fromPretrained: quantize" });
    const computeDtype = setComputeDtype(model, opts.computeDtype ?? "f32", "computeDtype", note);
    if (packMB > 0) packFrozenWeights(model, model.computeDtype, packMB * 1024 * 1024);
    checkTokenizerFitsModel(tokenizer.summary(), model.spec.vocabSize, resolved.tokenizerDir, resolved.weightsDir);
    // llm2vec_config.json: the weights folder's, then each adapter's over it (the reference reads the adapter's over the base's).
    let fileOpts = readConfigFile(resolved.weightsDir);
    for (const a of resolved.adapters) fileOpts = { ...fileOpts, ...readConfigFile(a.dir) };
    const options = { ...resolveTemplate({ ...DEFAULT_OPTIONS, chatTemplate: "auto", ...fileOpts, ...explicit }, resolved, note), computeDtype };
    if (model.spec.trainedAttention === "bidirectional" && !options.bidirectional)
      note(`llm2vec: encoding causally as asked, although config.json says this checkpoint was trained bidirectionally`);
    const enc = new LLM2Vec(model, tokenizer, options, rawConfig, resolved.tokenizerDir);
    enc.resolved = resolved;
    enc.prompts = readPrompts([resolved.weightsDir, ...resolved.adapters.map((a) => a.dir)]);
    if (merge) enc.mergedAdapters = resolved.adapters.map((a) => a.source);
    enc.chatTemplate = modelChatTemplate(tokenizer.summary(), resolved.tokenizerDir, opts.chatTemplateJinja);
    return enc;
  }

  /**
   * Loads PEFT adapter folder(s) as a named set (stacked in order) kept apart from the base
   * weights: `encode(..., { adapter: name })` runs with them, other calls do not see them. Each is
   * a local folder or a Hub id, located as every other reference is.
   */
  async loadAdapter(name: string, dirs: string | readonly string[]): Promise<void> {
    if (name === "none" || name === "") throw new Error(`loadAdapter: "${name}" is not a usable adapter name`);
    const list = typeof dirs === "string" ? [dirs] : dirs;
    const found: { adapter: ReturnType<typeof readLoraAdapter>; source: string }[] = [];
    for (const d of list) found.push({ adapter: readLoraAdapter(await locateFolder(d, { role: "adapter", from: `loadAdapter("${name}")` })), source: d });
    this.adapterSets.set(name, buildAdapterSet(this.model, found));
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
    const { adapter, ...rest } = opts;
    return generateTextAsync(this.model, this.tokenizer, inputs.map((x) => this.promptIds(x)), { ...rest, adapters: this.generationAdapters(adapter) });
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

  /**
   * Token rows as the encoder will run them (for `llm2vec tokenize` and tests). `overrides`
   * changes options for these rows only (SimCSE training tokenises without the chat template,
   * as the reference's collator does).
   */
  prepare(inputs: readonly EncodeInput[], overrides: Partial<EncoderOptions> = {}): PreparedRow[] {
    if (!Array.isArray(inputs)) throw new TypeError("encode: inputs must be an array of strings or [instruction, text] pairs");
    const options = { ...this.options, ...overrides };
    return inputs.map((x, i) => prepareRow(this.tokenizer, x, i, options, this.model.spec.family));
  }

  /**
   * One vector per input, in input order. A single string is taken as a list of one, so the
   * result is always an array: `const [v] = await model.encode("text")`.
   */
  async encode(inputs: string | readonly EncodeInput[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    if (opts.adapter !== undefined) this.adapterChoice(opts.adapter); // an unknown name fails before any work
    return this.encodePrepared(this.prepare(asInputList(inputs)), opts);
  }

  /**
   * Queries, each as an `[instruction, text]` pair (LLM2Vec's retrieval usage: the instruction
   * conditions the query but is not pooled). The instruction is `opts.instruction`, else the
   * model's `queryInstruction` (option or llm2vec_config.json `query_instruction`); with neither,
   * the queries go plain, as documents do.
   */
  async encodeQueries(texts: string | readonly string[], opts: EncodeOptions & { instruction?: string } = {}): Promise<Float32Array[]> {
    return this.encode(queryInputs(texts, opts.instruction, this.options), opts);
  }

  /** Documents (passages): plain texts, no instruction, as the reference encodes its corpus. */
  async encodeDocuments(texts: string | readonly string[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    return this.encode(asTextList(texts, "encodeDocuments"), opts);
  }

  /** Encodes already-tokenised rows (e.g. `{"input_ids": [...]}` lines); all their tokens are text. */
  async encodeIds(rows: readonly (readonly number[])[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    return this.encodePrepared(idRows(rows, this.options.maxLength, this.model.spec.vocabSize), opts);
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
      const padded = padLeft(batch, this.lazyTokenizer.summary().padTokenId ?? 0);
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
    return { mode: this.mode, padTokenId: this.lazyTokenizer.summary().padTokenId ?? 0, ...training, adapters: this.adapterChoice(adapter) };
  }

  poolingChoice(): PoolingChoice {
    return { pooling: this.options.pooling, skipInstruction: this.options.skipInstruction, bosTokenId: this.lazyTokenizer.summary().bosTokenId };
  }

  /** One left-padded batch through the model and the pooling. Returns [B·C]. */
  private runBatch(batch: PreparedRow[], adapter?: string): Float32Array {
    return noGrad(() => pooledEmbeddings(this.model, batch, this.encoderPass({}, adapter), this.poolingChoice()).f32);
  }

  /**
   * Writes a self-contained model folder: config.json, model.safetensors (adapters merged),
   * the tokenizer files and llm2vec_config.json. Quantized weights are written as stored (their
   * integers and scales, models/quantized-folder.ts) and load back without re-quantizing.
   * Atomic: a killed save leaves no half folder.
   */
  save(dir: string, opts: { overwrite?: boolean } = {}): void {
    for (const [, lin] of this.model.linearModules())
      if (lin.lora) throw new Error("save: adapters are attached unmerged; load with mergeAdapter: true (or merge them) before saving a full model");
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of this.model.namedWeights())
      if (t.quant) Object.assign(tensors, quantizedTensors(name, t.quant));
      else tensors[name] = { dtype: t.dtype, shape: [...t.shape], data: t.data };
    const kind = modelQuantKind(this.model);
    const { quantization_config: _stored, ...config } = this.rawConfig;
    if (kind) config.quantization_config = quantizationConfig(kind);
    writeFolderAtomically(dir, opts.overwrite ?? false, (tmp) => {
      atomicWriteText(path.join(tmp, "config.json"), JSON.stringify(config, null, 2) + "\n");
      writeSafetensors(path.join(tmp, "model.safetensors"), tensors, { format: "pt" });
      for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) {
        const src = path.join(this.tokenizerDir, f);
        if (fs.existsSync(src)) fs.copyFileSync(src, path.join(tmp, f));
      }
      atomicWriteText(path.join(tmp, CONFIG_FILE), JSON.stringify(configFileJson(this.options), null, 2) + "\n");
    });
  }
}

/**
 * "auto" becomes the template the reference would apply for the names met while loading (and, for
 * meta-llama/Meta-Llama-3-8B, its eos_token suffix unless one was given), said once through `note`.
 * What runs is then explicit in the options, so save() records it in llm2vec_config.json.
 */
function resolveTemplate(o: EncoderOptionsInput, resolved: ResolvedModel, note: (line: string) => void): Omit<EncoderOptions, "computeDtype"> {
  if (o.chatTemplate !== "auto") return { ...o, chatTemplate: o.chatTemplate };
  const auto = chooseTemplate(resolved.nameChain);
  const eosSuffix = o.eosSuffix ?? auto.eosSuffix;
  // An eos-only rule matters only for eos_token pooling without an explicit suffix.
  const eosOnly = auto.template === "none" && auto.eosSuffix !== null;
  if (auto.announcement && (!eosOnly || (o.pooling === "eos_token" && o.eosSuffix === null))) note(auto.announcement);
  return { ...o, chatTemplate: auto.template, eosSuffix };
}
