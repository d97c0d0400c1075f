/** Vector stores: the interface, the embedded sqlite-vec default, and text-level index/search over an LLM2Vec. */
export type { Metadata, MetadataFilter, SearchHit, StoreInfo, VectorStore } from "./types.js";
export { SqliteVecStore, STORE_FILE, type OpenStoreOptions } from "./sqlite-vec.js";
export { openStore, indexDocuments, searchText, loadStoreModel, modelIdentity, type Passage, type IndexOptions, type SearchTextOptions } from "./text.js";
