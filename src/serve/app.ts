/**
 * The HTTP application: a Fastify instance with the API's routes (routes.ts), built without
 * listening, so tests and other servers can mount or inject it; `llm2vec serve` listens on it.
 *
 *   const { app, engine } = createEmbeddingServer({ model: "./stories260K" });
 *   await app.listen({ host: "127.0.0.1", port: 8080 });   // /health says "loading" until
 *   await engine.ready;                                     // the model worker has loaded
 *
 * Everything the client can get wrong is answered here in OpenAI's error shape: the body is read
 * with a deadline and a size limit, decoded as strict UTF-8, parsed, validated against the schema
 * (no type coercion), and requests are authenticated when an API key is set.
 */
import { PassThrough } from "node:stream";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from "fastify";
import type { FromPretrainedOptions } from "../encoder/llm2vec.js";
import { checkApiKeyOption, requireApiKey } from "./auth.js";
import { DEFAULT_BATCHING, type BatchingOptions } from "../runtime/batcher.js";
import { Engine } from "./engine.js";
import { ApiError, fromFastifyError, invalid, teiError } from "./errors.js";
import { definedOnly, resolveLimits, type ServeLimits } from "./limits.js";
import { registerOpenApi } from "./openapi.js";
import { registerRoutes } from "./routes.js";
import { validationError } from "./validation.js";

export interface ServeOptions {
  /** Hugging Face model folder. */
  model: string;
  /** How to load it (adapters, pooling, max length, ...): LLM2Vec.fromPretrained's options. */
  load?: FromPretrainedOptions;
  /** The id in /v1/models, and the `model` requests must name (default: the folder's name). */
  modelName?: string;
  limits?: Partial<ServeLimits>;
  batching?: Partial<Omit<BatchingOptions, "maxQueue">>;
  /**
   * Every route but /health and /metrics requires `Authorization: Bearer <apiKey>`. An empty or
   * blank key is refused (it would turn authentication off).
   */
  apiKey?: string;
  /** L2-normalise embeddings (default true, as OpenAI's are unit length). */
  normalize?: boolean;
  /**
   * Nice value of the model's compute threads (Linux): lower priority than the HTTP thread, so that
   * probes and replies are not held up behind the kernels on a machine with few cores. 0: unchanged.
   */
  computeNice?: number;
  /** Fastify's (pino) request log. */
  logger?: boolean;
  /**
   * Serve generation beside embeddings from one copy of the weights: adapters stay unmerged
   * (embeddings run with them, generation runs the bare base). Without adapters the base is
   * intact anyway and generation is served either way.
   */
  generate?: boolean;
}

/** Lower than the HTTP thread, so probes and replies get a core under load (docs/serving.md, Batching). */
export const DEFAULT_COMPUTE_NICE = 10;

export interface EmbeddingServer {
  app: FastifyInstance;
  engine: Engine;
  /** The model id requests must name. */
  modelName: string;
}

/** What routes.ts needs to know besides the engine. */
export interface ServeContext {
  engine: Engine;
  modelName: string;
  limits: ServeLimits;
  normalize: boolean;
  apiKeyRequired: boolean;
  /**
   * Called when the server starts closing. Streamed replies are hijacked from Fastify, so its drain
   * neither waits for nor closes them; each registers here to stop and close its connection.
   */
  onShutdown: Set<() => void>;
}

declare module "fastify" {
  interface FastifyRequest {
    /** performance.now() at arrival, for the latency histogram and the request deadline. */
    startedAt: number;
  }
}

