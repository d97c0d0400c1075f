/**
 * Index and search by text: an LLM2Vec encodes passages as documents and queries with the query
 * instruction, into a store recorded with the model's identity and dimension.
 *
 *   const store = await openStore("db", model);
 *   await indexDocuments(model, store, [{ id: "a", text: "…", metadata: { lang: "en" } }]);
 *   const hits = await searchText(model, store, "a question", { topK: 5 });
 */
import * as path from "node:path";
import * as fs from "node:fs";
import type { FromPretrainedOptions, LLM2Vec } from "../encoder/llm2vec.js";
import { openVectorStore } from "./open.js";
import type { Metadata, MetadataFilter, SearchHit, StoreInfo, VectorStore } from "./types.js";

export interface Passage {
  id: string;
  text: string;
  metadata?: Metadata;
}

/**
 * What a store records as "the model": the model reference (a folder made absolute, a Hub id as
 * given) and its adapters, so vectors of another model or adapter stack are refused.
 */
export function modelIdentity(model: LLM2Vec): string {
  const r = model.resolved;
  if (!r) return `(built by hand: ${model.model.spec.family}, hidden ${model.dimension})`;
  return [ref(r.model), ...r.adapters.filter((a) => a.reason === "requested").map((a) => ref(a.source))].join(" + ");
}

/** fromPretrained's reference and options that load this model again (the encoder options made explicit). */
const ref = (s: string) => (fs.existsSync(s) ? path.resolve(s) : s);

function loadSpec(model: LLM2Vec): StoreInfo["load"] {
  const r = model.resolved;
  const adapter = r?.adapters.filter((a) => a.reason === "requested").map((a) => ref(a.source)) ?? [];
  return { model: r ? ref(r.model) : "", ...(adapter.length ? { adapter } : {}), ...(r ? { tokenizer: r.tokenizerDir } : {}), ...model.options };
}

/** Loads the model a store was built with (for a search given only the store). */
export async function loadStoreModel(info: StoreInfo, onNote?: (line: string) => void): Promise<LLM2Vec> {
  if (!info.load.model) throw new Error(`the store's model (${info.model}) was built by hand and cannot be loaded again; pass the model`);
  const { LLM2Vec } = await import("../encoder/llm2vec.js");
  return LLM2Vec.fromPretrained(info.load.model, { ...(info.load as FromPretrainedOptions), onNote });
}

/**
 * The store at `db` (a folder, or a postgres:// URL) for this model: created if absent, refused if
 * built with another model or dimension.
 */
export async function openStore(db: string, model: LLM2Vec): Promise<VectorStore> {
  const info: StoreInfo = { model: modelIdentity(model), dimension: model.dimension, queryInstruction: model.options.queryInstruction, load: loadSpec(model) };
  return openVectorStore(db, { create: info });
}

export interface IndexOptions {
  /** Passages per forward pass and per stored transaction (default 32). */
  batchSize?: number;
  /**
   * Passages given to one encode call (default 8 × batchSize): the encoder sorts them by length
   * before cutting forward batches, so passages of mixed lengths pad little.
   */
  window?: number;
  signal?: AbortSignal;
  /** After each stored batch: passages added and skipped (already stored) so far. */
  onProgress?: (added: number, skipped: number) => void;
}

/**
 * Encodes and stores the passages not yet in the store (an id already there is skipped, which is
 * what makes a killed run resumable), a batch per transaction. Vectors are L2-normalised. A
 * window of passages is encoded at once, since a forward batch of passages taken in input order
 * is padded to its longest one (on 1–3-sentence passages that is most of the work).
 */
export async function indexDocuments(model: LLM2Vec, store: VectorStore, passages: Iterable<Passage> | AsyncIterable<Passage>, opts: IndexOptions = {}): Promise<{ added: number; skipped: number }> {
  const batchSize = opts.batchSize ?? 32;
  const window = opts.window ?? 8 * batchSize;
  let added = 0;
  let skipped = 0;
  let pending: Passage[] = [];
  const flush = async () => {
    const stored = await store.storedIds(pending.map((p) => p.id));
    const todo = pending.filter((p) => !stored.has(p.id));
    skipped += pending.length - todo.length;
    pending = [];
    if (todo.length === 0) return opts.onProgress?.(added, skipped);
    const vecs = await model.encodeDocuments(todo.map((p) => p.text), { normalize: true, batchSize, signal: opts.signal });
    for (let i = 0; i < todo.length; i += batchSize) {
      const part = todo.slice(i, i + batchSize);
      await store.add(part.map((p) => p.id), vecs.slice(i, i + batchSize), part.map((p) => p.text), part.map((p) => p.metadata ?? {}));
      added += part.length;
      opts.onProgress?.(added, skipped);
    }
  };
  for await (const p of passages) {
    if (opts.signal?.aborted) throw new Error("index: aborted");
    pending.push(p);
    if (pending.length >= window) await flush();
  }
  if (pending.length) await flush();
  return { added, skipped };
}

export interface SearchTextOptions {
  topK?: number;
  filter?: MetadataFilter;
  /** The query's instruction; default the model's queryInstruction, else the one the store recorded. */
  instruction?: string;
}

/** The passages nearest a text query, the query encoded with its instruction (encodeQueries). */
export async function searchText(model: LLM2Vec, store: VectorStore, query: string, opts: SearchTextOptions = {}): Promise<SearchHit[]> {
  const instruction = opts.instruction ?? model.options.queryInstruction ?? store.info.queryInstruction ?? undefined;
  const [q] = await model.encodeQueries([query], { instruction, normalize: true });
  return await store.search(q!, opts.topK ?? 10, opts.filter);
}
