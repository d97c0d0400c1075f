/** One `--db` for every store: a postgres:// URL opens the pgvector adapter, anything else is the embedded store's folder. */
import { isPostgresUrl, PgVectorStore } from "./pgvector.js";
import { SqliteVecStore } from "./sqlite-vec.js";
import type { OpenStoreOptions, VectorStore } from "./types.js";

export async function openVectorStore(db: string, opts: OpenStoreOptions = {}): Promise<VectorStore> {
  return isPostgresUrl(db) ? PgVectorStore.open(db, opts) : SqliteVecStore.open(db, opts);
}
