/**
 * A real PostgreSQL with pgvector on loopback, no network and no install: PGlite (Postgres built to
 * WASM, with its pgvector extension) served over the wire protocol by pglite-socket, for `pg` to
 * connect to as it would to any server. PGlite is one session that every connection shares, so
 * tests use one connection at a time; a few are allowed, as a closed client's socket may linger.
 */
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite/vector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface PgliteServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  stop(): Promise<void>;
}

export async function startPgliteServer(): Promise<PgliteServer> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 4 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
