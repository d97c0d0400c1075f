/**
 * Errors the server answers with, in OpenAI's body shape, or TEI's on TEI's routes. Every refusal
 * goes through ApiError so that the status, the body and the metrics label agree; anything else
 * that escapes a handler is a 500 "server_error" whose message is kept out of the reply (it is
 * logged instead).
 */
import type { BatchErrorFactory } from "../runtime/batcher.js";
import type { ErrorBody } from "./schema.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Errors in TEI's shape (`{error, error_type}`) rather than OpenAI's. */
    teiErrors?: boolean;
  }
}

/** TEI's error body; `error_type` is one of TEI's (validation, empty, tokenizer, overloaded, unhealthy, backend) or `unauthorized`. */
export interface TeiErrorBody {
  error: string;
  error_type: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    /** OpenAI's `code`: the machine-readable reason, also the `type` label of the error metric. */
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    /** OpenAI's `type`; derived from the status unless given. */
    readonly type: string = typeForStatus(statusCode),
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

function typeForStatus(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/**
 * An error as TEI answers it: an input over the length limits or a batch over the input limit is
 * 413 "validation", an empty batch 400 "empty"; other statuses stay ours, typed as TEI types them.
 */
export function teiError(err: ApiError): { status: number; body: TeiErrorBody } {
  const s = err.statusCode;
  if (err.code === "input_too_long" || err.code === "too_many_inputs") return { status: 413, body: { error: err.message, error_type: "validation" } };
  if (err.code === "empty_batch") return { status: 400, body: { error: err.message, error_type: "empty" } };
  const type = s === 401 ? "unauthorized" : s === 429 ? "overloaded" : s === 503 ? "unhealthy" : s >= 500 ? "backend" : "validation";
  return { status: s, body: { error: err.message, error_type: type } };
}

/** The batcher's refusals (queue full, a faulty row, a failed batch) as the server answers them. */
export const batchApiError: BatchErrorFactory = (status, code, message, headers = {}) => new ApiError(status, code, message, null, undefined, headers);

export const invalid = (message: string, param: string | null, code = "invalid_value") => new ApiError(400, code, message, param);

/** Fastify's own errors (body limit, content type, JSON) as ApiErrors with OpenAI's wording where it has one. */
export function fromFastifyError(err: { code?: string; statusCode?: number; message: string; validation?: unknown }): ApiError | null {
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError(413, "request_too_large", "The request body is larger than this server accepts (see GET /info, limits.max_body_bytes).");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError(415, "unsupported_media_type", "The request body must be JSON, sent with Content-Type: application/json.");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new ApiError(400, "invalid_json", "The request body is empty; expected a JSON object.");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new ApiError(400, "invalid_content_length", "The request body's length does not match its Content-Length header.");
  }
  return null;
}
