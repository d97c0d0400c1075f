/**
 * The routes: POST /v1/embeddings and GET /v1/models (OpenAI's API), GET /health, GET /info
 * (TEI's: the model, its options and the limits), GET /metrics (Prometheus).
 * /health and /metrics are open; every other route requires the API key when one is set (auth.ts).
 */
import type { FastifyInstance } from "fastify";
import { VERSION } from "./version.js";
import type { ServeContext } from "./app.js";
import { ApiError } from "./errors.js";
import { checkInputs } from "./limits.js";
import { checkDimensions, shapeEmbedding } from "./output.js";
import { EmbeddingsRequest, type EmbeddingsResponse, type ModelObject } from "./schema.js";
import { registerGenerationRoutes } from "./gen-routes.js";
import { withDeadline } from "./deadline.js";
import { registerTeiRoutes } from "./tei-routes.js";

export function registerRoutes(app: FastifyInstance, ctx: ServeContext): void {
  const { engine, limits } = ctx;
  const created = Math.floor(Date.now() / 1000);

  app.post<{ Body: EmbeddingsRequest }>("/v1/embeddings", { schema: { summary: "Embeddings (OpenAI's API)", body: EmbeddingsRequest } }, async (req, reply) => {
    const body = req.body;
    if (body.model !== ctx.modelName)
      throw new ApiError(404, "model_not_found", `The model '${body.model}' does not exist; this server serves '${ctx.modelName}'.`, "model");
    engine.checkServing();
    const info = engine.info;
    checkDimensions(body.dimensions, info.dimension);
    const inputs = checkInputs(body, limits, info.vocabSize);

    return withDeadline(req, reply, limits, async (signal) => {
      const { vectors, tokens } = await engine.embed(inputs, signal);
      const out = { dimensions: body.dimensions, normalize: ctx.normalize, base64: body.encoding_format === "base64" };
      const res: EmbeddingsResponse = {
        object: "list",
        data: vectors.map((v, index) => ({ object: "embedding", index, embedding: shapeEmbedding(v, out) })),
        model: ctx.modelName,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
      return res;
    });
  });

  registerGenerationRoutes(app, ctx);
  registerTeiRoutes(app, ctx);

  app.get("/v1/models", { schema: { summary: "The served model (OpenAI's API)" } }, async () => {
    // One model, two uses: what it serves, once loaded (generation needs the base unmerged).
    const canGenerate = engine.state === "ready" && engine.info.canGenerate;
    const model: ModelObject = { id: ctx.modelName, object: "model", created, owned_by: "llm2vec", uses: ["embeddings", ...(canGenerate ? ["chat.completions", "completions"] : [])] };
    return { object: "list", data: [model] };
  });

  app.get("/health", { config: { open: true }, schema: { summary: "200 once the model is loaded, 503 while loading or failed" } }, async (_req, reply) => {
    const state = engine.state;
    if (state === "ready") return { status: "ok" };
    reply.code(503);
    return { status: state, ...(engine.loadError ? { error: engine.loadError.message } : {}) };
  });

  app.get("/info", { schema: { summary: "The model, its options and the limits (TEI's keys and ours)" } }, async () => {
    const ready = engine.state === "ready";
    const info = ready ? engine.info : null;
    return {
      model_id: ctx.modelName,
      model_path: engine.opts.model,
      adapters: engine.opts.load.adapter === undefined ? [] : [engine.opts.load.adapter].flat(),
      ready,
      model_type: info ? { embedding: { pooling: info.options.pooling, dimension: info.dimension } } : null,
      model_family: info?.family ?? null,
      model_dtype: info?.weightDtype ?? null,
      num_layers: info?.numLayers ?? null,
      vocab_size: info?.vocabSize ?? null,
      encoder_options: info?.options ?? null,
      normalize: ctx.normalize,
      max_input_length: info?.options.maxLength ?? null,
      auto_truncate: limits.truncate,
      max_batch_tokens: engine.opts.batching.maxBatchTokens,
      max_batch_requests: engine.opts.batching.maxBatchSize,
      batch_window_ms: engine.opts.batching.windowMs,
      batch_max_window_ms: engine.opts.batching.maxWindowMs,
      batch_quiet_ms: engine.opts.batching.quietMs,
      max_client_batch_size: limits.maxInputs,
      max_queued_inputs: limits.maxQueue,
      limits: {
        max_body_bytes: limits.maxBodyBytes,
        request_timeout_ms: limits.requestTimeoutMs,
        body_timeout_ms: limits.bodyTimeoutMs,
        max_generations: limits.maxGenerations,
        max_prompts: limits.maxPrompts,
        max_prompt_chars: limits.maxPromptChars,
        max_generation_tokens: limits.maxGenerationTokens,
      },
      api_key_required: ctx.apiKeyRequired,
      prompt_names: info ? Object.keys(info.prompts.prompts) : null,
      default_prompt_name: info?.prompts.defaultPromptName ?? null,
      // TEI's remaining keys: the main thread tokenises; queued inputs bound the requests in flight.
      model_sha: null,
      max_concurrent_requests: limits.maxQueue,
      tokenization_workers: 1,
      sha: null,
      docker_label: null,
      version: VERSION,
    };
  });

  app.get("/metrics", { config: { open: true }, schema: { summary: "Prometheus metrics" } }, async (_req, reply) => {
    reply.type("text/plain; version=0.0.4; charset=utf-8");
    return engine.metrics.render();
  });
}
