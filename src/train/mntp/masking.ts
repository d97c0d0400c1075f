/**
 * The MNTP collator (llm2vec.md §1b): each non-special position is masked with probability p;
 * labels hold the original id at masked positions and −100 elsewhere (unshifted: the loss does
 * the shift). Of the masked positions, the "bert" strategy (HF DataCollatorForLanguageModeling)
 * puts the mask token on 80%, a uniform random id in [0, vocab) on 10% and leaves 10% unchanged;
 * "all_mask" (the reference's DataCollatorForLanguageModelingWithFullMasking) masks them all.
 * The draws follow HF's order: Bernoulli(p) per position, then Bernoulli(0.8) for the mask
 * token, then Bernoulli(0.5) of the rest for a random id.
 */
import type { Tokenizer } from "../../formats/tokenizer.js";
import { IGNORE_INDEX } from "../../tensor/ops/index.js";
import type { Rng } from "../../tensor/random.js";

export type MaskStrategy = "bert" | "all_mask";

export interface MaskingOptions {
  probability: number;
  strategy: MaskStrategy;
  maskTokenId: number;
  /** Random replacements are drawn from [0, randomVocab) (the reference: len(tokenizer)). */
  randomVocab: number;
}

export interface MaskedBatch {
  inputIds: Int32Array;
  labels: Int32Array;
  /** Positions whose label counts. */
  masked: number;
}

export function maskTokens(ids: Int32Array, special: Uint8Array, o: MaskingOptions, rng: Rng): MaskedBatch {
  const inputIds = Int32Array.from(ids);
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  let masked = 0;
  for (let i = 0; i < ids.length; i++) {
    // Special tokens get probability 0 but still consume a draw, as a Bernoulli over the matrix does.
    const hit = rng.next() < o.probability && !special[i];
    if (!hit) continue;
    labels[i] = ids[i]!;
    masked++;
    if (o.strategy === "all_mask" || rng.next() < 0.8) inputIds[i] = o.maskTokenId;
    else if (rng.next() < 0.5) inputIds[i] = rng.int(o.randomVocab);
  }
  return { inputIds, labels, masked };
}

/**
 * The mask token: "blank" is the literal `_` (the paper's choice, for tokenizers without a mask
 * token; its byte-fallback token `<0x5F>` where the vocabulary has no `_`), "eos" the EOS token,
 * anything else is taken as a token string of the vocabulary.
 * A mask that is not one token of the vocabulary is an error naming the option.
 */
export function resolveMaskToken(tok: Tokenizer, choice: string): { id: number; token: string } {
  if (choice === "eos") {
    if (tok.eosTokenId === null || tok.eosToken === null) throw new Error("--mask-token eos: the tokenizer has no EOS token");
    return { id: tok.eosTokenId, token: tok.eosToken };
  }
  const token = choice === "blank" ? "_" : choice;
  const id = tok.tokenToId(token);
  if (id !== undefined) return { id, token };
  // Small SentencePiece vocabularies (stories260K's 512) hold `_` only as its byte-fallback
  // token <0x5F>: the same character as one token, so it serves as the blank mask.
  if (choice === "blank") {
    const byte = tok.tokenToId("<0x5F>");
    if (byte !== undefined) return { id: byte, token: "<0x5F>" };
  }
  // A SentencePiece vocabulary may hold `_` only as a byte-fallback or word-start form: say what encoding gives.
  const enc = tok.encode(token, { addSpecialTokens: false });
  const shown = enc.map((i) => JSON.stringify(tok.idToToken(i))).join(", ");
  throw new Error(
    `--mask-token ${choice}: ${JSON.stringify(token)} is not a token of this tokenizer (it encodes as ${enc.length} token(s): ${shown}); ` +
      `pass --mask-token eos, or a token string that is in the vocabulary`,
  );
}
