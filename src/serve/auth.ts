/**
 * The API key: checked on the route the request matched, after routing, so that every spelling of
 * a path the router accepts (percent-encoded, any case it folds) meets the same rule. Routes are
 * protected unless they say `config: { open: true }` (/health and /metrics, for probes and
 * scrapers); a request that matches no route is protected too, so an unknown path without the
 * key is a 401, not a hint about which routes exist.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "./errors.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without the API key. */
    open?: boolean;
  }
}

/**
 * The key as given, refused when it could never be sent: empty or blank (an empty key would
 * match an empty header and turn authentication off), or with spaces around it (the header's
 * value is trimmed). `source` names where it came from (a flag, a variable, an option).
 */
export function checkApiKeyOption(key: string | undefined, source: string): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== "string" || key.trim() === "") throw new Error(`${source} is empty; give a non-blank API key, or leave ${source} unset to serve without one`);
  if (key.trim() !== key) throw new Error(`${source} has spaces around it; clients cannot send them in 'Authorization: Bearer <key>'`);
  return key;
}

/** Requires `Authorization: Bearer <key>` on every route not marked open (a hook after routing). */
export function requireApiKey(app: FastifyInstance, key: string): void {
  const want = digest(key);
  app.addHook("onRequest", async (req) => {
    if (req.routeOptions.config?.open === true) return;
    checkKey(req, want);
  });
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

function checkKey(req: FastifyRequest, want: Buffer): void {
  const m = /^Bearer[ \t]+(.*)$/i.exec(req.headers.authorization ?? "");
  const given = m?.[1]?.trim() ?? "";
  // Digests of equal length compared in constant time: the reply's timing tells nothing about
  // how much of a guessed key, or of its length, was right.
  if (given === "" || !timingSafeEqual(digest(given), want))
    throw new ApiError(401, "invalid_api_key", given !== "" ? "Incorrect API key provided." : "You didn't provide an API key: send it as 'Authorization: Bearer <key>'.", null, "invalid_request_error");
}
