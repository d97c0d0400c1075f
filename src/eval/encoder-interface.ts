/**
 * The contract between the evaluation suite and whatever produces embeddings.
 * The suite never imports the encoder implementation, only these types, so
 * tests can plug in a fake deterministic encoder and the real LLM2Vec encoder
 * can evolve independently.
 */

/** A plain text, or an [instruction, text] pair (instruction excluded from pooling). */
export type EncodeInput = string | [instruction: string, text: string];

export interface TextEncoder {
  encode(
    inputs: EncodeInput[],
    opts?: { batchSize?: number; onProgress?: (done: number, total: number) => void },
  ): Promise<Float32Array[]>;
}

/** Per sentence, per word: the mean of the word's sub-token last-layer vectors (shifted one position left for MNTP models when shift is true). */
export interface WordFeatureEncoder {
  wordFeatures(sentences: string[][], opts: { shift: boolean }): Promise<Float32Array[][]>;
}
