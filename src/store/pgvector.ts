/**
 * The server store: the same VectorStore in PostgreSQL with the pgvector extension, through
 * node-postgres (`pg`, an optional peer dependency imported on first use). A store is two tables
 * named by the URL's `table` parameter (default `llm2vec`): TABLE (id, text, metadata jsonb,
 * embedding vector(D)) and TABLE_meta (the model record the embedded store keeps in its file):
 *
 *   postgres://user:password@host:5432/dbname?table=passages
 *
 * Each add is one transaction, so a killed `index` run leaves whole batches. Search is an exact
 * cosine scan ordered by `<=>`, filtered or not, as the embedded store's is; an HNSW index added by
 * hand trades that exactness for speed.
 */
import { alreadyStored, checkAdd, checkSame, checkSearch, filterEntries, infoFromMeta, metaRows } from "./common.js";
import type { Metadata, MetadataFilter, OpenStoreOptions, SearchHit, StoreInfo, VectorStore } from "./types.js";

/** The part of pg's Client the store uses (so its declarations need no pg types). */
interface PgClient {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
  on(event: "error", listener: (e: Error) => void): unknown;
}

/** Whether `--db` names a PostgreSQL server rather than a folder. */
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db);

/** An optional peer dependency, imported on first use; missing, the error names it and the install line. */
export async function importPeer<T>(name: string, purpose: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && (e as Error).message.includes(`'${name}'`)) throw new Error(`${purpose} needs the "${name}" package, an optional peer dependency of llm2vec: npm install ${name}`);
    throw e;
  }
}

/** The connection string without `table`, the table name, and the URL as messages show it (no password). */
export function parsePostgresUrl(db: string): { connectionString: string; table: string; location: string } {
  let url: URL;
  try {
    url = new URL(db);
  } catch {
    throw new Error(`--db ${db}: not a valid postgres:// URL`);
  }
  const table = url.searchParams.get("table") ?? "llm2vec";
  if (!/^[a-z_][a-z0-9_]{0,49}$/.test(table)) throw new Error(`--db: table "${table}" must be lowercase letters, digits and _ (at most 50, not starting with a digit)`);
  url.searchParams.delete("table");
  const connectionString = url.toString();
  url.password = "";
  url.searchParams.set("table", table);
  return { connectionString, table, location: url.toString() };
}

/** pgvector's text form of a vector; 9 significant digits read back as the same float32. */
const literal = (v: Float32Array): string => `[${Array.from(v, (x) => x.toPrecision(9)).join(",")}]`;

export class PgVectorStore implements VectorStore {
  private constructor(
    private readonly client: PgClient,
    /** The data table's name, quoted (its meta table is TABLE_meta). */
    private readonly table: string,
    readonly location: string,
    readonly info: StoreInfo,
    private readonly readOnly: boolean,
  ) {}

  /** Opens the store at a postgres:// URL (creating it with `opts.create`); refuses another model or dimension, naming both. */
  static async open(db: string, opts: OpenStoreOptions = {}): Promise<PgVectorStore> {
    const { connectionString, table: name, location } = parsePostgresUrl(db);
    // Quoted, so a name that is an SQL keyword (`user`, `order`) is still a table; the pattern keeps quotes out.
    const table = `"${name}"`;
    const pg = await importPeer<{ default: { Client: new (c: { connectionString: string }) => PgClient } }>("pg", "a postgres:// store");
    const client = new pg.default.Client({ connectionString });
    // A connection the server drops makes the next query reject; unheard, pg's "error" event would end the process.
    client.on("error", () => {});
    try {
      await client.connect();
    } catch (e) {
      throw new Error(`${location}: cannot connect (${(e as Error).message})`);
    }
    try {
      const [{ exists }] = (await client.query("SELECT to_regclass($1) IS NOT NULL AS exists", [`"${name}_meta"`])).rows as [{ exists: boolean }];
      if (!exists && !opts.create) throw new Error(`${location}: no vector store here (no table ${name}_meta); build one with \`llm2vec index --db ${location}\``);
      const info = exists ? await readInfo(client, name, location) : await createTables(client, name, location, opts.create!);
      if (opts.create) checkSame(location, info, opts.create);
      return new PgVectorStore(client, table, location, info, opts.readOnly === true);
    } catch (e) {
      await client.end().catch(() => {});
      const msg = (e as Error).message;
      throw new Error(msg.startsWith(location) ? msg : `${location}: not a readable llm2vec store (${msg})`);
    }
  }

