/**
 * POST /v1/chat/completions and POST /v1/completions in OpenAI's shapes, whole or streamed as
 * server-sent events (`data: {chunk}` … `data: [DONE]`, usage in a last chunk when
 * stream_options.include_usage). The generation runs on the same worker and weights as
 * /v1/embeddings (engine.generate); a client that disconnects cancels it there and frees its slot.
 * Every reply and chunk carries `seed` (an extension): the request's, or the one drawn for it when
 * it gave none; prompt i of a request draws with seed + i.
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DEFAULT_MAX_TOKENS, type TextDelta } from "../generation/text-session.js";
import type { ServeContext } from "./app.js";
import { ApiError, invalid } from "./errors.js";
import { drawSeed } from "../models/sampling.js";
import { ChatCompletionRequest, CompletionRequest, type Usage } from "./gen-schema.js";
import type { GeneratedRow } from "../runtime/protocol.js";

type Common = ChatCompletionRequest | CompletionRequest;

export function registerGenerationRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.post<{ Body: ChatCompletionRequest }>("/v1/chat/completions", { schema: { body: ChatCompletionRequest } }, async (req, reply) => {
    const body = req.body;
    checkModel(ctx, body.model);
    ctx.engine.checkServing();
    if (body.max_tokens != null && body.max_completion_tokens != null) throw invalid("Give max_tokens or max_completion_tokens, not both.", "max_completion_tokens");
    checkPromptChars(ctx, body.messages.map((m) => m.content + (m.name ?? "")), "messages");
    const prompt = ctx.engine.chatPromptIds(body.messages);
    const id = `chatcmpl-${randomUUID()}`;
    return run(ctx, req, reply, body, [prompt], body.max_completion_tokens ?? body.max_tokens ?? null, {
      chunk: (created, d, first) => ({
        id, object: "chat.completion.chunk", created, model: ctx.modelName,
        choices: [{ index: 0, delta: first ? { role: "assistant", content: d.text } : d.finishReason !== null && d.text === "" ? {} : { content: d.text }, logprobs: null, finish_reason: d.finishReason }],
      }),
      whole: (created, rows, usage) => ({
        id, object: "chat.completion", created, model: ctx.modelName,
        choices: [{ index: 0, message: { role: "assistant", content: rows[0]!.text, refusal: null }, logprobs: null, finish_reason: rows[0]!.finishReason }],
        usage,
      }),
      usageChunk: (created, usage) => ({ id, object: "chat.completion.chunk", created, model: ctx.modelName, choices: [], usage }),
    });
  });

  app.post<{ Body: CompletionRequest }>("/v1/completions", { schema: { body: CompletionRequest } }, async (req, reply) => {
    const body = req.body;
    checkModel(ctx, body.model);
    ctx.engine.checkServing();
    const texts = typeof body.prompt === "string" ? [body.prompt] : body.prompt;
    if (texts.length > ctx.limits.maxPrompts)
      throw invalid(`'prompt' holds ${texts.length} prompts; this server takes at most ${ctx.limits.maxPrompts} per request (--max-prompts).`, "prompt", "too_many_prompts");
    checkPromptChars(ctx, texts, "prompt");
    const prompts: number[][] = [];
    for (const p of texts) {
      // One prompt at a time with a turn of the event loop between, as /v1/embeddings tokenises.
      if (prompts.length > 0) await new Promise((r) => setImmediate(r));
      prompts.push(ctx.engine.completionPromptIds(p));
    }
    const id = `cmpl-${randomUUID()}`;
    return run(ctx, req, reply, body, prompts, body.max_tokens ?? null, {
      chunk: (created, d) => ({ id, object: "text_completion", created, model: ctx.modelName, choices: [{ index: d.row, text: d.text, logprobs: null, finish_reason: d.finishReason }] }),
      whole: (created, rows, usage) => ({
        id, object: "text_completion", created, model: ctx.modelName,
        choices: rows.map((r, index) => ({ index, text: r.text, logprobs: null, finish_reason: r.finishReason })),
        usage,
      }),
      usageChunk: (created, usage) => ({ id, object: "text_completion", created, model: ctx.modelName, choices: [], usage }),
    });
  });
}

/** Refuses by character count before anything is tokenised (tokenising holds the HTTP thread). */
function checkPromptChars(ctx: ServeContext, texts: readonly string[], param: string): void {
  const chars = texts.reduce((n, t) => n + t.length, 0);
  if (chars > ctx.limits.maxPromptChars)
    throw invalid(`'${param}' holds ${chars} characters of text; this server takes at most ${ctx.limits.maxPromptChars} per generation request (--max-prompt-chars).`, param, "prompt_too_long");
}

