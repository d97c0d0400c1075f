/**
 * Vector stores: the interface, the embedded sqlite-vec default, the pgvector adapter (a
 * postgres:// URL), and text-level index/search over an LLM2Vec.
 */
export type { Awaitable, Metadata, MetadataFilter, OpenStoreOptions, SearchHit, StoreInfo, VectorStore } from "./types.js";
export { SqliteVecStore, STORE_FILE } from "./sqlite-vec.js";
export { PgVectorStore, isPostgresUrl } from "./pgvector.js";
export { openVectorStore } from "./open.js";
export { openStore, indexDocuments, searchText, loadStoreModel, modelIdentity, type Passage, type IndexOptions, type SearchTextOptions } from "./text.js";
