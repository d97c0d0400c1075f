/**
 * `llm2vec serve`: the OpenAI-compatible embeddings server (src/serve/) on a host and port. It
 * listens at once (GET /health answers "loading" until the model worker is ready) and shuts down
 * gracefully on SIGTERM or SIGINT: no new requests, queued work finished and answered, exit 0.
 */
import * as fs from "node:fs";
import { Command, Option } from "commander";
import { createEmbeddingServer, DEFAULT_COMPUTE_NICE, type EmbeddingServer } from "../../serve/app.js";
import { checkApiKeyOption } from "../../serve/auth.js";
import { DEFAULT_BATCHING } from "../../runtime/batcher.js";
import { DEFAULT_LIMITS } from "../../serve/limits.js";
import { addEncoderFlags, encoderOptionsFromFlags, type EncoderFlags } from "../encoder-flags.js";

export const API_KEY_ENV = "LLM2VEC_API_KEY";

export interface ServeCommandOptions extends EncoderFlags {
  host: string;
  port: string;
  modelName?: string;
  apiKey?: string;
  maxBatchTokens?: string;
  maxBatchSize?: string;
  batchWindowMs?: string;
  batchMaxWindowMs?: string;
  batchQuietMs?: string;
  computeNice?: string;
  maxInputs?: string;
  maxQueue?: string;
  maxBodyBytes?: string;
  requestTimeoutMs?: string;
  bodyTimeoutMs?: string;
  truncate?: boolean;
  normalize?: boolean;
  log?: boolean;
  generate?: boolean;
  generationTemplate?: string;
  maxGenerations?: string;
  maxPrompts?: string;
  maxPromptChars?: string;
  maxGenerationTokens?: string;
}

function readTemplate(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`--generation-template: cannot read ${file}: ${(e as Error).message}`);
  }
}

