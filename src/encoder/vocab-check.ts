/**
 * The tokenizer must fit the model it feeds: an id at or past the embedding table's rows
 * (config.json `vocab_size`) used to fail only at the first batch that held one, naming a batch
 * position. Checked once, where the encoder brings the two together.
 */
export function checkTokenizerFitsModel(tokenizer: { vocabSize: number }, vocabSize: number, tokenizerDir: string, modelDir: string): void {
  if (tokenizer.vocabSize > vocabSize) {
    throw new Error(
      `${tokenizerDir}: the tokenizer has ids up to ${tokenizer.vocabSize - 1} but ${modelDir}/config.json vocab_size is ${vocabSize} ` +
        `(embedding rows 0..${vocabSize - 1}); the tokenizer does not belong to this model`,
    );
  }
}
