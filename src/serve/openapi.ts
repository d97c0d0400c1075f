/**
 * GET /openapi.json (OpenAPI 3.1, built by @fastify/swagger from the routes' TypeBox schemas, so
 * it cannot drift from what the server validates) and GET /docs, a small page listing the routes
 * and linking the JSON. Swagger UI is not bundled: it would add about 13 MB of dependencies for
 * one page; any OpenAPI viewer reads /openapi.json. Both are open like /health: the schema is
 * public documentation and names no secret.
 */
import swagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { VERSION } from "./version.js";

/** Registers the generator; call before the routes are added, so that it sees them all. */
export function registerOpenApi(app: FastifyInstance): void {
  app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "llm2vec", version: VERSION, description: "Embeddings (OpenAI's and TEI's APIs) and generation from a decoder LLM turned encoder." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    },
    // TypeBox writes tuples as draft-07 does (items: [...]); OpenAPI 3.1 uses JSON Schema 2020-12's prefixItems.
    // Routes that need the API key (when one is set) say so.
    transform: ({ schema, url, route }) => {
      const out = { ...(schema ? (toPrefixItems(schema) as typeof schema) : {}), ...(route.config?.open ? {} : { security: [{ bearer: [] }] }) };
      return { schema: out as typeof schema, url };
    },
  });
  const hide = { schema: { hide: true }, config: { open: true } };
  app.get("/openapi.json", hide, async () => app.swagger());
  app.get("/docs", hide, async (_req, reply) => {
    reply.type("text/html; charset=utf-8");
    return docsPage(app.swagger() as unknown as { paths: Record<string, Record<string, { summary?: string }>> });
  });
}

function toPrefixItems(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toPrefixItems);
  if (!s || typeof s !== "object") return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "items" && Array.isArray(v)) out.prefixItems = v.map(toPrefixItems);
    else if (k === "additionalItems") out.items = v;
    else out[k] = toPrefixItems(v);
  }
  return out;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function docsPage(doc: { paths: Record<string, Record<string, { summary?: string }>> }): string {
  const rows = Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.entries(ops).map(([m, op]) => `<tr><td><code>${m.toUpperCase()} ${escape(p)}</code></td><td>${escape(op.summary ?? "")}</td></tr>`),
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>llm2vec API</title></head><body>
<h1>llm2vec API ${escape(VERSION)}</h1>
<p>The full description: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1; open it in any OpenAPI viewer).</p>
<table>${rows.join("\n")}</table>
</body></html>
`;
}