function int(flag: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** Builds the server from the flags and starts listening; resolves with its URL once bound. */
export async function serveCommand(o: ServeCommandOptions, log: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<EmbeddingServer & { url: string }> {
  const port = int("--port", o.port, 0)!;
  if (port > 65535) throw new Error(`--port must be at most 65535, got ${port}`);
  // The flag wins over the variable; either, set but blank, is refused rather than read as "no key".
  const apiKey = o.apiKey !== undefined ? checkApiKeyOption(o.apiKey, "--api-key") : checkApiKeyOption(process.env[API_KEY_ENV], API_KEY_ENV);
  const server = createEmbeddingServer({
    model: o.model,
    load: { ...encoderOptionsFromFlags(o), ...(o.generationTemplate !== undefined ? { chatTemplateJinja: readTemplate(o.generationTemplate) } : {}) },
    generate: o.generate === true,
    modelName: o.modelName,
    apiKey,
    normalize: o.normalize !== false,
    logger: o.log === true,
    computeNice: int("--compute-nice", o.computeNice, 0),
    batching: {
      maxBatchTokens: int("--max-batch-tokens", o.maxBatchTokens),
      maxBatchSize: int("--max-batch-size", o.maxBatchSize),
      windowMs: int("--batch-window-ms", o.batchWindowMs, 0),
      maxWindowMs: int("--batch-max-window-ms", o.batchMaxWindowMs, 0),
      quietMs: int("--batch-quiet-ms", o.batchQuietMs, 0),
    },
    limits: {
      maxInputs: int("--max-inputs", o.maxInputs),
      maxQueue: int("--max-queue", o.maxQueue),
      maxBodyBytes: int("--max-body-bytes", o.maxBodyBytes),
      requestTimeoutMs: int("--request-timeout-ms", o.requestTimeoutMs),
      bodyTimeoutMs: int("--body-timeout-ms", o.bodyTimeoutMs),
      truncate: o.truncate !== false,
      maxGenerations: int("--max-generations", o.maxGenerations),
      maxPrompts: int("--max-prompts", o.maxPrompts),
      maxPromptChars: int("--max-prompt-chars", o.maxPromptChars),
      maxGenerationTokens: int("--max-generation-tokens", o.maxGenerationTokens),
    },
  });
  const url = await server.app.listen({ host: o.host, port });
  log(`llm2vec serve: listening on ${url} (model loading from ${o.model})`);
  if (apiKey === undefined && !isLoopback(o.host))
    log(`llm2vec serve: warning: listening on ${o.host}, beyond this machine, with no API key: anyone who can reach it can use the model (set --api-key or ${API_KEY_ENV})`);
  server.engine.ready.then(
    (info) => log(`llm2vec serve: ready: model '${server.modelName}', dimension ${info.dimension}, ${info.options.pooling} pooling, ${info.options.bidirectional ? "bidirectional" : "causal"}`),
    (e: Error) => log(`llm2vec serve: the model failed to load: ${e.message}`),
  );
  return { ...server, url };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function registerServe(program: Command): void {
  addEncoderFlags(program.command("serve").description("serve embeddings and generation over HTTP from one model: OpenAI's POST /v1/embeddings, /v1/chat/completions, /v1/completions, plus /v1/models, /health, /info, /metrics"))
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on (0: any free port)", "8080")
    .option("--model-name <id>", "model id in /v1/models and in requests (default: the model folder's name)")
    .addOption(new Option("--api-key <key>", "require 'Authorization: Bearer <key>' on every route but /health and /metrics (a blank key is refused)").env(API_KEY_ENV))
    .option("--max-batch-tokens <n>", `tokens per batch (real tokens: batches run without padding; default ${DEFAULT_BATCHING.maxBatchTokens})`)
    .option("--max-batch-size <n>", `inputs per batch (default ${DEFAULT_BATCHING.maxBatchSize})`)
    .option("--batch-window-ms <n>", `how long an idle model waits for more inputs before a partial batch (default ${DEFAULT_BATCHING.windowMs})`)
    .option("--compute-nice <n>", `nice value (0-19) of the model's compute threads, below the HTTP thread's (Linux; default ${DEFAULT_COMPUTE_NICE}, 0 leaves them alone)`)
    .option("--batch-max-window-ms <n>", `how long it keeps waiting while inputs are still arriving (default ${DEFAULT_BATCHING.maxWindowMs})`)
    .option("--batch-quiet-ms <n>", `inputs count as still arriving until none has come for this long (default ${DEFAULT_BATCHING.quietMs})`)
    .option("--max-inputs <n>", `inputs per request (default ${DEFAULT_LIMITS.maxInputs})`)
    .option("--generate", "keep adapters unmerged so the base model also generates (/v1/chat/completions, /v1/completions) while embeddings run with the adapters")
    .option("--generation-template <file>", "a Jinja chat template for /v1/chat/completions, replacing the tokenizer's chat_template")
    .option("--max-generations <n>", `generations running at once before requests get 429 (default ${DEFAULT_LIMITS.maxGenerations})`)
    .option("--max-prompts <n>", `prompts per /v1/completions request (default ${DEFAULT_LIMITS.maxPrompts})`)
    .option("--max-prompt-chars <n>", `characters of prompt text per generation request, checked before tokenising (default ${DEFAULT_LIMITS.maxPromptChars})`)
    .option("--max-generation-tokens <n>", `KV-cache positions per generation request: prompts × (longest prompt + max_tokens) (default ${DEFAULT_LIMITS.maxGenerationTokens})`)
    .option("--max-queue <n>", `inputs waiting or computing before requests get 429 (default ${DEFAULT_LIMITS.maxQueue})`)
    .option("--max-body-bytes <n>", `request body size limit, 413 beyond (default ${DEFAULT_LIMITS.maxBodyBytes})`)
    .option("--request-timeout-ms <n>", `per-request deadline, 504 beyond (default ${DEFAULT_LIMITS.requestTimeoutMs})`)
    .option("--body-timeout-ms <n>", `time to send the whole body, 408 beyond (default ${DEFAULT_LIMITS.bodyTimeoutMs})`)
    .option("--no-truncate", "refuse inputs over the length limits with 400 instead of cutting them")
    .option("--no-normalize", "return raw pooled vectors instead of unit-length ones")
    .addOption(new Option("--log", "log every request (pino JSON lines on stdout)"))
    .action(async (o: ServeCommandOptions, cmd: Command) => {
      // serveCommand reads the variable itself when the flag is absent, so that its errors name it.
      if (cmd.getOptionValueSource("apiKey") === "env") delete o.apiKey;
      const server = await serveCommand(o);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          process.stderr.write(`llm2vec serve: ${signal} again, exiting without finishing the queue\n`);
          process.exit(1);
        }
        stopping = true;
        process.stderr.write(`llm2vec serve: ${signal}: finishing queued requests, then exiting\n`);
        server.app.close().then(
          () => process.exit(0),
          (e: Error) => {
            process.stderr.write(`llm2vec serve: shutdown failed: ${e.message}\n`);
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    });
}
