/**
 * Keeps @huggingface/tokenizers' BPE result cache (0.2.x) to words. The model caches each
 * pre-tokenised "word" shorter than `max_length_to_cache` (256 characters) in an LRU of 10,000
 * entries. For byte-level tokenizers (GPT-2, Qwen2, Llama 3) a word is a word and the cache is what
 * makes repeated words cheap. For SentencePiece-style ones (Llama 2, Mistral, stories260K: no
 * pre-tokenizer) the word is the whole text, and a server fed fresh texts fills the cache with
 * texts that never come again: the main thread's heap in use grew from 25 to 44 MB over the first
 * ~8,000 requests (`llm2vec serve` on stories260K, about 2.4 KB a text) for no hit.
 *
 * Caching only pieces up to WORD_CACHE_MAX_CHARS keeps every real word cached (byte-level words
 * are at most a few dozen characters, three per CJK character) and whole sentences out. Tokens do
 * not change: the cache only remembers results. Installed only where the model has the numeric
 * field it tunes, so a library update can only lose the effect.
 */
export const WORD_CACHE_MAX_CHARS = 64;

/** Limits the library tokenizer's BPE cache to pieces of at most WORD_CACHE_MAX_CHARS; returns whether it did. */
export function cacheOnlyWords(hfTokenizer: unknown): boolean {
  const model = (hfTokenizer as { model?: unknown }).model as { max_length_to_cache?: unknown } | undefined;
  if ((typeof model !== "object" && typeof model !== "function") || model === null) return false;
  if (typeof model.max_length_to_cache !== "number") return false;
  model.max_length_to_cache = Math.min(model.max_length_to_cache, WORD_CACHE_MAX_CHARS + 1);
  return true;
}
