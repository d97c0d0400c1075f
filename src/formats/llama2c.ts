/**
 * llama2.c v0 ("legacy") checkpoints and their conversion, with the `tokenizer.bin` beside them
 * (llama2c-tokenizer.ts), into a Hugging Face Llama folder (config.json, model.safetensors,
 * tokenizer.json, tokenizer_config.json). Layout facts: ../shared/docs/llama2c-format.md.
 */
import { EMBED_TOKENS, FINAL_NORM, linearTensorName, LM_HEAD, normName, type LinearModuleName } from "../models/names.js";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeSafetensors, type TensorToWrite } from "./safetensors-write.js";
import { atomicWriteText, writeFolderAtomically } from "./atomic.js";
import { buildTokenizerJson, readLlama2cTokenizer } from "./llama2c-tokenizer.js";

export interface Llama2cConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** abs() of the header value. */
  vocabSize: number;
  seqLen: number;
  /** Header vocab_size > 0: the classifier is the embedding table. */
  sharedClassifier: boolean;
}

export interface Llama2cWeights {
  tokenEmbedding: Float32Array; // [vocab, dim]
  rmsAtt: Float32Array; // [L, dim]
  wq: Float32Array; // [L, dim, dim]
  wk: Float32Array; // [L, kvDim, dim]
  wv: Float32Array; // [L, kvDim, dim]
  wo: Float32Array; // [L, dim, dim]
  rmsFfn: Float32Array; // [L, dim]
  w1: Float32Array; // [L, hidden, dim]
  w2: Float32Array; // [L, dim, hidden]
  w3: Float32Array; // [L, hidden, dim]
  rmsFinal: Float32Array; // [dim]
  /** Only when not shared. */
  wcls: Float32Array | null; // [vocab, dim]
}

const HEADER_BYTES = 28;

/** Parse and sanity-check the 7-int32 header. */
export function parseLlama2cHeader(buf: Uint8Array, file: string): Llama2cConfig {
  if (buf.length < HEADER_BYTES) throw new Error(`${file}: truncated llama2.c checkpoint (${buf.length} bytes, header needs ${HEADER_BYTES})`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) === 0x616b3432) {
    throw new Error(`${file}: llama2.c v1/v2 ("ak42") checkpoints are not supported; export with legacy_export (v0)`);
  }
  const h = Array.from({ length: 7 }, (_, i) => dv.getInt32(i * 4, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabRaw, seqLen] = h as [number, number, number, number, number, number, number];
  const fields: Array<[string, number]> = [
    ["dim", dim],
    ["hidden_dim", hiddenDim],
    ["n_layers", nLayers],
    ["n_heads", nHeads],
    ["n_kv_heads", nKvHeads],
    ["vocab_size", Math.abs(vocabRaw)],
    ["seq_len", seqLen],
  ];
  // Sanity bounds keep a garbage header from driving huge size computations.
  for (const [k, v] of fields) {
    if (!(v > 0) || v > 1 << 24) throw new Error(`${file}: header field ${k} = ${v} is not a plausible size`);
  }
  if (dim % nHeads !== 0) throw new Error(`${file}: header field dim (${dim}) is not divisible by n_heads (${nHeads})`);
  if ((dim / nHeads) % 2 !== 0) throw new Error(`${file}: head size ${dim / nHeads} must be even for RoPE`);
  if (nHeads % nKvHeads !== 0) throw new Error(`${file}: header field n_heads (${nHeads}) is not a multiple of n_kv_heads (${nKvHeads})`);
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocabRaw), seqLen, sharedClassifier: vocabRaw > 0 };
}

