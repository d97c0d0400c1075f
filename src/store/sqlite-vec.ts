/**
 * The embedded vector store: one SQLite file (DIR/store.sqlite) through Node's built-in node:sqlite
 * with the sqlite-vec extension (a prebuilt loadable library per platform, no install script).
 * Passages (id, text, metadata JSON) live in `docs`, their vectors in a vec0 table under the same
 * rowid, and both are written in one transaction, so a killed `index` run leaves whole batches.
 * Unfiltered search is vec0's exact k-nearest scan; a metadata filter scans the matching rows with
 * vec_distance_cosine, so it is exact too (no over-fetch that a selective filter could empty).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { alreadyStored, checkAdd, checkSame, checkSearch, filterEntries, infoFromMeta, metaRows } from "./common.js";
import type { Metadata, MetadataFilter, OpenStoreOptions, SearchHit, StoreInfo, VectorStore } from "./types.js";

export const STORE_FILE = "store.sqlite";

/** node:sqlite, loaded on first use so the rest of the package runs where it is missing. */
async function loadSqlite(): Promise<typeof import("node:sqlite")> {
  // Node 22 flags node:sqlite experimental with a warning on import; the store relies only on its stable core.
  const emit = process.emitWarning;
  process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
    if (String(w instanceof Error ? w.message : w).includes("SQLite")) return;
    (emit as (...a: unknown[]) => void).call(process, w, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await import("node:sqlite");
  } catch (e) {
    throw new Error(`the vector store needs node:sqlite (Node 22.13 or later; this is ${process.version}): ${(e as Error).message}`);
  } finally {
    process.emitWarning = emit;
  }
}

function sqliteVecPath(): string {
  try {
    const { getLoadablePath } = createRequire(import.meta.url)("sqlite-vec") as { getLoadablePath(): string };
    return getLoadablePath();
  } catch (e) {
    throw new Error(`the vector store needs the sqlite-vec package and its binary for ${process.platform}-${process.arch}: ${(e as Error).message}`);
  }
}

const blob = (v: Float32Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

export class SqliteVecStore implements VectorStore {
  private readonly insertDoc: StatementSync;
  private readonly insertVec: StatementSync;

  private constructor(
    private readonly db: DatabaseSync,
    readonly file: string,
    readonly info: StoreInfo,
  ) {
    this.insertDoc = db.prepare("INSERT INTO docs(id, text, metadata) VALUES (?, ?, ?)");
    this.insertVec = db.prepare("INSERT INTO vecs(rowid, embedding) VALUES (?, ?)");
  }

  /** Opens DIR's store (creating it with `opts.create`); refuses another model or dimension, naming both. */
  static async open(dir: string, opts: OpenStoreOptions = {}): Promise<SqliteVecStore> {
    const file = path.join(dir, STORE_FILE);
    const exists = fs.existsSync(file);
    if (!exists && !opts.create) throw new Error(`${dir}: no vector store here (no ${STORE_FILE}); build one with \`llm2vec index --db ${dir}\``);
    if (exists && fs.statSync(file).isDirectory()) throw new Error(`${file}: is a folder, not a store file`);
    const { DatabaseSync } = await loadSqlite();
    if (!exists) fs.mkdirSync(dir, { recursive: true });
    let db: DatabaseSync | null = null;
    try {
      db = new DatabaseSync(file, { allowExtension: true, readOnly: exists && opts.readOnly === true });
      db.loadExtension(sqliteVecPath());
      db.enableLoadExtension(false);
      const info = exists ? readInfo(db, file) : createTables(db, opts.create!);
      if (opts.create) checkSame(file, info, opts.create);
      return new SqliteVecStore(db, file, info);
    } catch (e) {
      db?.close();
      const msg = (e as Error).message;
      throw new Error(msg.startsWith(file) ? msg : `${file}: not a readable llm2vec store (${msg})`);
    }
  }

  get location(): string {
    return this.file;
  }

  add(ids: readonly string[], vectors: readonly Float32Array[], texts: readonly string[], metadata?: readonly Metadata[]): void {
    checkAdd(this.file, this.info, ids, vectors, texts, metadata);
    const stored = this.storedIds(ids);
    if (stored.size) throw alreadyStored(this.file, stored);
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (let i = 0; i < ids.length; i++) {
        const { lastInsertRowid } = this.insertDoc.run(ids[i]!, texts[i]!, JSON.stringify(metadata?.[i] ?? {}));
        this.insertVec.run(BigInt(lastInsertRowid), blob(vectors[i]!));
      }
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  search(vector: Float32Array, k: number, filter?: MetadataFilter): SearchHit[] {
    checkSearch(this.file, this.info, vector, k);
    const entries = filterEntries(filter);
    let rows: Record<string, unknown>[];
    if (entries.length === 0) {
      rows = this.db
        .prepare("SELECT d.id, d.text, d.metadata, v.distance FROM (SELECT rowid, distance FROM vecs WHERE embedding MATCH ? AND k = ?) v JOIN docs d ON d.rowid = v.rowid ORDER BY v.distance")
        .all(blob(vector), k);
    } else {
      const where = entries.map(() => "json_extract(d.metadata, ?) IS ?").join(" AND ");
      const params = entries.flatMap(([key, v]) => [`$.${JSON.stringify(key)}`, typeof v === "boolean" ? Number(v) : v]);
      rows = this.db
        .prepare(`SELECT d.id, d.text, d.metadata, vec_distance_cosine(v.embedding, ?) AS distance FROM docs d JOIN vecs v ON v.rowid = d.rowid WHERE ${where} ORDER BY distance LIMIT ?`)
        .all(blob(vector), ...(params as (string | number | null)[]), k);
    }
    return rows.map((r) => ({ id: r.id as string, score: 1 - (r.distance as number), text: r.text as string, metadata: JSON.parse(r.metadata as string) as Metadata }));
  }

  storedIds(ids: readonly string[]): Set<string> {
    const out = new Set<string>();
    const q = this.db.prepare("SELECT 1 FROM docs WHERE id = ?");
    for (const id of ids) if (q.get(id)) out.add(id);
    return out;
  }

  count(): number {
    return Number((this.db.prepare("SELECT count(*) AS n FROM docs").get() as { n: number }).n);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

function createTables(db: DatabaseSync, info: StoreInfo): StoreInfo {
  const rows = metaRows(info);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("BEGIN");
  db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  db.exec("CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, text TEXT NOT NULL, metadata TEXT NOT NULL)");
  db.exec(`CREATE VIRTUAL TABLE vecs USING vec0(embedding float[${info.dimension}] distance_metric=cosine)`);
  const put = db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)");
  for (const [key, value] of rows) put.run(key, value);
  db.exec("COMMIT");
  return info;
}

function readInfo(db: DatabaseSync, file: string): StoreInfo {
  return infoFromMeta(file, new Map((db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[]).map((r) => [r.key, r.value])));
}
