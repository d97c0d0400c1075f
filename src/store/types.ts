/** What a vector store holds and answers: one interface for the embedded default and any server adapter. */

/** A passage's metadata: any JSON object, kept as given and returned with each hit. */
export type Metadata = Record<string, unknown>;

/** Equality on top-level metadata keys, all of which must match (`{ lang: "en", year: 2024 }`). */
export type MetadataFilter = Record<string, string | number | boolean | null>;

export interface SearchHit {
  id: string;
  /** Cosine similarity to the query, in [-1, 1]; hits come highest first. */
  score: number;
  text: string;
  metadata: Metadata;
}

/** The model and dimension a store was built with; the vectors of any other model are refused. */
export interface StoreInfo {
  model: string;
  dimension: number;
  /** The instruction its queries were meant to get (recorded at index time), or null. */
  queryInstruction: string | null;
  /** How to load that model again (fromPretrained's reference and options), so a search needs only the store. */
  load: { model: string } & Record<string, unknown>;
}

export interface OpenStoreOptions {
  /** Create the store if there is none, for this model and dimension; an existing one must match them. */
  create?: StoreInfo;
  readOnly?: boolean;
}

/** A method's result, or a promise of it: the embedded store answers at once, a server store asynchronously. */
export type Awaitable<T> = T | Promise<T>;

/** Await every call: `await store.search(…)` is right for both kinds of store. */
export interface VectorStore {
  readonly info: StoreInfo;
  /** Where the store lives, for messages: its file, or its server and table (without a password). */
  readonly location: string;
  /** Adds passages; refuses an id already stored or repeated in the call, and vectors of another dimension. */
  add(ids: readonly string[], vectors: readonly Float32Array[], texts: readonly string[], metadata?: readonly Metadata[]): Awaitable<void>;
  /** The k passages nearest the vector (cosine), optionally only those whose metadata matches `filter`. */
  search(vector: Float32Array, k: number, filter?: MetadataFilter): Awaitable<SearchHit[]>;
  /** Which of these ids are stored (an interrupted `index` run skips them). */
  storedIds(ids: readonly string[]): Awaitable<Set<string>>;
  count(): Awaitable<number>;
  close(): Awaitable<void>;
}