/** The float count of every block in file order (freq_cis tables included). */
function layout(c: Llama2cConfig): Array<[keyof Llama2cWeights | "freqCis", number]> {
  const headSize = c.dim / c.nHeads;
  const kvDim = c.nKvHeads * headSize;
  const L = c.nLayers;
  const blocks: Array<[keyof Llama2cWeights | "freqCis", number]> = [
    ["tokenEmbedding", c.vocabSize * c.dim],
    ["rmsAtt", L * c.dim],
    ["wq", L * c.dim * c.dim],
    ["wk", L * kvDim * c.dim],
    ["wv", L * kvDim * c.dim],
    ["wo", L * c.dim * c.dim],
    ["rmsFfn", L * c.dim],
    ["w1", L * c.hiddenDim * c.dim],
    ["w2", L * c.dim * c.hiddenDim],
    ["w3", L * c.hiddenDim * c.dim],
    ["rmsFinal", c.dim],
    // freq_cis_real + freq_cis_imag, [seq_len, head_size/2] each; skipped as run.c does.
    ["freqCis", c.seqLen * headSize],
  ];
  if (!c.sharedClassifier) blocks.push(["wcls", c.vocabSize * c.dim]);
  return blocks;
}

/** Expected file size in bytes for a header. */
export function llama2cFileSize(c: Llama2cConfig): number {
  return HEADER_BYTES + 4 * layout(c).reduce((s, [, n]) => s + n, 0);
}

/** Read a v0 checkpoint, checking its size against the header before allocating weights. */
export function readLlama2cCheckpoint(file: string): { config: Llama2cConfig; weights: Llama2cWeights } {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const head = new Uint8Array(Math.min(HEADER_BYTES, size));
    fs.readSync(fd, head, 0, head.length, 0);
    const config = parseLlama2cHeader(head, file);
    const want = llama2cFileSize(config);
    if (size < want) throw new Error(`${file}: truncated llama2.c checkpoint: ${size} bytes, the header implies ${want}`);
    if (size > want) throw new Error(`${file}: ${size - want} unexpected trailing bytes (the header implies ${want} bytes); not a llama2.c v0 checkpoint?`);
    const w: Partial<Llama2cWeights> = { wcls: null };
    let pos = HEADER_BYTES;
    for (const [name, n] of layout(config)) {
      if (name !== "freqCis") {
        const arr = new Float32Array(n);
        const bytes = new Uint8Array(arr.buffer);
        let done = 0;
        while (done < bytes.length) {
          const got = fs.readSync(fd, bytes, done, bytes.length - done, pos + done);
          if (got === 0) throw new Error(`${file}: truncated while reading ${name}`);
          done += got;
        }
        (w as Record<string, Float32Array>)[name] = arr;
      }
      pos += 4 * n;
    }
    return { config, weights: w as Llama2cWeights };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * HF's convert_llama_weights_to_hf.py `permute(w, n_heads, dim1, dim2)`:
 * `w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)`.
 * llama2.c (Meta layout) rotates adjacent pairs (2i, 2i+1); HF rotates halves (i, i + hd/2).
 * Output row h·hd + j·(hd/2) + i takes input row h·hd + 2i + j.
 */
export function permuteForHf(w: Float32Array, nHeads: number, dim1: number, dim2: number): Float32Array {
  if (w.length !== dim1 * dim2) throw new Error(`permute: ${w.length} values, expected ${dim1}×${dim2}`);
  const hd = dim1 / nHeads;
  const half = hd / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * hd + 2 * i + j) * dim2;
        const dst = (h * hd + j * half + i) * dim2;
        out.set(w.subarray(src, src + dim2), dst);
      }
    }
  }
  return out;
}

/** The HF Llama config.json for a llama2.c checkpoint. */
export function hfLlamaConfig(c: Llama2cConfig): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: c.dim,
    intermediate_size: c.hiddenDim,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    head_dim: c.dim / c.nHeads,
    max_position_embeddings: c.seqLen,
    vocab_size: c.vocabSize,
    // run.c hard-codes both.
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    rope_scaling: null,
    hidden_act: "silu",
    attention_bias: false,
    attention_dropout: 0.0,
    mlp_bias: false,
    initializer_range: 0.02,
    pretraining_tp: 1,
    tie_word_embeddings: c.sharedClassifier,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: "float32",
    use_cache: true,
  };
}

