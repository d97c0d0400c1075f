/**
 * Each token's text and its place in the decoded text, for TEI's /tokenize (`{id, text, special,
 * start, stop}`): the tokenizer library reports no offsets, so they come from decoding. A token's
 * text is what decoding it after the tokens before it adds (decoders strip or merge at the start
 * of a string, so a token is never decoded alone once something precedes it); a token that ends
 * inside a character (byte-level BPE, byte fallback) waits for the token that completes it, and
 * both get that character. Offsets count Unicode characters of the text the tokens spell (decoded
 * without special tokens and without the clean-up of spaces before punctuation, which would move
 * text between tokens), as TEI's count characters of its input; special tokens have none.
 */
import type { Tokenizer } from "./tokenizer.js";

export interface TokenPiece {
  id: number;
  text: string;
  special: boolean;
  start: number | null;
  stop: number | null;
}

const RAW = { cleanUpSpaces: false };

export function tokenPieces(tok: Tokenizer, ids: ArrayLike<number>): TokenPiece[] {
  const out: TokenPiece[] = [];
  const plain: number[] = [];
  const pending: TokenPiece[] = [];
  // vLLM's incremental detokenisation: decode from the last complete token (prefixAt) to now.
  let prefixAt = 0;
  let readAt = 0;
  let pos = 0;
  for (const id of Array.from(ids)) {
    if (tok.isSpecial(id)) {
      out.push({ id, text: tok.idToToken(id) ?? "", special: true, start: null, stop: null });
      continue;
    }
    plain.push(id);
    const piece: TokenPiece = { id, text: "", special: false, start: pos, stop: pos };
    out.push(piece);
    pending.push(piece);
    const before = tok.decode(plain.slice(prefixAt, readAt), RAW);
    const now = tok.decode(plain.slice(prefixAt), RAW);
    if (now.length <= before.length || now.endsWith("\uFFFD")) continue;
    const text = now.slice(before.length);
    const stop = pos + [...text].length;
    for (const p of pending) Object.assign(p, { text, start: pos, stop });
    pending.length = 0;
    pos = stop;
    prefixAt = readAt;
    readAt = plain.length;
  }
  return out;
}
