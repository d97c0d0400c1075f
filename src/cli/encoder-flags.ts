/** The encoder's options as CLI flags: one mapping onto EncoderOptions, shared by every command. */
import { Option, type Command } from "commander";
import type { FromPretrainedOptions } from "../encoder/llm2vec.js";
import { COMPUTE_DTYPE_OPTIONS, EncoderSchema, POOLING_MODES } from "../encoder/options.js";
import { CHAT_TEMPLATES } from "../encoder/templates.js";
import { TRUNCATION_MODES } from "../encoder/truncate.js";
import { QUANTIZE_OPTIONS } from "../models/pack-weights.js";
import { COMPUTE_DTYPES } from "../tensor/compute.js";

export interface EncoderFlags {
  model: string;
  adapter?: string[];
  unmerged?: boolean;
  tokenizer?: string;
  base?: string;
  revision?: string;
  pooling?: string;
  maxLength?: string;
  docMaxLength?: string;
  skipInstruction?: boolean;
  causal?: boolean;
  chatTemplate?: string;
  chatTemplatePrefix?: string;
  chatTemplateSuffix?: string;
  truncation?: string;
  eosSuffix?: string;
  queryInstruction?: string;
  dtype?: string;
  packWeightsMb?: string;
  quantize?: string;
}

export function addEncoderFlags(cmd: Command): Command {
  return cmd
    .requiredOption("--model <dir|id>", "model folder or Hugging Face Hub id: weights (config.json, safetensors) or a PEFT adapter over its base (a -mntp folder)")
    .option("--adapter <dir...>", "PEFT LoRA adapter folder(s), applied in order (e.g. MNTP then SimCSE)")
    .option("--unmerged", "keep adapters as separate low-rank paths instead of merging them")
    .option("--tokenizer <dir>", "tokenizer folder, when not the model folder")
    .addOption(baseOption())
    .addOption(revisionOption())
    .addOption(new Option("--pooling <mode>", "pooling (default mean, or llm2vec_config.json's)").choices([...POOLING_MODES]))
    .option("--max-length <n>", "max tokens per input after templating (default 512)")
    .option("--doc-max-length <n>", "word-ratio truncation of texts, in tokens (default 400)")
    .option("--no-skip-instruction", "pool instruction and BOS tokens too")
    .option("--causal", "causal attention (the base LLM) instead of bidirectional")
    .addOption(
      new Option("--chat-template <name>", "input template: auto (default: the reference's, by the model's name), none, or a preset").choices(["auto", ...Object.keys(CHAT_TEMPLATES)]),
    )
    .option("--chat-template-prefix <text>", "a custom input template: text before the input (with --chat-template-suffix)")
    .option("--chat-template-suffix <text>", "a custom input template: text after the input")
    .addOption(
      new Option("--truncation <mode>", "cut texts over --doc-max-length by the reference's word ratio (words, default) or keep their first tokens (tokens)").choices([
        ...TRUNCATION_MODES,
      ]),
    )
    .option("--eos-suffix <text>", "string appended for eos_token pooling (default: the reference's per family, e.g. \" </s>\")")
    .option("--query-instruction <text>", "instruction given to queries (search, encodeQueries); default llm2vec_config.json's query_instruction")
    .addOption(dtypeOption())
    .addOption(quantizeOption())
    .option("--pack-weights-mb <n>", "memory for packing frozen projection weights once for the GEMM (faster small batches; 0 = off; default 2048)");
}

/** `--revision`: the Hub revision of --model, shared by every command that loads one. */
export function revisionOption(): Option {
  return new Option("--revision <rev>", "branch, tag or commit sha when --model is a Hugging Face Hub id (default: main)");
}

/** `--base`: the base of a model folder that is a PEFT adapter, shared by every command that loads one. */
export function baseOption(): Option {
  return new Option("--base <dir>", "base model folder when --model is a PEFT adapter without weights (default: its base_model_name_or_path)");
}

/** The input template from its flags: a preset / "auto", or a custom prefix and suffix (not both kinds). */
function templateFromFlags(f: EncoderFlags): FromPretrainedOptions["chatTemplate"] {
  const custom = f.chatTemplatePrefix !== undefined || f.chatTemplateSuffix !== undefined;
  if (custom && f.chatTemplate !== undefined) throw new Error("--chat-template and --chat-template-prefix/--chat-template-suffix are exclusive: give a preset or a custom template");
  if (custom) return { prefix: f.chatTemplatePrefix ?? "", suffix: f.chatTemplateSuffix ?? "" };
  return f.chatTemplate as FromPretrainedOptions["chatTemplate"];
}

/** `--dtype`: the compute dtype of the matrix products (EncoderSchema's computeDtype), shared by every command that runs a model. */
export function dtypeOption(): Option {
  return new Option("--dtype <dtype>", EncoderSchema.properties.computeDtype.description).choices([...COMPUTE_DTYPE_OPTIONS]);
}

/** `--quantize`: block-quantized projection weights, shared by every command that runs a model. */
export function quantizeOption(description = "quantize the projection weights at load: int8 (about half the bf16 memory) or int4 (under a third); products run on integer dot products"): Option {
  return new Option("--quantize <kind>", description).choices([
    ...QUANTIZE_OPTIONS,
  ]);
}

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function nonNegative(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || v.trim() === "") throw new Error(`${flag} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

export function encoderOptionsFromFlags(f: EncoderFlags): FromPretrainedOptions {
  const o: FromPretrainedOptions = {
    adapter: f.adapter,
    mergeAdapter: !f.unmerged,
    tokenizer: f.tokenizer,
    base: f.base,
    revision: f.revision,
    pooling: f.pooling as FromPretrainedOptions["pooling"],
    maxLength: positiveInt("--max-length", f.maxLength),
    docMaxLength: positiveInt("--doc-max-length", f.docMaxLength),
    // commander sets skipInstruction = true by default for a --no- flag: only pass an explicit false.
    skipInstruction: f.skipInstruction === false ? false : undefined,
    bidirectional: f.causal ? false : undefined,
    chatTemplate: templateFromFlags(f),
    truncation: f.truncation as FromPretrainedOptions["truncation"],
    eosSuffix: f.eosSuffix,
    queryInstruction: f.queryInstruction,
    computeDtype: f.dtype as FromPretrainedOptions["computeDtype"],
    packWeightsMB: nonNegative("--pack-weights-mb", f.packWeightsMb),
    quantize: f.quantize as FromPretrainedOptions["quantize"],
  };
  for (const k of Object.keys(o) as (keyof FromPretrainedOptions)[]) if (o[k] === undefined) delete o[k];
  return o;
}
