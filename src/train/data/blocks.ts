/**
 * Packing text into fixed-length blocks, as the reference's MNTP data pipeline (HF run_mlm's
 * `group_texts`, not line by line): every document is tokenised with the tokenizer's special
 * tokens (so each starts with BOS), the ids are concatenated and cut into blocks of `blockSize`,
 * and the remainder shorter than one block is dropped. Blocks are full and unpadded; a BOS may
 * sit mid-block. A document longer than a block spans several blocks (never dropped).
 */
import type { Tokenizer } from "../../formats/tokenizer.js";
import type { Document } from "./corpus.js";

export interface TokenBlocks {
  blockSize: number;
  /** [count·blockSize] ids. */
  ids: Int32Array;
  /** [count·blockSize], 1 where the id is a special token (never masked). */
  special: Uint8Array;
  count: number;
  /** Tokens in the documents, and how many the final partial block dropped. */
  totalTokens: number;
  droppedTokens: number;
}

/** Ids the collator must never mask: BOS/EOS/pad and whatever the tokenizer adds around text. */
export function specialTokenIds(tok: Tokenizer): Set<number> {
  const s = new Set<number>([...tok.prefixIds, ...tok.suffixIds]);
  for (const id of [tok.bosTokenId, tok.eosTokenId, tok.padTokenId]) if (id !== null) s.add(id);
  return s;
}

export function packBlocks(tok: Tokenizer, docs: readonly Document[], blockSize: number, what = "training data"): TokenBlocks {
  if (!Number.isInteger(blockSize) || blockSize < 2) throw new Error(`block size (max length) must be an integer ≥ 2, got ${blockSize}`);
  const specials = specialTokenIds(tok);
  // Ids go into one growing typed array (4 bytes a token), not a list of per-document number
  // arrays (8 bytes a token and an object per document), since the whole corpus is held.
  let all = new Int32Array(1 << 16);
  let total = 0;
  for (const d of docs) {
    const ids = tok.encode(d.text, { addSpecialTokens: true });
    if (total + ids.length > all.length) {
      const grown = new Int32Array(Math.max(2 * all.length, total + ids.length));
      grown.set(all.subarray(0, total));
      all = grown;
    }
    all.set(ids, total);
    total += ids.length;
  }
  const count = Math.floor(total / blockSize);
  if (count === 0) throw new Error(`${what}: ${total} tokens make no block of ${blockSize} (use more text or a smaller --max-length)`);
  const n = count * blockSize;
  const ids = all.slice(0, n);
  const special = new Uint8Array(n);
  for (let i = 0; i < n; i++) special[i] = specials.has(ids[i]!) ? 1 : 0;
  return { blockSize, ids, special, count, totalTokens: total, droppedTokens: total - n };
}
