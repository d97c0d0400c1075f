/**
 * A Hugging Face tokenizer folder (`tokenizer.json` + `tokenizer_config.json`) loaded through
 * `@huggingface/tokenizers`, plus the bits LLM2Vec needs on top of it: which special tokens are
 * added, pad := eos when the tokenizer has no pad token (as the reference implementation
 * forces), and batch encoding with right truncation and left padding.
 *
 * Special tokens are added here rather than by the library so that tokenizer_config's
 * add_bos_token / add_eos_token win over tokenizer.json's post-processor, as they do in
 * transformers' LlamaTokenizerFast (which rebuilds its post-processor from those flags).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { speedUpBpePairLookup } from "./bpe-pair-lookup.js";
import { cacheOnlyWords } from "./bpe-word-cache.js";
import { isLfsPointer, lfsPointerError } from "./lfs.js";
import { validateTokenizerJson } from "./tokenizer-json.js";

export interface EncodeOptions {
  /** Add BOS/EOS as the tokenizer is configured to (default true). */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  /** Undo the spaces tokenising puts before punctuation (" ," → ","); default: tokenizer_config's clean_up_tokenization_spaces. */
  cleanUpSpaces?: boolean;
}

export interface BatchOptions extends EncodeOptions {
  /** Truncate each row on the right to at most this many tokens (special tokens included). */
  maxLength?: number;
  /** Only left padding is supported: LLM2Vec's pooling relies on it. */
  padding?: "left";
  /** Pad every row to maxLength instead of to the longest row of the batch. */
  padToMaxLength?: boolean;
}

export interface BatchEncoding {
  inputIds: Int32Array[];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Uint8Array[];
}

export type Json = Record<string, unknown>;

/** A token in tokenizer_config may be a string, an AddedToken object, or null. */
export function tokenString(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return null;
}

