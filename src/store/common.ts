/**
 * What every store does the same way, so the embedded store and a server adapter refuse the same
 * inputs with the same messages (`where` is the store's file or server table) and record the
 * model in the same key/value meta rows.
 */
import type { Metadata, MetadataFilter, StoreInfo } from "./types.js";

/** One vector, text and (optional) metadata per id; ids non-empty and unique in the call; vectors of the store's dimension. */
export function checkAdd(where: string, info: StoreInfo, ids: readonly string[], vectors: readonly Float32Array[], texts: readonly string[], metadata?: readonly Metadata[]): void {
  const n = ids.length;
  if (vectors.length !== n || texts.length !== n || (metadata && metadata.length !== n))
    throw new Error(`store add: ${n} ids, ${vectors.length} vectors, ${texts.length} texts${metadata ? `, ${metadata.length} metadata` : ""}: one of each per passage`);
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    if (typeof id !== "string" || id === "") throw new Error(`store add: ids[${i}] must be a non-empty string`);
    if (seen.has(id)) throw new Error(`store add: id "${id}" appears twice (ids[${seen.get(id)}] and ids[${i}])`);
    seen.set(id, i);
    if (vectors[i]!.length !== info.dimension) throw new Error(`store add: vector ${i} (id "${id}") has dimension ${vectors[i]!.length}; ${where} holds ${info.dimension} (${info.model})`);
  });
}

/** The refusal of ids already stored, naming the first. */
export function alreadyStored(where: string, stored: Set<string>): Error {
  return new Error(`store add: id "${[...stored][0]}" is already in ${where}${stored.size > 1 ? ` (and ${stored.size - 1} more)` : ""}`);
}

export function checkSearch(where: string, info: StoreInfo, vector: Float32Array, k: number): void {
  if (!Number.isInteger(k) || k <= 0) throw new Error(`store search: k must be a positive integer, got ${k}`);
  if (vector.length !== info.dimension) throw new Error(`store search: the query has dimension ${vector.length}; ${where} holds ${info.dimension} (${info.model})`);
}

/** The filter's entries, each value a JSON scalar (string, number, boolean or null). */
export function filterEntries(filter: MetadataFilter | undefined): [string, string | number | boolean | null][] {
  return Object.entries(filter ?? {}).map(([key, v]) => {
    if (v !== null && !["string", "number", "boolean"].includes(typeof v)) throw new Error(`store search: filter "${key}" must be a string, number, boolean or null`);
    return [key, v];
  });
}

function checkDimension(info: StoreInfo): void {
  if (!Number.isInteger(info.dimension) || info.dimension <= 0) throw new Error(`dimension must be a positive integer, got ${info.dimension}`);
}

/** Refuses a store built with another model or dimension, naming both. */
export function checkSame(where: string, have: StoreInfo, want: StoreInfo): void {
  if (have.model !== want.model || have.dimension !== want.dimension)
    throw new Error(`${where}: was built with ${have.model} (dimension ${have.dimension}), not ${want.model} (dimension ${want.dimension}); use another --db or the same model`);
}

export const FORMAT = "llm2vec-store/1";

/** The meta rows a store keeps: its format, and the model, dimension, query instruction and load spec. */
export function metaRows(info: StoreInfo): [string, string][] {
  checkDimension(info);
  return [
    ["format", FORMAT],
    ["model", info.model],
    ["dimension", String(info.dimension)],
    ["query_instruction", JSON.stringify(info.queryInstruction)],
    ["load", JSON.stringify(info.load)],
  ];
}

/** The StoreInfo of a store's meta rows; refuses another format or a missing model or dimension. */
export function infoFromMeta(where: string, meta: Map<string, string>): StoreInfo {
  if (meta.get("format") !== FORMAT) throw new Error(`${where}: not an llm2vec store (format ${JSON.stringify(meta.get("format") ?? null)}, expected ${FORMAT})`);
  const dimension = Number(meta.get("dimension"));
  const model = meta.get("model");
  if (!model || !Number.isInteger(dimension) || dimension <= 0) throw new Error(`${where}: its meta table lacks a model or a dimension`);
  return { model, dimension, queryInstruction: JSON.parse(meta.get("query_instruction") ?? "null") as string | null, load: JSON.parse(meta.get("load") ?? JSON.stringify({ model })) as StoreInfo["load"] };
}
