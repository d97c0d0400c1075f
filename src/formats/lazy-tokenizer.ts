/**
 * A tokenizer folder opened without building the tokenizer. Building (the BPE/Unigram model, its
 * merge tables, the probe encodes) is most of a small model's start-up, and token-id inputs never
 * need it: what they need — the padding and BOS ids, the largest id (to check the tokenizer fits
 * the model), the chat template — is read from the parsed files. The tokenizer is built on the
 * first call that needs text, once.
 */
import { chatTemplateOf, readTokenizerFolder, Tokenizer, tokenString, type Json } from "./tokenizer.js";
import { validateTokenizerJson } from "./tokenizer-json.js";

/** What a tokenizer tells an encoder before any text arrives; the same fields as Tokenizer's. */
export interface TokenizerSummary {
  bosTokenId: number | null;
  padTokenId: number | null;
  /** The largest id (vocab or added token) + 1. */
  vocabSize: number;
  chatTemplate: string | null;
}

export function summaryOf(t: Tokenizer): TokenizerSummary {
  return { bosTokenId: t.bosTokenId, padTokenId: t.padTokenId, vocabSize: t.vocabSize, chatTemplate: t.chatTemplate };
}

/** A token's id as the built tokenizer looks it up (added tokens, then the model's vocab); null when absent. */
type IdLookup = (token: string) => number | null;

/** The id lookup and largest id of tokenizer.json's model, for the vocab layouts read here; null for others. */
function vocabOf(tj: Json): { lookup: IdLookup; maxId: number } | null {
  const model = tj.model as Json | undefined;
  const added = new Map<string, number>();
  let maxId = -1;
  for (const t of Array.isArray(tj.added_tokens) ? (tj.added_tokens as Json[]) : []) {
    if (typeof t?.content !== "string" || typeof t.id !== "number") return null;
    added.set(t.content, t.id);
    maxId = Math.max(maxId, t.id);
  }
  const vocab = model?.vocab;
  let fromModel: IdLookup;
  if (model?.type === "Unigram" && Array.isArray(vocab)) {
    const index = new Map<string, number>();
    vocab.forEach((e, i) => Array.isArray(e) && typeof e[0] === "string" && !index.has(e[0]) && index.set(e[0], i));
    maxId = Math.max(maxId, vocab.length - 1);
    fromModel = (t) => index.get(t) ?? null;
  } else if ((model?.type === "BPE" || model?.type === "WordPiece" || model?.type === "WordLevel") && vocab && typeof vocab === "object" && !Array.isArray(vocab)) {
    const v = vocab as Record<string, unknown>;
    for (const id of Object.values(v)) if (typeof id === "number" && id > maxId) maxId = id;
    fromModel = (t) => (Object.hasOwn(v, t) && typeof v[t] === "number" ? (v[t] as number) : null);
  } else return null;
  return { lookup: (t) => added.get(t) ?? fromModel(t), maxId };
}

/** The summary from the folder's files alone, or null when only a built tokenizer can tell. */
export function summarizeTokenizerFolder(dir: string): TokenizerSummary | null {
  const { tokenizerJson, config, tokenizerJsonPath } = readTokenizerFolder(dir);
  validateTokenizerJson(tokenizerJson, tokenizerJsonPath);
  const vocab = vocabOf(tokenizerJson);
  if (!vocab) return null;
  const id = (t: string | null) => (t === null ? null : vocab.lookup(t));
  const bos = tokenString(config.bos_token);
  // The reference sets pad_token = eos_token when the tokenizer has none (as Tokenizer does).
  const pad = tokenString(config.pad_token) ?? tokenString(config.eos_token);
  return { bosTokenId: id(bos), padTokenId: id(pad), vocabSize: vocab.maxId + 1, chatTemplate: chatTemplateOf(config.chat_template, dir) };
}

/** A tokenizer folder whose tokenizer is built on first use; its summary costs a parse, not a build. */
export class LazyTokenizer {
  private built: Tokenizer | null = null;
  private summarized: TokenizerSummary | null = null;

  constructor(readonly dir: string) {}

  /** An already-built tokenizer, as a LazyTokenizer. */
  static of(t: Tokenizer): LazyTokenizer {
    const lazy = new LazyTokenizer(t.source);
    lazy.built = t;
    return lazy;
  }

  get isBuilt(): boolean {
    return this.built !== null;
  }

  get(): Tokenizer {
    return (this.built ??= Tokenizer.fromFolder(this.dir));
  }

  summary(): TokenizerSummary {
    if (this.built) return summaryOf(this.built);
    return (this.summarized ??= summarizeTokenizerFolder(this.dir) ?? summaryOf(this.get()));
  }
}