function readJson(file: string): Json {
  // Large tokenizer.json files are LFS-tracked on the Hub; a pointer is not JSON.
  if (isLfsPointer(file)) throw lfsPointerError(file);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: cannot read tokenizer file: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${file}: not a JSON object`);
  return raw as Json;
}

/** A tokenizer folder's files, parsed: tokenizer.json, and the config merged from its side files. */
export function readTokenizerFolder(dir: string): { tokenizerJson: Json; config: Json; tokenizerJsonPath: string } {
  const tjPath = path.join(dir, "tokenizer.json");
  if (!fs.existsSync(tjPath)) throw new Error(`${dir}: no tokenizer.json in the tokenizer folder`);
  const tj = readJson(tjPath);
  const cfgPath = path.join(dir, "tokenizer_config.json");
  const stmPath = path.join(dir, "special_tokens_map.json");
  // special_tokens_map.json fills tokens that tokenizer_config.json leaves out.
  const config: Json = {
    ...(fs.existsSync(stmPath) ? readJson(stmPath) : {}),
    ...(fs.existsSync(cfgPath) ? readJson(cfgPath) : {}),
  };
  // Recent transformers save the template beside the config instead of inside it.
  const jinjaPath = path.join(dir, "chat_template.jinja");
  if ((config.chat_template === undefined || config.chat_template === null) && fs.existsSync(jinjaPath)) config.chat_template = fs.readFileSync(jinjaPath, "utf8");
  for (const k of ["bos_token", "eos_token", "pad_token", "unk_token"]) {
    if (config[k] === null || config[k] === undefined) {
      const fromMap = fs.existsSync(stmPath) ? readJson(stmPath)[k] : undefined;
      if (fromMap !== undefined) config[k] = fromMap;
    }
  }
  return { tokenizerJson: tj, config, tokenizerJsonPath: tjPath };
}

export class Tokenizer {
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly unkToken: string | null;
  /**
   * tokenizer_config.json's `chat_template` (or the folder's chat_template.jinja), as text;
   * null when the tokenizer has none. Of a list of named templates, the one named "default".
   */
  readonly chatTemplate: string | null;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  /** Whether encode() with addSpecialTokens puts BOS first / EOS last. */
  readonly addsBos: boolean;
  readonly addsEos: boolean;
  /** Number of ids: the largest id (vocab or added token) + 1. */
  readonly vocabSize: number;
  /** Ids put before / after the text when special tokens are added. */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  /** Added tokens marked special (BOS, EOS, chat markers): what decode's skipSpecialTokens drops. */
  private readonly specialIds: ReadonlySet<number>;

  private constructor(
    private readonly tok: HfTokenizer,
    config: Json,
    readonly source: string,
  ) {
    this.bosToken = tokenString(config.bos_token);
    this.eosToken = tokenString(config.eos_token);
    this.unkToken = tokenString(config.unk_token);
    this.chatTemplate = chatTemplateOf(config.chat_template, source);
    // The reference sets pad_token = eos_token when the tokenizer has none.
    this.padToken = tokenString(config.pad_token) ?? this.eosToken;
    const id = (t: string | null) => (t === null ? null : (tok.token_to_id(t) ?? null));
    this.bosTokenId = id(this.bosToken);
    this.eosTokenId = id(this.eosToken);
    this.padTokenId = id(this.padToken);
    this.specialIds = new Set([...tok.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([i]) => i));

    let maxId = -1;
    for (const v of tok.get_vocab(true).values()) if (v > maxId) maxId = v;
    this.vocabSize = maxId + 1;

    // What the post-processor adds: compare a probe with and without special tokens.
    const probe = "a";
    const plain = tok.encode(probe, { add_special_tokens: false }).ids;
    const full = tok.encode(probe, { add_special_tokens: true }).ids;
    // Decoding the probe too makes a broken decoder fail here, at load, rather than at first use.
    tok.decode(full, { skip_special_tokens: false });
    let prefix: number[] = [];
    let suffix: number[] = [];
    const at = indexOfSeq(full, plain);
    if (at >= 0) {
      prefix = full.slice(0, at);
      suffix = full.slice(at + plain.length);
    }
    // tokenizer_config flags override the post-processor (LlamaTokenizerFast semantics).
    if (typeof config.add_bos_token === "boolean" && this.bosTokenId !== null) {
      prefix = prefix.filter((x) => x !== this.bosTokenId);
      if (config.add_bos_token) prefix.unshift(this.bosTokenId);
    }
    if (typeof config.add_eos_token === "boolean" && this.eosTokenId !== null) {
      suffix = suffix.filter((x) => x !== this.eosTokenId);
      if (config.add_eos_token) suffix.push(this.eosTokenId);
    }
    this.prefixIds = prefix;
    this.suffixIds = suffix;
    this.addsBos = this.bosTokenId !== null && prefix[0] === this.bosTokenId;
    this.addsEos = this.eosTokenId !== null && suffix[suffix.length - 1] === this.eosTokenId;
  }

  /** Load `tokenizer.json` and (optionally) `tokenizer_config.json` / `special_tokens_map.json`. */
  static fromFolder(dir: string): Tokenizer {
    const { tokenizerJson, config, tokenizerJsonPath } = readTokenizerFolder(dir);
    return Tokenizer.build(tokenizerJson, config, dir, tokenizerJsonPath);
  }

  /** Build from already-parsed JSON objects. */
  static fromJson(tokenizerJson: Json, tokenizerConfig: Json = {}, source = "<memory>"): Tokenizer {
    return Tokenizer.build(tokenizerJson, tokenizerConfig, source, source);
  }

  /** `jsonName` is what errors about tokenizer.json's own fields name (the file, when there is one). */
  private static build(tokenizerJson: Json, tokenizerConfig: Json, source: string, jsonName: string): Tokenizer {
    validateTokenizerJson(tokenizerJson, jsonName);
    // The library fails with its internals' TypeErrors on malformed parts (a post-processor
    // whose special token is a number, ...), both while building and on the first encode (the
    // constructor's probe): either way, name the file.
    try {
      const hf = new HfTokenizer(tokenizerJson, tokenizerConfig);
      speedUpBpePairLookup(hf);
      cacheOnlyWords(hf);
      return new Tokenizer(hf, tokenizerConfig, source);
    } catch (e) {
      throw new Error(`${jsonName}: cannot build tokenizer: ${(e as Error).message}`);
    }
  }

  /**
   * Token ids of `text`. The library does not report character offsets, so none are returned.
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids = this.bareIds(text);
    if (options.addSpecialTokens === false) return ids.slice();
    return [...this.prefixIds, ...ids, ...this.suffixIds];
  }

  private lastText: string | null = null;
  private lastIds: readonly number[] = [];

  /**
   * The text's ids without special tokens, the last text's kept: the encoder counts a text's
   * tokens to decide its truncation, then tokenises the same string (as the row, instruction and
   * template absent) a moment later. The library caches BPE by pre-tokenised word, and for
   * SentencePiece-style tokenizers (no pre-tokenizer: Llama, Mistral) the word is the whole text,
   * which real traffic never repeats, so without this the second pass costs as much as the first.
   */
  private bareIds(text: string): readonly number[] {
    if (text !== this.lastText) {
      this.lastIds = this.tok.encode(text, { add_special_tokens: false }).ids;
      this.lastText = text;
    }
    return this.lastIds;
  }

  /** The token strings of `text` (no special tokens). */
  tokenize(text: string): string[] {
    return this.tok.tokenize(text, { add_special_tokens: false });
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    // The library refuses an empty list; no tokens are no text.
    if (ids.length === 0) return "";
    return this.tok.decode(Array.from(ids), { skip_special_tokens: options.skipSpecialTokens ?? false, ...(options.cleanUpSpaces !== undefined ? { clean_up_tokenization_spaces: options.cleanUpSpaces } : {}) });
  }

  /** Whether `id` is a special token (an added token marked special). */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /**
   * Encode a batch as LLM2Vec does (`tokenizer(texts, padding=True, truncation=True,
   * max_length)` with padding_side "left"): the text is cut on the right so that the row,
   * special tokens included, fits maxLength, then rows are left-padded with the pad id.
   */
  encodeBatch(texts: readonly string[], options: BatchOptions = {}): BatchEncoding {
    if (options.padding !== undefined && options.padding !== "left") {
      throw new Error(`${this.source}: only left padding is supported, got "${options.padding as string}"`);
    }
    const add = options.addSpecialTokens !== false;
    const maxLength = options.maxLength;
    if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength <= 0)) {
      throw new Error(`${this.source}: maxLength must be a positive integer, got ${maxLength}`);
    }
    const rows = texts.map((t) => {
      let ids = this.bareIds(t);
      const nSpecial = add ? this.prefixIds.length + this.suffixIds.length : 0;
      if (maxLength !== undefined) ids = ids.slice(0, Math.max(0, maxLength - nSpecial));
      const row = add ? [...this.prefixIds, ...ids, ...this.suffixIds] : ids;
      // Only possible when maxLength is smaller than the special tokens alone.
      return maxLength !== undefined ? row.slice(0, maxLength) : row;
    });
    let width = 0;
    for (const r of rows) width = Math.max(width, r.length);
    if (options.padToMaxLength && maxLength !== undefined) width = maxLength;
    const padId = this.padTokenId;
    if (padId === null && rows.some((r) => r.length < width)) {
      throw new Error(`${this.source}: padding needed but the tokenizer has neither a pad nor an eos token`);
    }
    const inputIds: Int32Array[] = [];
    const attentionMask: Uint8Array[] = [];
    for (const r of rows) {
      const ids = new Int32Array(width).fill(padId ?? 0);
      const mask = new Uint8Array(width);
      ids.set(r, width - r.length);
      mask.fill(1, width - r.length);
      inputIds.push(ids);
      attentionMask.push(mask);
    }
    return { inputIds, attentionMask };
  }
}

function indexOfSeq(hay: readonly number[], needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export function chatTemplateOf(t: unknown, source: string): string | null {
  if (t === undefined || t === null) return null;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t.find((e) => e && typeof e === "object" && (e as { name?: unknown }).name === "default") as { template?: unknown } | undefined;
    if (named && typeof named.template === "string") return named.template;
    throw new Error(`${source}: chat_template is a list of named templates without a "default" one`);
  }
  throw new Error(`${source}: chat_template must be a string or a list of {name, template}, got ${typeof t}`);
}
