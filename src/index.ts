/** The public API of llm2vec. */
export * from "./encoder/index.js";
export * as tensor from "./tensor/index.js";
export * as models from "./models/index.js";
export * as formats from "./formats/index.js";
export * as evaluation from "./eval/index.js";
export * as store from "./store/index.js";