/** HF tensors (all F32) for a llama2.c checkpoint. */
export function hfLlamaTensors(c: Llama2cConfig, w: Llama2cWeights): Record<string, TensorToWrite> {
  const headSize = c.dim / c.nHeads;
  const kvDim = c.nKvHeads * headSize;
  const t: Record<string, TensorToWrite> = {};
  const put = (name: string, shape: number[], data: Float32Array) => {
    t[name] = { dtype: "f32", shape, data };
  };
  const slice = (a: Float32Array, l: number, n: number) => a.slice(l * n, (l + 1) * n);
  const lin = (l: number, m: LinearModuleName) => linearTensorName(l, m, "weight");
  put(EMBED_TOKENS, [c.vocabSize, c.dim], w.tokenEmbedding);
  for (let l = 0; l < c.nLayers; l++) {
    put(lin(l, "q_proj"), [c.dim, c.dim], permuteForHf(slice(w.wq, l, c.dim * c.dim), c.nHeads, c.dim, c.dim));
    put(lin(l, "k_proj"), [kvDim, c.dim], permuteForHf(slice(w.wk, l, kvDim * c.dim), c.nKvHeads, kvDim, c.dim));
    put(lin(l, "v_proj"), [kvDim, c.dim], slice(w.wv, l, kvDim * c.dim));
    put(lin(l, "o_proj"), [c.dim, c.dim], slice(w.wo, l, c.dim * c.dim));
    put(lin(l, "gate_proj"), [c.hiddenDim, c.dim], slice(w.w1, l, c.hiddenDim * c.dim));
    put(lin(l, "down_proj"), [c.dim, c.hiddenDim], slice(w.w2, l, c.dim * c.hiddenDim));
    put(lin(l, "up_proj"), [c.hiddenDim, c.dim], slice(w.w3, l, c.hiddenDim * c.dim));
    put(normName(l, "input_layernorm"), [c.dim], slice(w.rmsAtt, l, c.dim));
    put(normName(l, "post_attention_layernorm"), [c.dim], slice(w.rmsFfn, l, c.dim));
  }
  put(FINAL_NORM, [c.dim], w.rmsFinal);
  if (!c.sharedClassifier) {
    if (!w.wcls) throw new Error("llama2.c weights: untied checkpoint without a classifier");
    put(LM_HEAD, [c.vocabSize, c.dim], w.wcls);
  }
  return t;
}

export interface ImportLlama2cOptions {
  /** The v0 `.bin` checkpoint. */
  model: string;
  /** The llama2.c `tokenizer.bin` (e.g. tok512.bin). */
  tokenizer: string;
  /** The folder to create. */
  output: string;
  /** Replace an existing output folder (default false: error). */
  overwrite?: boolean;
}

/**
 * Convert a llama2.c checkpoint and tokenizer into a Hugging Face Llama folder. Everything is
 * written into a temp folder next to `output`, which is renamed into place only when complete.
 */
export function importLlama2c(opts: ImportLlama2cOptions): { config: Llama2cConfig } {
  const { config, weights } = readLlama2cCheckpoint(opts.model);
  const tok = readLlama2cTokenizer(opts.tokenizer, config.vocabSize);
  const tokenizerJson = buildTokenizerJson(tok);

  writeFolderAtomically(opts.output, opts.overwrite ?? false, (tmp) => {
    atomicWriteText(path.join(tmp, "config.json"), JSON.stringify(hfLlamaConfig(config), null, 2) + "\n");
    atomicWriteText(path.join(tmp, "generation_config.json"), JSON.stringify({ bos_token_id: 1, eos_token_id: 2 }, null, 2) + "\n");
    writeSafetensors(path.join(tmp, "model.safetensors"), hfLlamaTensors(config, weights), { format: "pt" });
    atomicWriteText(path.join(tmp, "tokenizer.json"), JSON.stringify(tokenizerJson) + "\n");
    const tokenizerConfig = {
      add_bos_token: true,
      add_eos_token: false,
      bos_token: "<s>",
      eos_token: "</s>",
      unk_token: "<unk>",
      pad_token: null,
      clean_up_tokenization_spaces: false,
      model_max_length: config.seqLen,
      tokenizer_class: "LlamaTokenizer",
    };
    atomicWriteText(path.join(tmp, "tokenizer_config.json"), JSON.stringify(tokenizerConfig, null, 2) + "\n");
  });
  return { config };
}
