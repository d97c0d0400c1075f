/**
 * llama2.c `tokenizer.bin` files: reading them, and rebuilding the SentencePiece-style BPE they
 * came from as a Hugging Face tokenizer.json (pieces, merges derived from the scores), plus the
 * reference encoder llama2.c's own run.c implements, which the tests compare against.
 * Layout facts: ../shared/docs/llama2c-format.md.
 */
import * as fs from "node:fs";

export interface Llama2cTokenizer {
  maxTokenLength: number;
  /** Pieces as stored (spaces, "\n<s>\n" …), decoded as UTF-8. */
  pieces: string[];
  scores: Float32Array;
}

/** Read a llama2.c `tokenizer.bin`; the token count is not stored, it comes from the model. */
export function readLlama2cTokenizer(file: string, vocabSize: number): Llama2cTokenizer {
  const buf = fs.readFileSync(file);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4) throw new Error(`${file}: truncated llama2.c tokenizer (no max_token_length)`);
  const maxTokenLength = dv.getUint32(0, true);
  const pieces: string[] = [];
  const scores = new Float32Array(vocabSize);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let o = 4;
  for (let i = 0; i < vocabSize; i++) {
    if (o + 8 > buf.length) throw new Error(`${file}: truncated llama2.c tokenizer at token ${i} of ${vocabSize}`);
    scores[i] = dv.getFloat32(o, true);
    const len = dv.getUint32(o + 4, true);
    o += 8;
    if (o + len > buf.length) throw new Error(`${file}: truncated llama2.c tokenizer in the bytes of token ${i} (length ${len})`);
    if (len > maxTokenLength) throw new Error(`${file}: token ${i} has length ${len} > max_token_length ${maxTokenLength}`);
    try {
      pieces.push(utf8.decode(buf.subarray(o, o + len)));
    } catch {
      throw new Error(`${file}: token ${i} is not valid UTF-8`);
    }
    o += len;
  }
  if (o !== buf.length) throw new Error(`${file}: ${buf.length - o} trailing bytes after ${vocabSize} tokens (vocab size mismatch with the model?)`);
  return { maxTokenLength, pieces, scores };
}

const SP_SPACE = "\u2581";
const BYTE_PIECE = /^<0x[0-9A-F]{2}>$/;

/** The SentencePiece piece for a llama2.c stored piece (undo tokenizer.py's export edits). */
export function sentencePiece(piece: string, id: number): string {
  if (id === 0) return "<unk>";
  if (piece === "\n<s>\n") return "<s>";
  if (piece === "\n</s>\n") return "</s>";
  return piece.replaceAll(" ", SP_SPACE);
}

/**
 * Merges from scores, as transformers' SentencePieceExtractor does: for every piece, every
 * split into two pieces that are both in the vocab is a merge; merges are ranked by the merged
 * piece's score (descending, stable), and the splits of one piece by (id of left, id of right).
 */
export function deriveMerges(pieces: readonly string[], scores: ArrayLike<number>): Array<[string, string]> {
  const vocab = new Map<string, number>();
  pieces.forEach((p, i) => vocab.set(p, i));
  const merges: Array<{ l: string; r: string; score: number; order: number }> = [];
  let order = 0;
  pieces.forEach((merged, id) => {
    // Control and byte-fallback pieces are atomic: they never result from a merge.
    if (id < 3 || BYTE_PIECE.test(merged)) return;
    const chars = Array.from(merged);
    const local: Array<{ l: string; r: string }> = [];
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join("");
      const r = chars.slice(k).join("");
      if (vocab.has(l) && vocab.has(r)) local.push({ l, r });
    }
    local.sort((a, b) => vocab.get(a.l)! - vocab.get(b.l)! || vocab.get(a.r)! - vocab.get(b.r)!);
    for (const m of local) merges.push({ ...m, score: scores[id]!, order: order++ });
  });
  merges.sort((a, b) => b.score - a.score || a.order - b.order);
  return merges.map((m) => [m.l, m.r]);
}

/**
 * A tokenizer.json equivalent to the llama2.c tokenizer, in the shape of Llama-2's own
 * tokenizer.json: BPE with byte fallback, a normaliser that prepends "▁" and turns spaces into
 * "▁" (SentencePiece's dummy prefix), BOS added by a TemplateProcessing post-processor.
 */
export function buildTokenizerJson(tok: Llama2cTokenizer): Record<string, unknown> {
  const pieces = tok.pieces.map(sentencePiece);
  const vocab: Record<string, number> = {};
  pieces.forEach((p, i) => {
    if (p in vocab) throw new Error(`tokenizer: duplicate piece ${JSON.stringify(p)} at ids ${vocab[p]} and ${i}`);
    vocab[p] = i;
  });
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: SP_SPACE },
        { type: "Replace", pattern: { String: " " }, content: SP_SPACE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "<s>", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "<s>", type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: SP_SPACE }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      // "left right" strings: the older format every tokenizers version reads; no piece has a space.
      merges: deriveMerges(pieces, tok.scores).map(([l, r]) => `${l} ${r}`),
    },
  };
}

/**
 * llama2.c's own encode() (run.c): dummy-prefix space, per-codepoint lookup with <0xNN> byte
 * fallback (id = byte + 3), then repeatedly merge the adjacent pair whose concatenation has the
 * highest score. Used to check the tokenizer.json conversion.
 */
export function llama2cEncode(tok: Llama2cTokenizer, text: string, bos = true, eos = false): number[] {
  const ids = new Map<string, number>();
  tok.pieces.forEach((p, i) => {
    if (!ids.has(p)) ids.set(p, i);
  });
  const out: number[] = [];
  if (text.length > 0) {
    const space = ids.get(" ");
    if (space !== undefined) out.push(space);
  }
  for (const ch of text) {
    const id = ids.get(ch);
    if (id !== undefined) out.push(id);
    else for (const b of Buffer.from(ch, "utf8")) out.push(b + 3);
  }
  for (;;) {
    let best = -Infinity;
    let bestId = -1;
    let bestIdx = -1;
    for (let i = 0; i + 1 < out.length; i++) {
      const id = ids.get(tok.pieces[out[i]!]! + tok.pieces[out[i + 1]!]!);
      if (id !== undefined && tok.scores[id]! > best) {
        best = tok.scores[id]!;
        bestId = id;
        bestIdx = i;
      }
    }
    if (bestIdx < 0) break;
    out.splice(bestIdx, 2, bestId);
  }
  if (bos) out.unshift(1);
  if (eos) out.push(2);
  return out;
}
