/**
 * Word-level features for token tasks (the paper's CoNLL-2003 probe, llm2vec.md §4): each word
 * is tokenised on its own (as `is_split_into_words` does), the sentence runs through the model
 * with BOS first, and a word's vector is the mean of its sub-token vectors. With `shift` (MNTP
 * models, whose position p predicts token p+1) the positions move one to the left, so the
 * first word of a sentence also averages the BOS vector: e1 = ½(e_BOS + e11).
 */
import type { LLM2Vec } from "./llm2vec.js";

export class WordFeatures {
  private readonly sentencePiece: boolean;

  constructor(private readonly encoder: LLM2Vec) {
    // SentencePiece vocabularies mark a word start with "▁" on the word itself; byte-level BPE
    // needs the leading space spelled out for every word but the first.
    this.sentencePiece = (encoder.tokenizer.tokenize("a")[0] ?? "").startsWith("▁");
  }

  async wordFeatures(sentences: string[][], opts: { shift: boolean }): Promise<Float32Array[][]> {
    const tok = this.encoder.tokenizer;
    const maxLength = this.encoder.options.maxLength;
    const rows: Int32Array[] = [];
    const spans: [number, number][][] = [];
    sentences.forEach((words, si) => {
      const ids: number[] = [...tok.prefixIds];
      const ws: [number, number][] = [];
      words.forEach((w, i) => {
        const piece = tok.encode(this.sentencePiece || i === 0 ? w : ` ${w}`, { addSpecialTokens: false });
        if (piece.length === 0) throw new Error(`wordFeatures: sentence ${si}, word ${i} (${JSON.stringify(w)}) has no tokens`);
        ws.push([ids.length, ids.length + piece.length]);
        ids.push(...piece);
      });
      if (ids.length > maxLength) throw new Error(`wordFeatures: sentence ${si} has ${ids.length} tokens, over maxLength ${maxLength}`);
      rows.push(Int32Array.from(ids));
      spans.push(ws);
    });
    const states = this.encoder.tokenStates(rows);
    const C = this.encoder.dimension;
    const shift = opts.shift ? 1 : 0;
    return spans.map((ws, si) =>
      ws.map(([s, e]) => {
        const v = new Float32Array(C);
        // Without a BOS there is no position before the first word: it keeps its own start.
        const from = Math.max(s - shift, 0);
        const to = e - shift;
        for (let p = from; p < to; p++) for (let c = 0; c < C; c++) v[c] += states[si]![p * C + c]!;
        for (let c = 0; c < C; c++) v[c] /= to - from;
        return v;
      }),
    );
  }
}