function checkModel(ctx: ServeContext, model: string): void {
  if (model !== ctx.modelName) throw new ApiError(404, "model_not_found", `The model '${model}' does not exist; this server serves '${ctx.modelName}'.`, "model");
}

interface Shapes {
  chunk: (created: number, d: TextDelta, first: boolean) => unknown;
  whole: (created: number, rows: GeneratedRow[], usage: Usage) => unknown;
  usageChunk: (created: number, usage: Usage) => unknown;
}

async function run(ctx: ServeContext, req: FastifyRequest, reply: FastifyReply, body: Common, prompts: number[][], maxTokens: number | null, shapes: Shapes): Promise<unknown> {
  const { engine, limits } = ctx;
  const created = Math.floor(Date.now() / 1000);
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  // No max_tokens: up to the context (the worker never allocates past it); a huge one likewise.
  const params = {
    maxTokens: maxTokens ?? Math.min(DEFAULT_MAX_TOKENS, engine.info.contextLength),
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? undefined,
    topK: body.top_k,
    // Without a seed every request would draw the same text; a fresh one each time, reported.
    seed: body.seed ?? drawSeed(),
    stop,
  };
  const withSeed = (x: unknown) => ({ ...(x as object), seed: params.seed });
  const usage = (rows: GeneratedRow[]): Usage => {
    const p = prompts.reduce((s, x) => s + x.length, 0);
    const c = rows.reduce((s, r) => s + r.completionTokens, 0);
    return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
  };

  const ac = new AbortController();
  const left = limits.requestTimeoutMs - (performance.now() - req.startedAt);
  const timer = setTimeout(() => ac.abort(new ApiError(504, "timeout", `The request did not finish within ${limits.requestTimeoutMs} ms; its generation was stopped.`)), Math.max(0, left));
  const onClose = () => {
    if (!reply.raw.writableFinished) ac.abort(new ApiError(499, "client_closed", "The client closed the connection before the reply."));
  };
  reply.raw.on("close", onClose);
  try {
    if (!body.stream) {
      const rows = await engine.generate(prompts, params, () => {}, ac.signal);
      return withSeed(shapes.whole(created, rows, usage(rows)));
    }
    // Refusals (429, context, …) throw here, before any byte of the stream: a plain JSON error.
    const events: string[] = [];
    let wake: (() => void) | null = null;
    const push = (x: unknown) => {
      events.push(`data: ${JSON.stringify(withSeed(x))}\n\n`);
      wake?.();
    };
    if (prompts.length === 1) push(shapes.chunk(created, { row: 0, text: "", finishReason: null }, true));
    const done = engine.generate(prompts, params, (d) => push(shapes.chunk(created, d, false)), ac.signal);
    reply.hijack();
    reply.raw.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    // Shutdown: stop the generation (the client gets the error event and [DONE]) and close the
    // connection after it; kept alive, it would hold the server's drain for the keep-alive timeout.
    let closeAfter = false;
    const onShutdown = () => {
      closeAfter = true;
      ac.abort(new ApiError(503, "shutting_down", "The server is shutting down; this generation was stopped."));
    };
    ctx.onShutdown.add(onShutdown);
    let finished = false;
    let failure: unknown = null;
    done.then(
      (rows) => {
        if (body.stream_options?.include_usage) push(shapes.usageChunk(created, usage(rows)));
        finished = true;
        wake?.();
      },
      (e) => {
        failure = e;
        finished = true;
        wake?.();
      },
    );
    // Write events as they come; the socket's own buffering decides the pace.
    while (!finished || events.length > 0) {
      if (events.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      if (events.length > 0 && !reply.raw.destroyed) reply.raw.write(events.splice(0).join(""));
    }
    if (failure !== null && !reply.raw.destroyed) {
      const err = failure instanceof ApiError ? failure : new ApiError(500, "internal_error", "The generation failed; see the server log.");
      if (!(failure instanceof ApiError)) req.log.error(failure);
      reply.raw.write(`data: ${JSON.stringify(err.body())}\n\n`);
    }
    if (!reply.raw.destroyed) reply.raw.end("data: [DONE]\n\n");
    ctx.onShutdown.delete(onShutdown);
    if (closeAfter) reply.raw.socket?.destroySoon();
    return reply;
  } finally {
    clearTimeout(timer);
    reply.raw.off("close", onClose);
  }
}