  async add(ids: readonly string[], vectors: readonly Float32Array[], texts: readonly string[], metadata?: readonly Metadata[]): Promise<void> {
    if (this.readOnly) throw new Error(`store add: ${this.location} was opened read-only`);
    checkAdd(this.location, this.info, ids, vectors, texts, metadata);
    await this.client.query("BEGIN");
    try {
      const stored = await this.storedIds(ids);
      if (stored.size) throw alreadyStored(this.location, stored);
      await this.client.query(`INSERT INTO ${this.table} (id, text, metadata, embedding) SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::vector[])`, [
        ids,
        texts,
        ids.map((_, i) => JSON.stringify(metadata?.[i] ?? {})),
        vectors.map(literal),
      ]);
      await this.client.query("COMMIT");
    } catch (e) {
      await this.client.query("ROLLBACK");
      // Another writer that stored one of these ids after the check above trips the primary key.
      if ((e as { code?: string }).code === "23505") throw alreadyStored(this.location, await this.storedIds(ids));
      throw e;
    }
  }

  async search(vector: Float32Array, k: number, filter?: MetadataFilter): Promise<SearchHit[]> {
    checkSearch(this.location, this.info, vector, k);
    const params: unknown[] = [literal(vector), k];
    // A null matches a missing key too, as SQL's json_extract(…) IS NULL does in the embedded store.
    const where = filterEntries(filter).map(([key, v]) => {
      params.push(key);
      if (v === null) return `coalesce(metadata -> $${params.length}::text, 'null') = 'null'`;
      params.push(JSON.stringify(v));
      return `metadata -> $${params.length - 1}::text = $${params.length}::jsonb`;
    });
    const { rows } = await this.client.query(
      `SELECT id, text, metadata, embedding <=> $1::vector AS distance FROM ${this.table}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY distance LIMIT $2`,
      params,
    );
    return rows.map((r) => ({ id: r.id as string, score: 1 - (r.distance as number), text: r.text as string, metadata: r.metadata as Metadata }));
  }

  async storedIds(ids: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.client.query(`SELECT id FROM ${this.table} WHERE id = ANY($1::text[])`, [ids]);
    return new Set(rows.map((r) => r.id as string));
  }

  async count(): Promise<number> {
    const { rows } = await this.client.query(`SELECT count(*) AS n FROM ${this.table}`);
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

async function createTables(client: PgClient, table: string, location: string, info: StoreInfo): Promise<StoreInfo> {
  const rows = metaRows(info);
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS vector");
  } catch (e) {
    throw new Error(`${location}: needs the pgvector extension (${(e as Error).message}); a superuser can run CREATE EXTENSION vector in this database`);
  }
  await client.query("BEGIN");
  try {
    await client.query(`CREATE TABLE "${table}_meta" (key text PRIMARY KEY, value text NOT NULL)`);
    await client.query(`CREATE TABLE "${table}" (id text PRIMARY KEY, text text NOT NULL, metadata jsonb NOT NULL, embedding vector(${info.dimension}) NOT NULL)`);
    await client.query(`INSERT INTO "${table}_meta" (key, value) SELECT * FROM unnest($1::text[], $2::text[])`, [rows.map((r) => r[0]), rows.map((r) => r[1])]);
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK");
    throw e;
  }
  return info;
}

async function readInfo(client: PgClient, table: string, location: string): Promise<StoreInfo> {
  const { rows } = await client.query(`SELECT key, value FROM "${table}_meta"`);
  return infoFromMeta(location, new Map(rows.map((r) => [r.key as string, r.value as string])));
}
