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
import type { Metadata, MetadataFilter, SearchHit, StoreInfo, VectorStore } from "./types.js";

export const STORE_FILE = "store.sqlite";
const FORMAT = "llm2vec-store/1";

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

export interface OpenStoreOptions {
  /** Create the store if DIR has none, for this model and dimension; an existing one must match them. */
  create?: StoreInfo;
  readOnly?: boolean;
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

  add(ids: readonly string[], vectors: readonly Float32Array[], texts: readonly string[], metadata?: readonly Metadata[]): void {
    const n = ids.length;
    if (vectors.length !== n || texts.length !== n || (metadata && metadata.length !== n))
      throw new Error(`store add: ${n} ids, ${vectors.length} vectors, ${texts.length} texts${metadata ? `, ${metadata.length} metadata` : ""}: one of each per passage`);
    const seen = new Map<string, number>();
    ids.forEach((id, i) => {
      if (typeof id !== "string" || id === "") throw new Error(`store add: ids[${i}] must be a non-empty string`);
      if (seen.has(id)) throw new Error(`store add: id "${id}" appears twice (ids[${seen.get(id)}] and ids[${i}])`);
      seen.set(id, i);
      if (vectors[i]!.length !== this.info.dimension) throw new Error(`store add: vector ${i} (id "${id}") has dimension ${vectors[i]!.length}; ${this.file} holds ${this.info.dimension} (${this.info.model})`);
    });
    const stored = this.storedIds(ids);
    if (stored.size) throw new Error(`store add: id "${[...stored][0]}" is already in ${this.file}${stored.size > 1 ? ` (and ${stored.size - 1} more)` : ""}`);
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (let i = 0; i < n; i++) {
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
    if (!Number.isInteger(k) || k <= 0) throw new Error(`store search: k must be a positive integer, got ${k}`);
    if (vector.length !== this.info.dimension) throw new Error(`store search: the query has dimension ${vector.length}; ${this.file} holds ${this.info.dimension} (${this.info.model})`);
    const keys = Object.keys(filter ?? {});
    let rows: Record<string, unknown>[];
    if (keys.length === 0) {
      rows = this.db
        .prepare("SELECT d.id, d.text, d.metadata, v.distance FROM (SELECT rowid, distance FROM vecs WHERE embedding MATCH ? AND k = ?) v JOIN docs d ON d.rowid = v.rowid ORDER BY v.distance")
        .all(blob(vector), k);
    } else {
      const where = keys.map(() => "json_extract(d.metadata, ?) IS ?").join(" AND ");
      const params = keys.flatMap((key) => {
        const v = filter![key];
        if (v !== null && !["string", "number", "boolean"].includes(typeof v)) throw new Error(`store search: filter "${key}" must be a string, number, boolean or null`);
        return [`$.${JSON.stringify(key)}`, typeof v === "boolean" ? Number(v) : v];
      });
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
  if (!Number.isInteger(info.dimension) || info.dimension <= 0) throw new Error(`dimension must be a positive integer, got ${info.dimension}`);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("BEGIN");
  db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  db.exec("CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, text TEXT NOT NULL, metadata TEXT NOT NULL)");
  db.exec(`CREATE VIRTUAL TABLE vecs USING vec0(embedding float[${info.dimension}] distance_metric=cosine)`);
  const put = db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)");
  put.run("format", FORMAT);
  put.run("model", info.model);
  put.run("dimension", String(info.dimension));
  put.run("query_instruction", JSON.stringify(info.queryInstruction));
  put.run("load", JSON.stringify(info.load));
  db.exec("COMMIT");
  return info;
}

function readInfo(db: DatabaseSync, file: string): StoreInfo {
  const meta = new Map((db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  if (meta.get("format") !== FORMAT) throw new Error(`${file}: not an llm2vec store (format ${JSON.stringify(meta.get("format") ?? null)}, expected ${FORMAT})`);
  const dimension = Number(meta.get("dimension"));
  const model = meta.get("model");
  if (!model || !Number.isInteger(dimension) || dimension <= 0) throw new Error(`${file}: its meta table lacks a model or a dimension`);
  return { model, dimension, queryInstruction: JSON.parse(meta.get("query_instruction") ?? "null") as string | null, load: JSON.parse(meta.get("load") ?? JSON.stringify({ model })) as StoreInfo["load"] };
}

function checkSame(file: string, have: StoreInfo, want: StoreInfo): void {
  if (have.model !== want.model || have.dimension !== want.dimension)
    throw new Error(`${file}: was built with ${have.model} (dimension ${have.dimension}), not ${want.model} (dimension ${want.dimension}); use another --db or the same model`);
}