export function createEmbeddingServer(opts: ServeOptions): EmbeddingServer {
  const apiKey = checkApiKeyOption(opts.apiKey, "apiKey");
  const limits = resolveLimits(opts.limits ?? {}, "serve limits");
  const batching = { ...DEFAULT_BATCHING, ...definedOnly(opts.batching ?? {}) };
  const load = opts.generate ? { ...opts.load, mergeAdapter: false } : (opts.load ?? {});
  const computeNice = opts.computeNice ?? DEFAULT_COMPUTE_NICE;
  if (!Number.isInteger(computeNice) || computeNice < 0 || computeNice > 19) throw new Error(`computeNice must be an integer in [0, 19], got ${computeNice}`);
  const engine = new Engine({ model: opts.model, load, limits, batching, computeNice });
  const modelName = opts.modelName ?? (opts.model.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || opts.model);
  const ctx: ServeContext = { engine, modelName, limits, normalize: opts.normalize ?? true, apiKeyRequired: apiKey !== undefined, onShutdown: new Set() };

  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: limits.maxBodyBytes,
    // Node's own deadline for a whole request is the backstop behind the body deadline below.
    requestTimeout: limits.bodyTimeoutMs + 5_000,
    // New requests during shutdown get our own 503 (onRequest), in OpenAI's shape.
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, verbose: true } },
    schemaErrorFormatter: (errors) => validationError(errors),
  });
  app.decorateRequest("startedAt", 0);

  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    for (const f of ctx.onShutdown) f();
    done();
  });
  app.addHook("onClose", async () => {
    await engine.close();
  });

  app.addHook("onRequest", async (req, reply) => {
    req.startedAt = performance.now();
    if (closing) {
      reply.header("connection", "close");
      throw new ApiError(503, "shutting_down", "The server is shutting down.");
    }
  });
  if (apiKey !== undefined) requireApiKey(app, apiKey);

  // `Expect: 100-continue`: Node would send "100 Continue" before any hook runs, inviting the body
  // of a request about to be refused (no key, too large, not JSON). Handled here, the request goes
  // through the hooks first and the go-ahead is sent only when the body parser starts reading.
  app.server.on("checkContinue", (req, res) => app.server.emit("request", req, res));

  // A client that stops sending mid-body must not hold its connection and slot forever.
  app.addHook("preParsing", async (req, reply, payload) => {
    if (req.method === "GET" || req.method === "HEAD") return payload;
    const pass = new PassThrough();
    if (/^100-continue$/i.test(req.headers.expect ?? "")) pass.once("resume", () => reply.raw.writeContinue());
    const timer = setTimeout(() => {
      reply.header("connection", "close");
      pass.destroy(new ApiError(408, "body_timeout", `The request body did not arrive within ${limits.bodyTimeoutMs} ms.`));
    }, limits.bodyTimeoutMs);
    const stop = () => clearTimeout(timer);
    payload.on("end", stop).on("error", stop).on("close", stop);
    // The reply can go before the body ends (413 stops reading); the deadline then has nothing left to guard.
    reply.raw.on("close", stop);
    // Fastify stops listening once it has answered; a late error then has no one to tell.
    pass.on("error", () => {});
    payload.pipe(pass);
    return pass;
  });

  // Only JSON: no text/plain parser, and our own JSON parser for strict UTF-8 and OpenAI's wording.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body as Buffer);
    } catch {
      return done(invalid("The request body is not valid UTF-8.", null, "invalid_utf8"), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(invalid(`We could not parse the JSON body of your request: ${(e as Error).message}.`, null, "invalid_json"), undefined);
    }
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    const api = err instanceof ApiError ? err : fromFastifyError(err);
    if (!api) {
      req.log.error(err);
      return sendError(ctx, reply, new ApiError(500, "internal_error", "The server failed on this request; see its log."));
    }
    return sendError(ctx, reply, api);
  });
  app.setNotFoundHandler((req, reply) => sendError(ctx, reply, new ApiError(404, "unknown_route", `Unknown route: ${req.method} ${req.url.split("?")[0]}.`)));

  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unknown";
    engine.metrics.requests.inc({ route, code: String(reply.statusCode) });
    if (route === "/v1/embeddings" || route === "/embed") engine.metrics.requestSeconds.observe((performance.now() - req.startedAt) / 1000);
  });

  registerOpenApi(app);
  // In a plugin, so the routes are added after the OpenAPI generator is ready to see them.
  app.register(async (routes) => registerRoutes(routes, ctx));
  return { app, engine, modelName };
}

export function sendError(ctx: ServeContext, reply: FastifyReply, err: ApiError): FastifyReply {
  ctx.engine.metrics.errors.inc({ type: err.code });
  // Refused before its body was read (401, 413, 415, ...): close the connection after the reply
  // rather than let Node read and discard the rest of a body that may be large or never end.
  const raw = reply.request.raw;
  if (!raw.complete && (raw.headers["content-length"] !== undefined || raw.headers["transfer-encoding"] !== undefined)) reply.header("connection", "close");
  if (reply.request.routeOptions.config?.teiErrors) {
    const tei = teiError(err);
    return reply.code(tei.status).headers(err.headers).send(tei.body);
  }
  return reply.code(err.statusCode).headers(err.headers).send(err.body());
}
